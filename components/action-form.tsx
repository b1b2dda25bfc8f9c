"use client";
import { startTransition, useActionState, useEffect, useRef, useState, type ReactNode } from "react";
import type { ActionResult } from "./action-result";
import { Alert } from "./ui";

type Action<T> = (prev: ActionResult<T>, form: FormData) => Promise<ActionResult<T>>;

export type FormState<T = void> = { error: (field: string) => string | undefined; pending: boolean; state: ActionResult<T> };

/**
 * A form bound to a server action: field errors by name, a form-level message when the error
 * names no field, and an optional confirmation before destructive submits. Submitted by hand
 * rather than through `<form action>` so a rejected save keeps what the person typed (React
 * resets uncontrolled fields after a form action); `resetOnSuccess` empties it after a success.
 * A field's server error disappears as soon as the person edits that field, and every message
 * disappears when the form is submitted again, so feedback always belongs to the last action.
 */
export function ActionForm<T = void>({
  action,
  label,
  confirmText,
  className,
  children,
  hideSuccess,
  resetOnSuccess,
  resetKey,
}: {
  action: Action<T>;
  label: string;
  confirmText?: string;
  className?: string;
  hideSuccess?: boolean;
  resetOnSuccess?: boolean;
  /** When this value changes (e.g. the thing the form edits was revoked), the form is emptied. */
  resetKey?: unknown;
  children: (f: FormState<T>) => ReactNode;
}) {
  const [state, formAction, pending] = useActionState<ActionResult<T>, FormData>(action, null);
  const [edited, setEdited] = useState<{ for: ActionResult<T>; fields: ReadonlySet<string> }>({ for: null, fields: new Set() });
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state?.ok && resetOnSuccess) formRef.current?.reset();
  }, [state, resetOnSuccess]);
  // Only a change empties the form: resetting on mount would drop prefilled values.
  const lastResetKey = useRef(resetKey);
  useEffect(() => {
    if (Object.is(lastResetKey.current, resetKey)) return;
    lastResetKey.current = resetKey;
    formRef.current?.reset();
  }, [resetKey]);
  const stale = (field: string) => edited.for === state && edited.fields.has(field);
  const fields = state && !state.ok && !pending ? (state.fields ?? {}) : {};
  const error = (field: string) => (stale(field) ? undefined : fields[field]);
  const unnamed = state && !state.ok && !pending && Object.keys(state.fields ?? {}).length === 0;
  return (
    <form
      ref={formRef}
      aria-label={label}
      className={className}
      onInput={(e) => {
        const name = (e.target as HTMLInputElement).name;
        if (!name || !state || state.ok) return;
        setEdited((prev) => ({ for: state, fields: new Set([...(prev.for === state ? prev.fields : []), name]) }));
      }}
      onSubmit={(e) => {
        e.preventDefault();
        if (confirmText && !window.confirm(confirmText)) return;
        const data = new FormData(e.currentTarget);
        startTransition(() => formAction(data));
      }}
    >
      {children({ error, pending, state })}
      {unnamed && (
        <div className="mt-2" role="alert">
          <Alert>{state.error}</Alert>
        </div>
      )}
      {state?.ok && state.message && !hideSuccess && !pending && (
        <div className="mt-2" role="status">
          <Alert tone="green">{state.message}</Alert>
        </div>
      )}
    </form>
  );
}

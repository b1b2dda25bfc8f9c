"use client";
import { startTransition, useActionState, type ReactNode } from "react";
import type { ActionResult } from "./action-result";
import { Alert } from "./ui";

type Action<T> = (prev: ActionResult<T>, form: FormData) => Promise<ActionResult<T>>;

export type FormState<T = void> = { error: (field: string) => string | undefined; pending: boolean; state: ActionResult<T> };

/**
 * A form bound to a server action: field errors by name, a form-level message when the error
 * names no field, and an optional confirmation before destructive submits. Submitted by hand
 * rather than through `<form action>` so a rejected save keeps what the person typed (React
 * resets uncontrolled fields after a form action).
 */
export function ActionForm<T = void>({ action, label, confirmText, className, children, hideSuccess }: { action: Action<T>; label: string; confirmText?: string; className?: string; hideSuccess?: boolean; children: (f: FormState<T>) => ReactNode }) {
  const [state, formAction, pending] = useActionState<ActionResult<T>, FormData>(action, null);
  const fields = state && !state.ok ? (state.fields ?? {}) : {};
  const error = (field: string) => fields[field];
  const unnamed = state && !state.ok && Object.keys(fields).length === 0;
  return (
    <form
      aria-label={label}
      className={className}
      onSubmit={(e) => {
        e.preventDefault();
        if (confirmText && !window.confirm(confirmText)) return;
        const data = new FormData(e.currentTarget);
        startTransition(() => formAction(data));
      }}
    >
      {children({ error, pending, state })}
      {unnamed && (
        <div className="mt-2">
          <Alert>{state.error}</Alert>
        </div>
      )}
      {state?.ok && state.message && !hideSuccess && (
        <div className="mt-2">
          <Alert tone="green">{state.message}</Alert>
        </div>
      )}
    </form>
  );
}

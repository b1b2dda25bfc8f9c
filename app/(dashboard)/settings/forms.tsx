"use client";
import { useActionState } from "react";
import type { ActionResult } from "@/app/action-result";
import { Alert, Button, Field, Input, Select } from "@/components/ui";
import { addUserAction, createApiKeyAction, revokeApiKeyAction } from "./actions";

function fieldError(state: ActionResult<unknown>, name: string): string | undefined {
  return state && !state.ok ? state.fields?.[name] : undefined;
}

function FormMessage({ state }: { state: ActionResult<unknown> }) {
  if (!state) return null;
  if (state.ok) return state.message ? <Alert tone="green">{state.message}</Alert> : null;
  return Object.keys(state.fields ?? {}).length ? null : <Alert>{state.error}</Alert>;
}

export function AddUserForm() {
  const [state, action, pending] = useActionState<ActionResult, FormData>(addUserAction, null);
  return (
    <form action={action} className="grid grid-cols-[1fr_9rem_1fr_auto] items-start gap-3" aria-label="Add user">
      <Field label="Email" htmlFor="user-email" error={fieldError(state, "email")}>
        <Input id="user-email" name="email" type="email" required aria-invalid={!!fieldError(state, "email")} />
      </Field>
      <Field label="Role" htmlFor="user-role" error={fieldError(state, "role")}>
        <Select id="user-role" name="role" defaultValue="auditor">
          <option value="auditor">Auditor</option>
          <option value="owner">Owner</option>
        </Select>
      </Field>
      <Field label="Initial password" htmlFor="user-password" error={fieldError(state, "password")} hint="12+ characters; share it out of band.">
        <Input id="user-password" name="password" type="password" autoComplete="new-password" required aria-invalid={!!fieldError(state, "password")} />
      </Field>
      <div className="pt-5">
        <Button type="submit" disabled={pending}>
          Add user
        </Button>
      </div>
      <div className="col-span-4">
        <FormMessage state={state} />
      </div>
    </form>
  );
}

export function CreateApiKeyForm() {
  const [state, action, pending] = useActionState<ActionResult<{ key: string; name: string }>, FormData>(createApiKeyAction, null);
  return (
    <div className="space-y-3">
      <form action={action} className="grid grid-cols-[1fr_10rem_auto] items-start gap-3" aria-label="Create API key">
        <Field label="Name" htmlFor="key-name" error={fieldError(state, "name")}>
          <Input id="key-name" name="name" placeholder="orchestrator-prod" required aria-invalid={!!fieldError(state, "name")} />
        </Field>
        <Field label="Role" htmlFor="key-role" error={fieldError(state, "role")}>
          <Select id="key-role" name="role" defaultValue="orchestrator">
            <option value="orchestrator">Orchestrator</option>
            <option value="auditor">Auditor</option>
            <option value="owner">Owner</option>
          </Select>
        </Field>
        <div className="pt-5">
          <Button type="submit" disabled={pending}>
            Create key
          </Button>
        </div>
      </form>
      {state?.ok && state.data ? (
        <Alert tone="amber">
          <p className="mb-1 font-medium">Copy the key for “{state.data.name}” now: it will not be shown again.</p>
          <code className="block select-all break-all rounded bg-white px-2 py-1 font-mono text-xs ring-1 ring-amber-200" data-testid="new-api-key">
            {state.data.key}
          </code>
        </Alert>
      ) : (
        <FormMessage state={state} />
      )}
    </div>
  );
}

export function RevokeApiKeyButton({ id, name }: { id: string; name: string }) {
  const [state, action, pending] = useActionState<ActionResult, FormData>(revokeApiKeyAction, null);
  return (
    <form
      action={action}
      onSubmit={(e) => {
        if (!confirm(`Revoke API key “${name}”? Callers using it fail at once.`)) e.preventDefault();
      }}
    >
      <input type="hidden" name="id" value={id} />
      <Button variant="danger" type="submit" disabled={pending} aria-label={`Revoke ${name}`}>
        Revoke
      </Button>
      {state && !state.ok && <span className="ml-2 text-xs text-red-700">{state.error}</span>}
    </form>
  );
}

"use client";
import { useActionState } from "react";
import { Alert, Button, Field, Input } from "@/components/ui";
import { completeSetupAction, type SetupState } from "./actions";

export function SetupForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState<SetupState, FormData>(completeSetupAction, {});
  return (
    <form action={action} className="space-y-4">
      {state.error && !state.fields?.email && !state.fields?.password && <Alert>{state.error}</Alert>}
      <input type="hidden" name="token" value={token} />
      <Field label="Email" htmlFor="email" error={state.fields?.email}>
        <Input id="email" name="email" type="email" autoComplete="username" required aria-invalid={!!state.fields?.email} />
      </Field>
      <Field label="Password" htmlFor="password" error={state.fields?.password} hint="At least 12 characters.">
        <Input id="password" name="password" type="password" autoComplete="new-password" required aria-invalid={!!state.fields?.password} />
      </Field>
      <Button type="submit" className="w-full" disabled={pending}>
        Create Owner account
      </Button>
    </form>
  );
}

"use client";
import { ActionForm } from "@/components/action-form";
import { Button, Field, Input } from "@/components/ui";
import { completeSetupAction } from "./actions";

export function SetupForm({ token }: { token: string }) {
  return (
    <ActionForm action={completeSetupAction} label="Create the first Owner" className="space-y-4">
      {({ error, pending }) => (
        <>
          <input type="hidden" name="token" value={token} />
          <Field label="Email" htmlFor="email" error={error("email")}>
            <Input id="email" name="email" type="email" autoComplete="username" required aria-invalid={!!error("email")} />
          </Field>
          <Field label="Password" htmlFor="password" error={error("password")} hint="At least 12 characters.">
            <Input id="password" name="password" type="password" autoComplete="new-password" required aria-invalid={!!error("password")} />
          </Field>
          <Button type="submit" className="w-full" disabled={pending}>
            Create Owner account
          </Button>
        </>
      )}
    </ActionForm>
  );
}

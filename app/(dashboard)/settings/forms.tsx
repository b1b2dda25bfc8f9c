"use client";
import { ActionButton } from "@/components/action-button";
import { ActionForm } from "@/components/action-form";
import { Alert, Button, Field, Input, Select } from "@/components/ui";
import { addUserAction, createApiKeyAction, revokeApiKeyAction, unlockUserAction } from "./actions";

export function AddUserForm() {
  return (
    <ActionForm action={addUserAction} label="Add user" className="grid grid-cols-[1fr_9rem_1fr_auto] items-start gap-3">
      {({ error, pending }) => (
        <>
          <Field label="Email" htmlFor="user-email" error={error("email")}>
            <Input id="user-email" name="email" type="email" required aria-invalid={!!error("email")} />
          </Field>
          <Field label="Role" htmlFor="user-role" error={error("role")}>
            <Select id="user-role" name="role" defaultValue="auditor">
              <option value="auditor">Auditor</option>
              <option value="owner">Owner</option>
            </Select>
          </Field>
          <Field label="Initial password" htmlFor="user-password" error={error("password")} hint="12+ characters; share it out of band.">
            <Input id="user-password" name="password" type="password" autoComplete="new-password" required aria-invalid={!!error("password")} />
          </Field>
          <div className="pt-5">
            <Button type="submit" disabled={pending}>
              Add user
            </Button>
          </div>
        </>
      )}
    </ActionForm>
  );
}

export function CreateApiKeyForm() {
  return (
    <ActionForm action={createApiKeyAction} label="Create API key" className="space-y-3" hideSuccess>
      {({ error, pending, state }) => {
        const created = state?.ok ? state.data : undefined;
        return (
          <>
            <div className="grid grid-cols-[1fr_10rem_auto] items-start gap-3">
              <Field label="Name" htmlFor="key-name" error={error("name")}>
                <Input id="key-name" name="name" placeholder="orchestrator-prod" required aria-invalid={!!error("name")} />
              </Field>
              <Field label="Role" htmlFor="key-role" error={error("role")}>
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
            </div>
            {created && (
              <Alert tone="amber">
                <p className="mb-1 font-medium">Copy the key for “{created.name}” now: it will not be shown again.</p>
                <code className="block select-all break-all rounded bg-white px-2 py-1 font-mono text-xs ring-1 ring-amber-200" data-testid="new-api-key">
                  {created.key}
                </code>
              </Alert>
            )}
          </>
        );
      }}
    </ActionForm>
  );
}

export function RevokeApiKeyButton({ id, name }: { id: string; name: string }) {
  return (
    <ActionButton action={revokeApiKeyAction} label={`Revoke ${name}`} fields={{ id }} confirmText={`Revoke API key “${name}”? Callers using it fail at once.`}>
      Revoke
    </ActionButton>
  );
}

export function UnlockUserButton({ email }: { email: string }) {
  return (
    <ActionButton action={unlockUserAction} label={`Unlock ${email}`} fields={{ email }} variant="secondary">
      Unlock
    </ActionButton>
  );
}

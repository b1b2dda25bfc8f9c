"use client";
import { ActionButton } from "@/components/action-button";
import { ActionForm } from "@/components/action-form";
import { CopyButton } from "@/components/copy-button";
import { Alert, Button, Field, Input, Select } from "@/components/ui";
import {
  addUserAction,
  createApiKeyAction,
  removeUserAction,
  revokeApiKeyAction,
  setUserPasswordAction,
  setUserRoleAction,
  unlockUserAction,
} from "./actions";

export function AddUserForm() {
  return (
    <ActionForm
      action={addUserAction}
      label="Add user"
      resetOnSuccess
      className="grid grid-cols-1 items-start gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_9rem_1fr_auto]"
    >
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
            <Input
              id="user-password"
              name="password"
              type="password"
              autoComplete="new-password"
              required
              aria-invalid={!!error("password")}
            />
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
    <ActionForm action={createApiKeyAction} label="Create API key" className="space-y-3" hideSuccess resetOnSuccess>
      {({ error, pending, state }) => {
        const created = state?.ok ? state.data : undefined;
        return (
          <>
            <div className="grid grid-cols-1 items-start gap-3 sm:grid-cols-[1fr_10rem_auto]">
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
                <code
                  className="block select-all break-all rounded bg-white px-2 py-1 font-mono text-xs ring-1 ring-amber-200"
                  data-testid="new-api-key"
                >
                  {created.key}
                </code>
                <div className="mt-2">
                  <CopyButton value={created.key} label={`Copy the key for ${created.name}`} />
                </div>
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
    <ActionButton
      action={revokeApiKeyAction}
      label={`Revoke ${name}`}
      fields={{ id }}
      confirmText={`Revoke API key “${name}”? Callers using it fail at once.`}
    >
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

/** The verbs an Owner has on one user: change role, reset password, remove (confirmed). */
export function ManageUserForms({ email, role }: { email: string; role: "owner" | "auditor" }) {
  return (
    <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
      <ActionForm action={setUserRoleAction} label={`Change role of ${email}`} className="space-y-2">
        {({ error, pending }) => (
          <>
            <input type="hidden" name="email" value={email} />
            <Field label="Role" htmlFor="manage-role" error={error("role")}>
              <Select id="manage-role" name="role" defaultValue={role} aria-invalid={!!error("role")}>
                <option value="auditor">Auditor</option>
                <option value="owner">Owner</option>
              </Select>
            </Field>
            <Button type="submit" variant="secondary" disabled={pending}>
              Change role
            </Button>
          </>
        )}
      </ActionForm>
      <ActionForm action={setUserPasswordAction} label={`Reset password of ${email}`} className="space-y-2" resetOnSuccess>
        {({ error, pending }) => (
          <>
            <input type="hidden" name="email" value={email} />
            <Field label="New password" htmlFor="manage-password" error={error("password")} hint="12+ characters; share it out of band.">
              <Input
                id="manage-password"
                name="password"
                type="password"
                autoComplete="new-password"
                required
                aria-invalid={!!error("password")}
              />
            </Field>
            <Button type="submit" variant="secondary" disabled={pending}>
              Reset password
            </Button>
          </>
        )}
      </ActionForm>
      <ActionForm
        action={removeUserAction}
        label={`Remove ${email}`}
        className="space-y-2"
        confirmText={`Remove ${email}? They are signed out at once and can no longer sign in.`}
      >
        {({ error, pending }) => (
          <>
            <input type="hidden" name="email" value={email} />
            <p className="text-xs text-slate-600">Removes the account; the audit log keeps what they did.</p>
            {error("email") && (
              <p className="text-xs text-red-700" data-field-error="remove-email">
                {error("email")}
              </p>
            )}
            <Button type="submit" variant="danger" disabled={pending}>
              Remove user
            </Button>
          </>
        )}
      </ActionForm>
    </div>
  );
}

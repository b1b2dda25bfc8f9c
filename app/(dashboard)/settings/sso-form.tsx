"use client";
import { ActionForm } from "@/components/action-form";
import { Button, Field, Input } from "@/components/ui";
import type { OidcSettingsView } from "@/lib/services/sso/update-oidc-settings";
import { setPasswordSignInAction, setTotpRequiredAction, updateOidcSettingsAction } from "./sso-actions";

export function OidcSettingsForm({ view }: { view: OidcSettingsView }) {
  const readOnly = view.source === "env";
  return (
    <ActionForm action={updateOidcSettingsAction} label="Identity provider" className="grid grid-cols-2 items-start gap-3">
      {({ error, pending }) => (
        <>
          <Field label="Button text" htmlFor="oidc-name" error={error("name")} hint={'Shown as "Sign in with …".'}>
            <Input id="oidc-name" name="name" defaultValue={view.name} placeholder="Okta" readOnly={readOnly} required />
          </Field>
          <Field label="Issuer URL" htmlFor="oidc-issuer" error={error("issuer")}>
            <Input
              id="oidc-issuer"
              name="issuer"
              defaultValue={view.issuer}
              placeholder="https://idp.example.com"
              readOnly={readOnly}
              required
            />
          </Field>
          <Field label="Client ID" htmlFor="oidc-client-id" error={error("clientId")}>
            <Input id="oidc-client-id" name="clientId" defaultValue={view.clientId} readOnly={readOnly} required />
          </Field>
          <Field
            label="Client secret"
            htmlFor="oidc-client-secret"
            error={error("clientSecret")}
            hint={view.clientSecretSet ? "Set (write-only). Leave empty to keep it." : "Sealed by the vault; never shown again."}
          >
            <Input id="oidc-client-secret" name="clientSecret" type="password" autoComplete="off" readOnly={readOnly} />
          </Field>
          <Field
            label="Groups claim"
            htmlFor="oidc-role-claim"
            error={error("roleClaim")}
            hint="The ID token claim listing the person's groups."
          >
            <Input id="oidc-role-claim" name="roleClaim" defaultValue={view.roleClaim} readOnly={readOnly} />
          </Field>
          <div />
          <Field label="Owner groups" htmlFor="oidc-owner-groups" error={error("ownerGroups")} hint="Comma-separated, exact names.">
            <Input id="oidc-owner-groups" name="ownerGroups" defaultValue={view.ownerGroups.join(", ")} readOnly={readOnly} />
          </Field>
          <Field label="Auditor groups" htmlFor="oidc-auditor-groups" error={error("auditorGroups")} hint="Anyone in neither is refused.">
            <Input id="oidc-auditor-groups" name="auditorGroups" defaultValue={view.auditorGroups.join(", ")} readOnly={readOnly} />
          </Field>
          {!readOnly && (
            <div>
              <Button type="submit" disabled={pending}>
                Save identity provider
              </Button>
            </div>
          )}
        </>
      )}
    </ActionForm>
  );
}

export function PasswordSignInForm({ enabled }: { enabled: boolean }) {
  return (
    <ActionForm
      action={setPasswordSignInAction}
      label="Password sign-in"
      confirmText={
        enabled
          ? "Turn password sign-in off? Only the IdP will sign people in; `npx gatehouse auth password --enable` turns it back on."
          : undefined
      }
    >
      {({ pending }) => (
        <div className="flex items-center gap-3 text-sm">
          <input type="hidden" name="enabled" value={enabled ? "false" : "true"} />
          <span>Password sign-in is {enabled ? "on" : "off"}.</span>
          <Button type="submit" variant={enabled ? "danger" : "secondary"} disabled={pending}>
            {enabled ? "Turn password sign-in off" : "Turn password sign-in on"}
          </Button>
        </div>
      )}
    </ActionForm>
  );
}

export function TotpRequiredForm({ required }: { required: boolean }) {
  return (
    <ActionForm action={setTotpRequiredAction} label="Second factor for Owners">
      {({ pending }) => (
        <div className="flex items-center gap-3 text-sm">
          <input type="hidden" name="required" value={required ? "false" : "true"} />
          <span>Owners who sign in with a password {required ? "must" : "need not"} use a second factor.</span>
          <Button type="submit" variant="secondary" disabled={pending}>
            {required ? "Stop requiring it" : "Require it for Owners"}
          </Button>
        </div>
      )}
    </ActionForm>
  );
}

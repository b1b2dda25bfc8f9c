"use client";
// Client forms for bundles; every one posts to a server action that re-checks the role.
import { ActionButton } from "@/components/action-button";
import { ActionForm } from "@/components/action-form";
import { HostPatternInput, HostPatternList } from "@/components/host-pattern-input";
import { LiveImpactPreview, PreviewedActionButton } from "@/components/impact-preview";
import { ScopeFields, type ScopeValue } from "@/components/scope-fields";
import { Button, Field, Input } from "@/components/ui";
import {
  addDomainAction,
  createBundleAction,
  deleteBundleAction,
  deleteConnectionAction,
  removeDomainAction,
  replaceCredentialAction,
  revokeCredentialAction,
  setOrgDenyAction,
  updateBundleScopeAction,
} from "./actions";
import {
  previewAddDomain,
  previewBundleScope,
  previewCreateBundle,
  previewDeleteBundle,
  previewDeleteConnection,
  previewOrgDeny,
  previewRemoveDomain,
} from "./preview-actions";

const named = (key: string) => (data: FormData) => String(data.get(key) ?? "").trim() !== "";

export function CreateBundleForm() {
  return (
    <ActionForm action={createBundleAction} label="Create bundle" className="space-y-3">
      {({ error, pending }) => (
        <>
          <Field label="Bundle name" htmlFor="bundle-name" error={error("name")}>
            <Input id="bundle-name" name="name" placeholder="platform-team" aria-invalid={!!error("name")} />
          </Field>
          <ScopeFields error={error} />
          <LiveImpactPreview preview={previewCreateBundle} ready={named("name")} />
          <Button type="submit" disabled={pending}>
            Create bundle
          </Button>
        </>
      )}
    </ActionForm>
  );
}

export function OrgDenyForm({ patterns, readOnly }: { patterns: string[]; readOnly: boolean }) {
  if (readOnly) {
    return patterns.length ? (
      <ul className="space-y-1 font-mono text-xs">
        {patterns.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    ) : (
      <p className="text-sm text-slate-600">Nothing is denied organization-wide.</p>
    );
  }
  return (
    <ActionForm action={setOrgDenyAction} label="Org-wide deny list" className="space-y-3">
      {({ error, pending }) => (
        <>
          <Field label="Denied host patterns (one per line)" htmlFor="orgDeny" hint="No bundle can allow these, in any scope.">
            <HostPatternList
              id="orgDeny"
              name="orgDeny"
              defaultValue={patterns}
              serverError={error("orgDeny")}
              placeholder="*.pastebin.com"
            />
          </Field>
          <LiveImpactPreview preview={previewOrgDeny} />
          <Button type="submit" disabled={pending}>
            Save deny list
          </Button>
        </>
      )}
    </ActionForm>
  );
}

export function ScopeForm({ bundle, scope }: { bundle: string; scope: ScopeValue }) {
  return (
    <ActionForm action={updateBundleScopeAction} label="Bundle scope" className="space-y-3">
      {({ error, pending }) => (
        <>
          <input type="hidden" name="bundle" value={bundle} />
          <ScopeFields initial={scope} error={error} />
          <LiveImpactPreview preview={previewBundleScope} />
          <Button type="submit" disabled={pending}>
            Save scope
          </Button>
        </>
      )}
    </ActionForm>
  );
}

export function DeleteBundleForm({ bundle }: { bundle: string }) {
  return (
    <PreviewedActionButton
      action={deleteBundleAction}
      preview={previewDeleteBundle}
      label="Delete bundle"
      fields={{ bundle }}
      question={`Delete bundle ${bundle}? Its connections and their credentials are removed at once.`}
      confirmLabel="Delete bundle"
      variant="danger"
    >
      Delete bundle
    </PreviewedActionButton>
  );
}

export function AddDomainForm({ bundle, prefill }: { bundle: string; prefill?: string }) {
  return (
    <ActionForm action={addDomainAction} label="Add domain" resetOnSuccess className="flex flex-wrap items-start gap-2">
      {({ error, pending }) => (
        <>
          <input type="hidden" name="bundle" value={bundle} />
          <div className="w-full sm:w-80">
            <HostPatternInput
              id="pattern"
              name="pattern"
              defaultValue={prefill}
              serverError={error("pattern")}
              placeholder="registry.npmjs.org or *.pypi.org"
            />
          </div>
          <Button type="submit" disabled={pending}>
            Add domain
          </Button>
          <LiveImpactPreview
            preview={previewAddDomain}
            ready={named("pattern")}
            prefilled={!!prefill}
            denyConfirm="Add it anyway: it has no effect while the deny entry stays"
          />
        </>
      )}
    </ActionForm>
  );
}

export function RemoveDomainButton({ bundle, pattern }: { bundle: string; pattern: string }) {
  return (
    <PreviewedActionButton
      action={removeDomainAction}
      preview={previewRemoveDomain}
      label={`Remove ${pattern}`}
      fields={{ bundle, pattern }}
      variant="ghost"
      question={`Remove ${pattern} from this bundle's Domains tab? Sandboxes in its scope can no longer reach it without a credential.`}
      confirmLabel="Remove"
    >
      Remove
    </PreviewedActionButton>
  );
}

/** After a revoke the connection has no credential, so "saved" from an earlier set is no longer shown. */
export function ReplaceCredentialForm({
  bundle,
  connection,
  hasCredential,
}: {
  bundle: string;
  connection: string;
  hasCredential: boolean;
}) {
  return (
    <ActionForm
      action={replaceCredentialAction}
      label={`${hasCredential ? "Replace" : "Set"} credential of ${connection}`}
      resetOnSuccess
      resetKey={hasCredential}
      hideSuccess={!hasCredential}
      className="flex flex-wrap items-start gap-2"
    >
      {({ error, pending }) => (
        <>
          <input type="hidden" name="bundle" value={bundle} />
          <input type="hidden" name="connection" value={connection} />
          <div className="w-full sm:w-72">
            <Input
              name="secret"
              type="password"
              autoComplete="off"
              placeholder={hasCredential ? "New credential" : "Credential"}
              aria-label={`${hasCredential ? "New credential" : "Credential"} for ${connection}`}
              aria-invalid={!!error("secret")}
            />
            {error("secret") && <p className="mt-1 text-xs text-red-700">{error("secret")}</p>}
          </div>
          <Button variant="secondary" type="submit" disabled={pending}>
            {hasCredential ? "Replace credential" : "Set credential"}
          </Button>
        </>
      )}
    </ActionForm>
  );
}

export function RevokeCredentialButton({ bundle, connection }: { bundle: string; connection: string }) {
  return (
    <ActionButton
      action={revokeCredentialAction}
      label={`Revoke credential of ${connection}`}
      fields={{ bundle, connection }}
      confirmText={`Revoke the credential of ${connection}? The proxy stops attaching it on the next request.`}
    >
      Revoke credential
    </ActionButton>
  );
}

export function DeleteConnectionButton({ bundle, connection }: { bundle: string; connection: string }) {
  return (
    <PreviewedActionButton
      action={deleteConnectionAction}
      preview={previewDeleteConnection}
      label={`Delete connection ${connection}`}
      fields={{ bundle, connection }}
      question={`Delete connection ${connection} and its credential?`}
      confirmLabel="Delete connection"
      variant="ghost"
    >
      Delete
    </PreviewedActionButton>
  );
}

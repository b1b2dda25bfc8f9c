"use client";
import { useState } from "react";
import { ActionForm } from "@/components/action-form";
import { HostPatternList } from "@/components/host-pattern-input";
import { LiveImpactPreview } from "@/components/impact-preview";
import { Button, Field, Input, Select } from "@/components/ui";
import { GrantDurationFields } from "@/components/grant-duration-fields";
import { saveConnectionAction } from "../../actions";
import { previewSaveConnection } from "../../preview-actions";

export type ConnectionFormValue = {
  name: string;
  serviceAccount: string;
  inject: { type: "bearer" } | { type: "basic"; username: string } | { type: "header"; name: string };
  allowedWebsites: string[];
  narrow?: { host?: string; pathPrefix?: string; methods?: "read_only" };
};

export function ConnectionForm({ bundle, initial }: { bundle: string; initial?: ConnectionFormValue }) {
  const editing = !!initial;
  const [injectType, setInjectType] = useState(initial?.inject.type ?? "bearer");
  const injectName =
    initial?.inject.type === "basic" ? initial.inject.username : initial?.inject.type === "header" ? initial.inject.name : "";
  return (
    <ActionForm action={saveConnectionAction} label="Connection" className="space-y-5">
      {({ error, pending }) => (
        <>
          <input type="hidden" name="bundle" value={bundle} />
          {editing && <input type="hidden" name="existing" value={initial.name} />}
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
            <Field
              label="Service name"
              htmlFor="name"
              error={error("name")}
              hint={
                editing ? "The name binds the credential and cannot change." : "Same name as a wider-scope connection overrides it here."
              }
            >
              <Input
                id="name"
                name="name"
                defaultValue={initial?.name}
                disabled={editing}
                placeholder="github"
                aria-invalid={!!error("name")}
              />
            </Field>
            <Field
              label="Service account"
              htmlFor="serviceAccount"
              error={error("serviceAccount")}
              hint="A dedicated account for the agent, e.g. claude-agent@acme.example. Never a person's own login: the agent would act as them."
            >
              <Input
                id="serviceAccount"
                name="serviceAccount"
                defaultValue={initial?.serviceAccount}
                placeholder="claude-agent@acme.example"
                aria-invalid={!!error("serviceAccount")}
              />
            </Field>
          </div>
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
            <Field label="How the credential is attached" htmlFor="injectType" error={error("inject.type")}>
              <Select
                id="injectType"
                name="injectType"
                value={injectType}
                onChange={(e) => setInjectType(e.target.value as typeof injectType)}
              >
                <option value="bearer">Authorization: Bearer &lt;credential&gt;</option>
                <option value="basic">Basic auth (username + credential as password)</option>
                <option value="header">Custom header</option>
              </Select>
            </Field>
            {injectType !== "bearer" && (
              <Field
                label={injectType === "basic" ? "Username" : "Header name"}
                htmlFor="injectName"
                error={error("inject.username") ?? error("inject.name")}
              >
                <Input
                  id="injectName"
                  name="injectName"
                  defaultValue={injectName}
                  placeholder={injectType === "basic" ? "x-access-token" : "X-Api-Key"}
                  aria-invalid={!!(error("inject.username") ?? error("inject.name"))}
                />
              </Field>
            )}
          </div>
          <Field
            label="Allowed websites (one host pattern per line)"
            htmlFor="allowedWebsites"
            hint="The credential travels only to these hosts. *.example.com matches subdomains at any depth, never example.com itself; add :port for a non-default port."
          >
            <HostPatternList
              id="allowedWebsites"
              name="allowedWebsites"
              defaultValue={initial?.allowedWebsites}
              serverError={error("allowedWebsites") ?? error("allowedWebsites.0")}
              placeholder={"api.github.com\nuploads.github.com"}
            />
          </Field>
          <fieldset className="rounded-md border border-slate-200 p-4">
            <legend className="px-1 text-xs font-medium text-slate-700">Narrowing (optional): when the credential may travel</legend>
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
              <Field
                label="Only to host"
                htmlFor="narrowHost"
                error={error("narrow.host")}
                hint="One of the Allowed websites; host:port is fine."
              >
                <Input
                  id="narrowHost"
                  name="narrowHost"
                  defaultValue={initial?.narrow?.host}
                  placeholder="api.github.com"
                  aria-invalid={!!error("narrow.host")}
                />
              </Field>
              <Field label="Only under path prefix" htmlFor="narrowPathPrefix" error={error("narrow.pathPrefix")}>
                <Input
                  id="narrowPathPrefix"
                  name="narrowPathPrefix"
                  defaultValue={initial?.narrow?.pathPrefix}
                  placeholder="/repos/acme"
                  aria-invalid={!!error("narrow.pathPrefix")}
                />
              </Field>
              <label className="flex items-center gap-2 pt-5 text-sm">
                <input
                  type="checkbox"
                  name="narrowReadOnly"
                  defaultChecked={initial?.narrow?.methods === "read_only"}
                  className="h-4 w-4 rounded border-slate-300"
                />
                Read-only methods (GET, HEAD, OPTIONS)
              </label>
            </div>
            <p className="mt-2 text-xs text-slate-600">
              A request outside the narrowing still reaches an Allowed website, without the credential.
            </p>
          </fieldset>
          {!editing && (
            <Field
              label="Credential"
              htmlFor="secret"
              error={error("secret")}
              hint="Write-only: once saved it is never shown again, anywhere. You can replace or revoke it later."
            >
              <Input id="secret" name="secret" type="password" autoComplete="off" aria-invalid={!!error("secret")} />
            </Field>
          )}
          {!editing && (
            <div className="flex flex-wrap gap-3">
              <GrantDurationFields id="connection-grant" label="Granted for" error={error} lasting defaultValue="" />
            </div>
          )}
          <LiveImpactPreview
            preview={previewSaveConnection}
            ready={(d) => String(d.get("allowedWebsites") ?? "").trim() !== ""}
            denyConfirm="Save it anyway: those websites have no effect while the deny entry stays"
          />
          <div className="flex gap-2">
            <Button type="submit" disabled={pending}>
              {editing ? "Save connection" : "Create connection"}
            </Button>
          </div>
        </>
      )}
    </ActionForm>
  );
}

"use client";
// Forms for time-bound grants and report-only windows; each posts to a server action that
// re-checks the role.
import { useState } from "react";
import { ActionButton } from "@/components/action-button";
import { ActionForm } from "@/components/action-form";
import { GrantDurationFields } from "@/components/grant-duration-fields";
import { HostPatternInput } from "@/components/host-pattern-input";
import { Button, Field, Input, Select } from "@/components/ui";
import { endReportOnlyAction, extendGrantAction, grantHostAction, revokeGrantAction, setReportOnlyAction } from "./actions";

/** Grants a host for a bounded time: to one bundle's Domains tab, or to a channel or a workspace. */
export function GrantHostForm({
  host,
  bundle,
  workspace,
  channel,
}: {
  host?: string;
  bundle?: string;
  workspace?: string;
  channel?: string;
}) {
  const [to, setTo] = useState(bundle ? "bundle" : channel || !workspace ? "channel" : "workspace");
  return (
    <ActionForm action={grantHostAction} label="Grant for a time" resetOnSuccess={!host} className="flex flex-wrap items-end gap-3">
      {({ error, pending }) => (
        <>
          <div className="w-full sm:w-80">
            <Field label="Host" htmlFor="grant-pattern" error={undefined}>
              <HostPatternInput
                id="grant-pattern"
                name="pattern"
                defaultValue={host}
                serverError={error("pattern")}
                placeholder="api.example.com"
              />
            </Field>
          </div>
          {bundle ? (
            <>
              <input type="hidden" name="to" value="bundle" />
              <input type="hidden" name="bundle" value={bundle} />
            </>
          ) : (
            <>
              <Field label="To" htmlFor="grant-to">
                <Select id="grant-to" name="to" value={to} onChange={(e) => setTo(e.target.value)}>
                  <option value="channel">a channel</option>
                  <option value="workspace">a whole workspace</option>
                </Select>
              </Field>
              <Field label="Workspace" htmlFor="grant-workspace" error={error("workspace")}>
                <Input id="grant-workspace" name="workspace" defaultValue={workspace} placeholder="T0ACME" className="w-32" />
              </Field>
              {to === "channel" && (
                <Field label="Channel" htmlFor="grant-channel" error={error("channel")}>
                  <Input id="grant-channel" name="channel" defaultValue={channel} placeholder="C0ENG" className="w-32" />
                </Field>
              )}
            </>
          )}
          <GrantDurationFields id="grant" error={error} />
          <Button type="submit" disabled={pending}>
            Grant
          </Button>
        </>
      )}
    </ActionForm>
  );
}

/** Extend (from now) or revoke one time-bound entry. */
export function GrantControls({ bundle, kind, name }: { bundle: string; kind: "domain" | "connection"; name: string }) {
  return (
    <div className="flex flex-wrap items-end justify-end gap-2">
      <ActionForm action={extendGrantAction} label={`Extend ${name}`} className="flex items-end gap-2" hideSuccess>
        {({ error, pending }) => (
          <>
            <input type="hidden" name="bundle" value={bundle} />
            <input type="hidden" name="kind" value={kind} />
            <input type="hidden" name="name" value={name} />
            <GrantDurationFields id={`extend-${kind}-${name}`} label="Extend to" error={error} defaultValue="1d" />
            <Button variant="secondary" type="submit" disabled={pending} aria-label={`Extend ${name}`}>
              Extend
            </Button>
          </>
        )}
      </ActionForm>
      <ActionButton
        action={revokeGrantAction}
        label={`Revoke ${name}`}
        fields={{ bundle, kind, name }}
        variant="ghost"
        confirmText={`End the grant of ${name} now?${kind === "connection" ? " The connection and its credential are removed." : ""}`}
      >
        Revoke
      </ActionButton>
    </div>
  );
}

/** Report-only rollout for a workspace or one channel, at most 7 days. */
export function ReportOnlyForm({ workspace, channel }: { workspace?: string; channel?: string }) {
  return (
    <ActionForm action={setReportOnlyAction} label="Report-only mode" className="flex flex-wrap items-end gap-3">
      {({ error, pending }) => (
        <>
          <Field label="Workspace" htmlFor="ro-workspace" error={error("workspace")}>
            <Input id="ro-workspace" name="workspace" defaultValue={workspace} placeholder="T0ACME" className="w-32" />
          </Field>
          <Field label="Channel (empty: the whole workspace)" htmlFor="ro-channel" error={error("channel")}>
            <Input id="ro-channel" name="channel" defaultValue={channel} placeholder="C0ENG" className="w-32" />
          </Field>
          <GrantDurationFields id="ro" error={error} defaultValue="1d" />
          <Button type="submit" disabled={pending}>
            Start report-only
          </Button>
        </>
      )}
    </ActionForm>
  );
}

export function EndReportOnlyButton({ workspace, channel }: { workspace: string; channel?: string }) {
  const what = channel ? `${workspace}/${channel}` : workspace;
  return (
    <ActionButton
      action={endReportOnlyAction}
      label={`End report-only for ${what}`}
      fields={{ workspace, channel: channel ?? "" }}
      variant="secondary"
    >
      End now
    </ActionButton>
  );
}

"use client";
import { useState } from "react";
import { ActionForm } from "@/components/action-form";
import { Button, Field, Input, Select } from "@/components/ui";
import { addSinkAction, removeSinkAction, runRetentionAction, setRetentionAction, testSinkAction } from "./audit-actions";

const PLACEHOLDER: Record<string, string> = {
  syslog: "tls://siem.example:6514",
  webhook: "https://siem.example/ingest",
  otlp: "https://otel-collector.example:4318",
};

export function AddSinkForm() {
  const [type, setType] = useState("syslog");
  return (
    <ActionForm action={addSinkAction} label="Add a sink" resetOnSuccess className="grid grid-cols-2 items-start gap-3">
      {({ error, pending }) => (
        <>
          <Field label="Name" htmlFor="sink-name" error={error("name")}>
            <Input id="sink-name" name="name" placeholder="splunk" required />
          </Field>
          <Field label="Type" htmlFor="sink-type" error={error("type")}>
            <Select id="sink-type" name="type" value={type} onChange={(e) => setType(e.target.value)}>
              <option value="syslog">Syslog (RFC 5424 over TCP or TLS)</option>
              <option value="webhook">HTTPS webhook (JSON Lines, signed)</option>
              <option value="otlp">OpenTelemetry (OTLP/HTTP logs)</option>
            </Select>
          </Field>
          <Field
            label="Address"
            htmlFor="sink-url"
            error={error("url")}
            hint={
              type === "syslog"
                ? "tcp://host:port or tls://host:port"
                : type === "otlp"
                  ? "The collector's OTLP/HTTP endpoint; /v1/logs is added to a bare address."
                  : "https:// only."
            }
          >
            <Input id="sink-url" name="url" placeholder={PLACEHOLDER[type]} required />
          </Field>
          <Field
            label="Format"
            htmlFor="sink-format"
            error={error("format")}
            hint="OCSF: HTTP Activity, Authentication and API Activity classes."
          >
            <Select id="sink-format" name="format" defaultValue="json">
              <option value="json">Gatehouse JSON</option>
              <option value="ocsf">OCSF</option>
            </Select>
          </Field>
          {type === "webhook" && (
            <Field
              label="Signing secret"
              htmlFor="sink-secret"
              error={error("secret")}
              hint="X-Gatehouse-Signature: sha256=HMAC of the body. Sealed by the vault; never shown again."
            >
              <Input id="sink-secret" name="secret" type="password" autoComplete="off" />
            </Field>
          )}
          <Field label="Start from" htmlFor="sink-start" error={error("startAt")}>
            <Select id="sink-start" name="startAt" defaultValue="beginning">
              <option value="beginning">The oldest live event</option>
              <option value="now">New events only</option>
            </Select>
          </Field>
          <div className="col-span-2">
            <Button type="submit" disabled={pending}>
              Add sink
            </Button>
          </div>
        </>
      )}
    </ActionForm>
  );
}

export function SinkButtons({ id, name }: { id: string; name: string }) {
  return (
    <div className="flex flex-wrap items-start gap-2">
      <ActionForm action={testSinkAction} label={`Test ${name}`}>
        {({ pending }) => (
          <>
            <input type="hidden" name="id" value={id} />
            <Button type="submit" variant="secondary" disabled={pending} aria-label={`Send a test event to ${name}`}>
              Send a test event
            </Button>
          </>
        )}
      </ActionForm>
      <ActionForm action={removeSinkAction} label={`Remove ${name}`} confirmText={`Remove the sink ${name}? Events stop going there.`}>
        {({ pending }) => (
          <>
            <input type="hidden" name="id" value={id} />
            <Button type="submit" variant="danger" disabled={pending} aria-label={`Remove ${name}`}>
              Remove
            </Button>
          </>
        )}
      </ActionForm>
    </div>
  );
}

export function RetentionForm({ days }: { days: number | null }) {
  return (
    <div className="space-y-3">
      <ActionForm action={setRetentionAction} label="Audit retention" className="flex flex-wrap items-end gap-3">
        {({ error, pending }) => (
          <>
            <Field
              label="Keep events live for (days)"
              htmlFor="retention-days"
              error={error("days")}
              hint="Empty keeps everything. Older events move into compressed archive segments."
            >
              <Input id="retention-days" name="days" inputMode="numeric" defaultValue={days ?? ""} placeholder="keep everything" />
            </Field>
            <Button type="submit" disabled={pending}>
              Save retention
            </Button>
          </>
        )}
      </ActionForm>
      {days !== null && (
        <ActionForm action={runRetentionAction} label="Archive now">
          {({ pending }) => (
            <Button type="submit" variant="secondary" disabled={pending}>
              Archive old events now
            </Button>
          )}
        </ActionForm>
      )}
    </div>
  );
}

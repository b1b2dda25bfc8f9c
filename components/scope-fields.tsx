"use client";
import { useState } from "react";
import { Field, Input, Select } from "./ui";

import type { ScopeValue } from "./scope-label";

export type { ScopeValue };

export function ScopeFields({
  initial,
  error,
  disabled,
}: {
  initial?: ScopeValue;
  error: (f: string) => string | undefined;
  disabled?: boolean;
}) {
  const [type, setType] = useState(initial?.type ?? "organization");
  return (
    <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
      <Field label="Scope" htmlFor="scopeType" error={error("scope.type")}>
        <Select
          id="scopeType"
          name="scopeType"
          value={type}
          onChange={(e) => setType(e.target.value as ScopeValue["type"])}
          disabled={disabled}
        >
          <option value="organization">Organization (baseline)</option>
          <option value="workspace">One workspace</option>
          <option value="channels">Specific channels</option>
        </Select>
      </Field>
      {type !== "organization" && (
        <Field label="Workspace ID" htmlFor="workspace" error={error("scope.workspace")}>
          <Input
            id="workspace"
            name="workspace"
            defaultValue={initial?.workspace}
            placeholder="T0ACME"
            aria-invalid={!!error("scope.workspace")}
            disabled={disabled}
          />
        </Field>
      )}
      {type === "channels" && (
        <Field label="Channel IDs" htmlFor="channels" error={error("scope.channels") ?? error("scope.channels.0")} hint="Comma-separated.">
          <Input
            id="channels"
            name="channels"
            defaultValue={initial?.channels?.join(", ")}
            placeholder="C0ENG, C0OPS"
            aria-invalid={!!error("scope.channels")}
            disabled={disabled}
          />
        </Field>
      )}
    </div>
  );
}

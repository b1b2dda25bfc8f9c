"use client";
import { useState } from "react";
import { ActionForm } from "@/components/action-form";
import { Button, Field, Input } from "@/components/ui";
import { updateMemberAccessAction, updateSessionSettingsAction } from "./actions";

type Mode = "anyone" | "org_members" | "roles";

export function MemberAccessForm({
  mode,
  roles,
  directMessages,
  readOnly,
}: {
  mode: Mode;
  roles: string[];
  directMessages: boolean;
  readOnly: boolean;
}) {
  const [current, setCurrent] = useState<Mode>(mode);
  const options: { value: Mode; label: string; hint: string }[] = [
    { value: "anyone", label: "Anyone in a connected workspace", hint: "Guests and external members included." },
    { value: "org_members", label: "Organization members", hint: "Members of the organization; guests and external members are refused." },
    { value: "roles", label: "Members holding a role", hint: "Only members with one of the roles below." },
  ];
  return (
    <ActionForm action={updateMemberAccessAction} label="Member access" className="space-y-4">
      {({ error, pending }) => (
        <fieldset disabled={readOnly} className="space-y-4">
          <div className="space-y-2" role="radiogroup" aria-label="Who may invoke the agent">
            {options.map((o) => (
              <label key={o.value} className="flex items-start gap-2 text-sm">
                <input
                  type="radio"
                  name="mode"
                  value={o.value}
                  checked={current === o.value}
                  onChange={() => setCurrent(o.value)}
                  className="mt-0.5"
                />
                <span>
                  <span className="font-medium">{o.label}</span>
                  <span className="block text-xs text-slate-600">{o.hint}</span>
                </span>
              </label>
            ))}
          </div>
          {current === "roles" && (
            <Field label="Roles (comma-separated)" htmlFor="roles" error={error("roles") ?? error("mode")}>
              <Input
                id="roles"
                name="roles"
                defaultValue={roles.join(", ")}
                placeholder="engineering, sre"
                aria-invalid={!!error("roles")}
              />
            </Field>
          )}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="directMessages" defaultChecked={directMessages} className="h-4 w-4" />
            Allow direct messages with the agent (the same member rule applies)
          </label>
          {!readOnly && (
            <Button type="submit" disabled={pending}>
              Save member access
            </Button>
          )}
        </fieldset>
      )}
    </ActionForm>
  );
}

export function SessionSettingsForm({
  idleTimeoutMinutes,
  maxLifetimeHours,
  readOnly,
}: {
  idleTimeoutMinutes: number;
  maxLifetimeHours: number;
  readOnly: boolean;
}) {
  return (
    <ActionForm action={updateSessionSettingsAction} label="Session limits" className="space-y-4">
      {({ error, pending }) => (
        <fieldset disabled={readOnly} className="space-y-4">
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
            <Field
              label="Idle timeout (minutes)"
              htmlFor="idleTimeoutMinutes"
              error={error("idleTimeoutMinutes")}
              hint="A session with no traffic this long stops working."
            >
              <Input
                id="idleTimeoutMinutes"
                name="idleTimeoutMinutes"
                type="number"
                min={1}
                defaultValue={idleTimeoutMinutes}
                aria-invalid={!!error("idleTimeoutMinutes")}
              />
            </Field>
            <Field
              label="Maximum lifetime (hours)"
              htmlFor="maxLifetimeHours"
              error={error("maxLifetimeHours")}
              hint="Even an active session ends after this."
            >
              <Input
                id="maxLifetimeHours"
                name="maxLifetimeHours"
                type="number"
                min={1}
                defaultValue={maxLifetimeHours}
                aria-invalid={!!error("maxLifetimeHours")}
              />
            </Field>
          </div>
          {!readOnly && (
            <Button type="submit" disabled={pending}>
              Save session limits
            </Button>
          )}
        </fieldset>
      )}
    </ActionForm>
  );
}

"use client";
// How long a grant (or a report-only window) lasts: 1 hour, 1 day, 7 days or a chosen time (UTC).
import { useState } from "react";
import { Field, Input, Select } from "./ui";

export function GrantDurationFields({
  id,
  label = "For",
  error,
  lasting,
  defaultValue = "1h",
}: {
  id: string;
  label?: string;
  error: (field: string) => string | undefined;
  lasting?: boolean;
  defaultValue?: string;
}) {
  const [choice, setChoice] = useState(defaultValue);
  return (
    <>
      <Field label={label} htmlFor={`${id}-duration`} error={error("duration")}>
        <Select id={`${id}-duration`} name="duration" value={choice} onChange={(e) => setChoice(e.target.value)}>
          {lasting && <option value="">always (no end)</option>}
          <option value="1h">1 hour</option>
          <option value="1d">1 day</option>
          <option value="7d">7 days</option>
          <option value="custom">until a chosen time…</option>
        </Select>
      </Field>
      {choice === "custom" && (
        <Field label="Until (UTC)" htmlFor={`${id}-until`} error={error("until")}>
          <Input id={`${id}-until`} name="until" type="datetime-local" aria-invalid={!!error("until")} />
        </Field>
      )}
    </>
  );
}

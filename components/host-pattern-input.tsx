"use client";
import { useMemo, useState } from "react";
import { checkHostPattern } from "@/lib/policy/pattern";
import { cx } from "./ui";

/** A list of host patterns, one per line, checked as you type with the proxy's own parser. */
export function HostPatternList({ id, name, defaultValue, serverError, placeholder, rows = 3 }: { id: string; name: string; defaultValue?: string[]; serverError?: string; placeholder?: string; rows?: number }) {
  const [text, setText] = useState((defaultValue ?? []).join("\n"));
  const problems = useMemo(
    () =>
      text
        .split(/[\n,]/)
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => checkHostPattern(l))
        .flatMap((r) => (r.ok ? [] : [r.message])),
    [text],
  );
  const error = problems[0] ?? serverError;
  return (
    <div className="space-y-1">
      <textarea
        id={id}
        name={name}
        rows={rows}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={placeholder}
        aria-invalid={!!error}
        className={cx("block w-full rounded-md border-0 bg-white px-2.5 py-1.5 font-mono text-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-slate-900", error && "ring-red-500")}
      />
      {error && (
        <p className="text-xs text-red-700" data-field-error={id}>
          {error}
        </p>
      )}
    </div>
  );
}

/** One host pattern, checked as you type. */
export function HostPatternInput({ id, name, defaultValue, serverError, placeholder }: { id: string; name: string; defaultValue?: string; serverError?: string; placeholder?: string }) {
  const [value, setValue] = useState(defaultValue ?? "");
  const check = value.trim() ? checkHostPattern(value) : null;
  const error = check && !check.ok ? check.message : serverError;
  return (
    <div className="space-y-1">
      <input
        id={id}
        name={name}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder={placeholder}
        aria-invalid={!!error}
        className={cx("block w-full rounded-md border-0 bg-white px-2.5 py-1.5 font-mono text-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-slate-900", error && "ring-red-500")}
      />
      {error && (
        <p className="text-xs text-red-700" data-field-error={id}>
          {error}
        </p>
      )}
    </div>
  );
}

"use client";
import { useEffect, useRef, useState } from "react";
import { checkHostPattern } from "@/lib/policy/pattern";
import { cx, shortenValues } from "./ui";

const fieldClass =
  "block w-full rounded-md border-0 bg-white px-2.5 py-1.5 font-mono text-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-slate-900";

/** The first problem among the host patterns typed so far, checked by the proxy's own parser. */
function firstProblem(text: string, split: boolean): string | undefined {
  const entries = (split ? text.split(/[\n,]/) : [text]).map((l) => l.trim()).filter(Boolean);
  for (const entry of entries) {
    const r = checkHostPattern(entry);
    if (!r.ok) return r.message;
  }
  return undefined;
}

type Props = { id: string; name: string; serverError?: string; placeholder?: string };

/** One host pattern (`multiple`: one per line), validated as you type. */
export function HostPatternField({
  id,
  name,
  serverError,
  placeholder,
  defaultValue,
  multiple = false,
  rows = 3,
}: Props & { defaultValue?: string; multiple?: boolean; rows?: number }) {
  const [value, setValue] = useState(defaultValue ?? "");
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  // A controlled field ignores form.reset(); follow it so a form emptied after success is empty.
  useEffect(() => {
    const form = ref.current?.form;
    const clear = () => setValue("");
    form?.addEventListener("reset", clear);
    return () => form?.removeEventListener("reset", clear);
  }, []);
  const error = firstProblem(value, multiple) ?? serverError;
  const common = { id, name, value, placeholder, ref, "aria-invalid": !!error, className: cx(fieldClass, error && "ring-red-500") };
  return (
    <div className="space-y-1">
      {multiple ? (
        <textarea {...common} rows={rows} onChange={(e) => setValue(e.target.value)} />
      ) : (
        <input {...common} onChange={(e) => setValue(e.target.value)} />
      )}
      {error && (
        <p className="text-xs text-red-700 wrap-anywhere" data-field-error={id}>
          {shortenValues(error)}
        </p>
      )}
    </div>
  );
}

export function HostPatternList(props: Props & { defaultValue?: string[]; rows?: number }) {
  return <HostPatternField {...props} defaultValue={(props.defaultValue ?? []).join("\n")} multiple />;
}

export function HostPatternInput(props: Props & { defaultValue?: string }) {
  return <HostPatternField {...props} />;
}

"use client";
// The impact preview of a policy change: which logged requests of the last days it would decide
// differently, by transition, with examples linking to the Audit page. Shown inside a form as
// it is filled in (LiveImpactPreview) or as the confirm step of a one-button change
// (PreviewedActionButton). Nothing here saves anything.
import Link from "next/link";
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import type { ImpactPreview } from "@/lib/services/policy/preview-impact";
import type { ActionResult } from "./action-result";
import { ActionForm } from "./action-form";
import { OutcomeBadge } from "./outcome-badge";
import { Alert, Button } from "./ui";

export type PreviewState = { ok: true; impact: ImpactPreview } | { ok: false; error: string };
export type PreviewFn = (form: FormData) => Promise<PreviewState>;

const TRANSITION_TEXT: Record<string, string> = {
  "credentialed>allowlisted": "would go out without their credential",
  "credentialed>blocked": "would be blocked",
  "allowlisted>blocked": "would be blocked",
  "allowlisted>credentialed": "would carry a credential",
  "blocked>allowlisted": "would be let through (no credential)",
  "blocked>credentialed": "would be let through with a credential",
  "credentialed>credentialed": "would carry another connection's credential",
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** The preview itself: a summary line, one block per transition, and the deny warnings. */
export function ImpactPanel({ impact, testId = "impact-preview" }: { impact: ImpactPreview; testId?: string }) {
  const none = impact.transitions.length === 0;
  return (
    <div className="space-y-3 text-sm" data-testid={testId}>
      <p className="text-slate-700" data-testid="impact-summary">
        {none
          ? "No request of the last "
          : `${plural(impact.changed.requests, "distinct request")} (${plural(impact.changed.events, "logged event")}) of the last `}
        {plural(impact.window.days, "day")}
        {none ? " would be decided differently" : " would be decided differently"} ({plural(impact.replayed.requests, "distinct request")}{" "}
        replayed
        {impact.replayed.truncated ? ", partial: too many to replay all" : ""}).
      </p>
      {impact.deniedEntries.map((d) => (
        <div key={`${d.bundle}/${d.connection ?? ""}/${d.pattern}`} data-testid="impact-denied">
          <Alert tone="amber">
            {d.pattern} has no effect: the org-wide deny list entry {d.deniedBy} blocks it
            {d.connection ? ` (Allowed website of ${d.connection})` : ""}. Remove that entry first if it should be reachable.
          </Alert>
        </div>
      ))}
      {impact.transitions.map((t) => (
        <section
          key={`${t.from}>${t.to}`}
          aria-label={`${t.from} to ${t.to}`}
          className="rounded-md ring-1 ring-slate-200"
          data-testid={`impact-${t.from}-${t.to}`}
        >
          <h4 className="flex flex-wrap items-center gap-2 border-b border-slate-100 px-3 py-2 font-medium">
            <OutcomeBadge outcome={t.from} /> <span aria-hidden>→</span>
            <span className="sr-only">to</span> <OutcomeBadge outcome={t.to} />
            <span className="font-normal text-slate-700">
              {plural(t.requests, "request")} ({plural(t.events, "event")}) {TRANSITION_TEXT[`${t.from}>${t.to}`] ?? ""}
            </span>
          </h4>
          <ul className="divide-y divide-slate-100">
            {t.examples.map((e) => (
              <li
                key={`${e.workspace}/${e.channel} ${e.method} ${e.url}`}
                className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-3 py-1.5"
              >
                <span className="font-mono text-xs wrap-anywhere">
                  {e.method} {e.url}
                </span>
                <span className="text-xs text-slate-600">
                  {e.workspace}/{e.channel} · {plural(e.count, "time")} · now {e.after.rule}
                </span>
                <Link
                  href={e.auditUrl}
                  className="text-xs text-slate-700 underline underline-offset-2 hover:text-slate-900"
                  aria-label={`Audit events of ${e.method} ${e.url} in ${e.channel}`}
                >
                  Audit events
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/** Never sent to a preview: the credential is write-only and the preview does not need it. */
function previewData(form: HTMLFormElement): FormData {
  const data = new FormData(form);
  const secret = data.get("secret");
  data.delete("secret");
  data.set("hasSecret", typeof secret === "string" && secret !== "" ? "1" : "0");
  return data;
}

/**
 * Placed inside a form: replays the draft as the form is filled in (after a short pause) and on
 * "Preview impact". `denyConfirm` shows the explicit confirm for entries the deny list overrides.
 */
export function LiveImpactPreview({
  preview,
  ready,
  denyConfirm,
  prefilled = false,
}: {
  preview: PreviewFn;
  ready?: (data: FormData) => boolean;
  denyConfirm?: string;
  prefilled?: boolean;
}) {
  const anchor = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<PreviewState | null>(null);
  const [busy, setBusy] = useState(false);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const headingId = useId();

  // The latest props, read when a replay starts: the effect below subscribes once per form.
  const props = useRef({ preview, ready });
  useEffect(() => {
    props.current = { preview, ready };
  });

  const run = useCallback(async () => {
    const form = anchor.current?.closest("form");
    if (!form) return;
    const data = previewData(form);
    const { preview: replay, ready: isReady } = props.current;
    if (isReady && !isReady(data)) {
      generation.current++;
      setState(null);
      setBusy(false);
      return;
    }
    const mine = ++generation.current;
    setBusy(true);
    try {
      const result = await replay(data);
      if (mine === generation.current) setState(result);
    } catch {
      if (mine === generation.current) setState({ ok: false, error: "The impact preview failed; nothing was changed." });
    } finally {
      if (mine === generation.current) setBusy(false);
    }
  }, []);

  useEffect(() => {
    const form = anchor.current?.closest("form");
    if (!form) return;
    const schedule = (e: Event) => {
      if ((e.target as HTMLInputElement | null)?.name === "acceptDenied") return;
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void run(), 700);
    };
    const clear = () => {
      generation.current++;
      setState(null);
    };
    // Server actions from one page run one after another: a replay still waiting to start
    // must not hold up the save.
    const submitting = () => clearTimeout(timer.current);
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("reset", clear);
    form.addEventListener("submit", submitting);
    // A form prefilled with a change (a host from a blocked request) is previewed at once; an
    // untouched edit form would replay for nothing.
    if (prefilled) void run();
    return () => {
      clearTimeout(timer.current);
      form.removeEventListener("input", schedule);
      form.removeEventListener("change", schedule);
      form.removeEventListener("reset", clear);
      form.removeEventListener("submit", submitting);
    };
  }, [run, prefilled]);

  const denied = state?.ok && state.impact.deniedEntries.length > 0;
  return (
    <div ref={anchor} className="w-full space-y-2">
      <section aria-labelledby={headingId} aria-live="polite" aria-busy={busy} className="rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h3 id={headingId} className="text-sm font-medium text-slate-900">
            Impact of this change
          </h3>
          <Button type="button" variant="secondary" onClick={() => void run()} disabled={busy}>
            {busy ? "Replaying…" : "Preview impact"}
          </Button>
        </div>
        {!state && !busy && (
          <p className="text-sm text-slate-600">Fill in the form to see which requests of the last 7 days it would decide differently.</p>
        )}
        {state && !state.ok && (
          <p className="text-sm text-slate-700" data-testid="impact-error">
            {state.error}
          </p>
        )}
        {state?.ok && <ImpactPanel impact={state.impact} />}
      </section>
      {denied && denyConfirm && (
        <label className="flex items-center gap-2 text-sm text-amber-900">
          <input type="checkbox" name="acceptDenied" className="h-4 w-4 rounded border-slate-300" />
          {denyConfirm}
        </label>
      )}
    </div>
  );
}

/**
 * A one-button policy change (remove, delete) whose confirm step is the impact preview: the
 * first click replays, the panel says what would change, and one more click saves.
 */
export function PreviewedActionButton({
  action,
  preview,
  label,
  fields,
  question,
  confirmLabel,
  variant = "danger",
  children,
}: {
  action: (prev: ActionResult, form: FormData) => Promise<ActionResult>;
  preview: PreviewFn;
  label: string;
  fields: Record<string, string>;
  question: string;
  confirmLabel: string;
  variant?: "danger" | "ghost" | "secondary";
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<PreviewState | null>(null);
  const [returnFocus, setReturnFocus] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
  const headingId = useId();

  const start = async () => {
    setOpen(true);
    setState(null);
    const data = new FormData();
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    try {
      setState(await preview(data));
    } catch {
      setState({ ok: false, error: "The impact preview failed; nothing was changed." });
    }
  };
  const close = () => {
    setOpen(false);
    setReturnFocus(true);
  };
  useEffect(() => {
    if (open) panel.current?.focus();
  }, [open]);

  if (!open) {
    return (
      <Button type="button" variant={variant} aria-label={label} autoFocus={returnFocus} onClick={() => void start()}>
        {children}
      </Button>
    );
  }
  return (
    <div
      ref={panel}
      tabIndex={-1}
      role="group"
      aria-labelledby={headingId}
      className="w-full max-w-2xl space-y-3 rounded-md bg-white p-3 text-left ring-1 ring-slate-300 outline-none"
      onKeyDown={(e) => {
        if (e.key === "Escape") close();
      }}
    >
      <p id={headingId} className="text-sm font-medium text-slate-900 whitespace-normal">
        {question}
      </p>
      <div aria-live="polite" aria-busy={!state}>
        {!state && <p className="text-sm text-slate-600">Replaying the last 7 days of requests…</p>}
        {state && !state.ok && (
          <p className="text-sm text-slate-700" data-testid="impact-error">
            {state.error}
          </p>
        )}
        {state?.ok && <ImpactPanel impact={state.impact} />}
      </div>
      <div className="flex flex-wrap gap-2">
        <ActionForm action={action} label={label} hideSuccess>
          {({ pending }) => (
            <>
              {Object.entries(fields).map(([name, value]) => (
                <input key={name} type="hidden" name={name} value={value} />
              ))}
              <Button variant="danger" type="submit" disabled={pending}>
                {confirmLabel}
              </Button>
            </>
          )}
        </ActionForm>
        <Button type="button" variant="secondary" onClick={close}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

// Small, consistent primitives. No client state here: usable from server and client components.
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";

export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(" ");
}

type Variant = "primary" | "secondary" | "danger" | "ghost";
const variants: Record<Variant, string> = {
  primary: "bg-slate-900 text-white hover:bg-slate-700 disabled:bg-slate-400",
  secondary: "bg-white text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50",
  danger: "bg-white text-red-700 ring-1 ring-inset ring-red-300 hover:bg-red-50",
  ghost: "text-slate-600 hover:text-slate-900 hover:bg-slate-100",
};

export function Button({ variant = "primary", className, ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      {...props}
      className={cx(
        "inline-flex items-center justify-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium transition-colors disabled:cursor-not-allowed",
        variants[variant],
        className,
      )}
    />
  );
}

// Disabled fields look it: grey, no focus ring, not-allowed cursor.
const fieldClass =
  "block w-full rounded-md border-0 bg-white px-2.5 py-1.5 text-sm text-slate-900 ring-1 ring-inset ring-slate-300 placeholder:text-slate-500 focus:ring-2 focus:ring-inset focus:ring-slate-900 aria-[invalid=true]:ring-red-500 disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-600 disabled:ring-slate-200";

export function Input({ className, ...props }: InputHTMLAttributes<HTMLInputElement>) {
  return <input {...props} className={cx(fieldClass, className)} />;
}

export function Select({ className, ...props }: SelectHTMLAttributes<HTMLSelectElement>) {
  return <select {...props} className={cx(fieldClass, "pr-8", className)} />;
}

export function Textarea({ className, ...props }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea {...props} className={cx(fieldClass, "font-mono text-xs", className)} />;
}

export function Field({
  label,
  htmlFor,
  error,
  hint,
  children,
}: {
  label: string;
  htmlFor: string;
  error?: string | null;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="space-y-1">
      <label htmlFor={htmlFor} className="block text-xs font-medium text-slate-700">
        {label}
      </label>
      {children}
      {error ? (
        <p className="text-xs text-red-700 wrap-anywhere" id={`${htmlFor}-error`} data-field-error={htmlFor}>
          {shortenValues(error)}
        </p>
      ) : hint ? (
        <p className="text-xs text-slate-600">{hint}</p>
      ) : null}
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={cx("min-w-0 rounded-lg bg-white ring-1 ring-slate-200", className)}>
      {(title || actions) && (
        <header className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-2.5">
          <h2 className="text-sm font-semibold text-slate-900">{title}</h2>
          <div className="flex items-center gap-2">{actions}</div>
        </header>
      )}
      <div className="p-4">{children}</div>
    </section>
  );
}

type Tone = "slate" | "green" | "amber" | "red" | "blue";
const tones: Record<Tone, string> = {
  slate: "bg-slate-100 text-slate-700 ring-slate-200",
  green: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  amber: "bg-amber-50 text-amber-800 ring-amber-200",
  red: "bg-red-50 text-red-800 ring-red-200",
  blue: "bg-sky-50 text-sky-800 ring-sky-200",
};

export function Badge({ tone = "slate", children }: { tone?: Tone; children: ReactNode }) {
  return (
    <span className={cx("inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset", tones[tone])}>
      {children}
    </span>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-lg font-semibold text-slate-900">{title}</h1>
        {description && <p className="mt-0.5 text-sm text-slate-600">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}

/**
 * A table that scrolls inside its card rather than widening the page. The scroll region is
 * focusable and named so keyboard users can scroll it (axe: scrollable-region-focusable).
 */
export function Table({ children, label }: { children: ReactNode; label: string }) {
  return (
    <div
      className="overflow-x-auto focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
      tabIndex={0}
      role="region"
      aria-label={label}
      data-table-scroll
    >
      <table className="min-w-full divide-y divide-slate-200 text-left text-sm">{children}</table>
    </div>
  );
}

/** Header cell; `srLabel` names an otherwise empty header (e.g. the actions column) for screen readers. */
export function Th({
  children,
  className,
  srLabel,
  sticky,
}: {
  children?: ReactNode;
  className?: string;
  srLabel?: string;
  sticky?: boolean;
}) {
  return (
    <th
      className={cx("whitespace-nowrap px-3 py-2 text-xs font-medium uppercase tracking-wide text-slate-600", sticky && STICKY, className)}
    >
      {children ?? (srLabel ? <span className="sr-only">{srLabel}</span> : null)}
    </th>
  );
}

// Keeps the actions column in view while the rest of the row scrolls.
const STICKY = "sticky right-0 bg-white shadow-[-8px_0_8px_-8px_rgba(15,23,42,0.15)]";

/**
 * Body cell. Cells don't wrap unless asked: `wrap` lets long text break anywhere (a class like
 * `whitespace-normal` would lose to the default `whitespace-nowrap`, so it is a prop).
 */
export function Td({ children, className, wrap, sticky }: { children?: ReactNode; className?: string; wrap?: boolean; sticky?: boolean }) {
  return (
    <td
      className={cx(
        wrap ? "min-w-48 whitespace-normal wrap-anywhere" : "whitespace-nowrap",
        "px-3 py-2 text-slate-700",
        sticky && STICKY,
        className,
      )}
    >
      {children}
    </td>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="py-6 text-center text-sm text-slate-600">{children}</p>;
}

export function Alert({ tone = "red", children }: { tone?: "red" | "green" | "amber"; children: ReactNode }) {
  const cls =
    tone === "red"
      ? "bg-red-50 text-red-800 ring-red-200"
      : tone === "green"
        ? "bg-emerald-50 text-emerald-800 ring-emerald-200"
        : "bg-amber-50 text-amber-900 ring-amber-200";
  return (
    <div className={cx("rounded-md px-3 py-2 text-sm ring-1 ring-inset wrap-anywhere", cls)} data-alert>
      {children}
    </div>
  );
}

/** Messages may quote what was typed: a very long token is cut so it can't flood the page. */
export function shortenValues(message: string, max = 64): string {
  return message.replace(/\S{65,}/g, (token) => (token.length > max ? `${token.slice(0, max - 1)}…` : token));
}

export function formatTime(ms: number | null | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

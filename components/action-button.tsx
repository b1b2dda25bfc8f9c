"use client";
import type { ReactNode } from "react";
import type { ActionResult } from "./action-result";
import { ActionForm } from "./action-form";
import { Button } from "./ui";

/** One button posting a few hidden fields to a server action, with an optional confirmation. */
export function ActionButton({
  action,
  label,
  fields,
  confirmText,
  variant = "danger",
  children,
}: {
  action: (prev: ActionResult, form: FormData) => Promise<ActionResult>;
  /** Accessible name of the form and the button. */
  label: string;
  fields: Record<string, string>;
  confirmText?: string;
  variant?: "danger" | "ghost" | "secondary";
  children: ReactNode;
}) {
  return (
    <ActionForm action={action} label={label} confirmText={confirmText} hideSuccess>
      {({ pending }) => (
        <>
          {Object.entries(fields).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <Button variant={variant} type="submit" disabled={pending} aria-label={label}>
            {children}
          </Button>
        </>
      )}
    </ActionForm>
  );
}

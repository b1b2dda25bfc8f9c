"use client";
import { ActionButton } from "@/components/action-button";
import { revokeSessionAction } from "./actions";

export function RevokeSessionButton({ id, label }: { id: string; label: string }) {
  return (
    <ActionButton
      action={revokeSessionAction}
      label={`Revoke session ${label}`}
      fields={{ id }}
      confirmText={`Revoke session ${label}? Its token stops working and its open connections close.`}
    >
      Revoke
    </ActionButton>
  );
}

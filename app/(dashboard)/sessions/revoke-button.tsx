"use client";
import { ActionForm } from "@/components/action-form";
import { Button } from "@/components/ui";
import { revokeSessionAction } from "./actions";

export function RevokeSessionButton({ id, label }: { id: string; label: string }) {
  return (
    <ActionForm action={revokeSessionAction} label={`Revoke session ${label}`} confirmText={`Revoke session ${label}? Its token stops working and its open connections close.`} hideSuccess>
      {({ pending }) => (
        <>
          <input type="hidden" name="id" value={id} />
          <Button variant="danger" type="submit" disabled={pending} aria-label={`Revoke session ${label}`}>
            Revoke
          </Button>
        </>
      )}
    </ActionForm>
  );
}

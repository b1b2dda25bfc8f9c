"use client";
import { startTransition, useActionState } from "react";
import { ActionForm } from "@/components/action-form";
import { Alert, Button, Field, Input } from "@/components/ui";
import { beginTotpAction, confirmTotpAction } from "./actions";

export function TotpEnrol() {
  const [begun, begin, starting] = useActionState(beginTotpAction, null);
  const enrolment = begun?.ok ? begun.data : undefined;
  if (!enrolment) {
    return (
      <div className="space-y-3">
        {begun && !begun.ok && <Alert>{begun.error}</Alert>}
        <Button type="button" disabled={starting} onClick={() => startTransition(() => begin())}>
          Set up two-factor authentication
        </Button>
      </div>
    );
  }
  return (
    <ActionForm action={confirmTotpAction} label="Confirm two-factor authentication" className="space-y-3" hideSuccess>
      {({ error, pending, state }) =>
        state?.ok && state.data ? (
          <Alert tone="amber">
            <p className="mb-2 font-medium">
              Two-factor authentication is on. Save these recovery codes now: each signs in once without the app, and they are not shown
              again.
            </p>
            <ul data-testid="recovery-codes" className="grid grid-cols-2 gap-1 font-mono text-xs">
              {state.data.recoveryCodes.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          </Alert>
        ) : (
          <>
            <p className="text-sm text-slate-600">Scan this with your authenticator app, then enter the code it shows.</p>
            <img src={enrolment.qrDataUrl} alt="QR code for your authenticator app" width={200} height={200} />
            <p className="text-xs text-slate-500">
              Or enter this key by hand:{" "}
              <code data-testid="totp-secret" className="break-all font-mono">
                {enrolment.secret}
              </code>
            </p>
            <Field label="Code from the app" htmlFor="totp-code" error={error("code")}>
              <Input id="totp-code" name="code" inputMode="numeric" autoComplete="one-time-code" required />
            </Field>
            <Button type="submit" disabled={pending}>
              Turn on
            </Button>
          </>
        )
      }
    </ActionForm>
  );
}

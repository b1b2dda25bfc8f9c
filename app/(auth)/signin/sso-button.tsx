"use client";
import { signIn } from "next-auth/react";
import { useState } from "react";
import { Button } from "@/components/ui";

/** Starts the IdP's authorization code flow: next-auth answers with the IdP's URL, then the browser navigates there. */
export function SsoButton({ name, primary }: { name: string; primary: boolean }) {
  const [pending, setPending] = useState(false);
  return (
    <Button
      type="button"
      variant={primary ? "primary" : "secondary"}
      className="w-full"
      disabled={pending}
      onClick={async () => {
        setPending(true);
        void (await signIn("oidc", { callbackUrl: "/" }));
      }}
    >
      {pending ? "Redirecting…" : `Sign in with ${name}`}
    </Button>
  );
}

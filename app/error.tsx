"use client";
// What a person sees when a page cannot be rendered (the database unreachable is the usual cause
// on replicas): a plain page, never the error's text or stack. The reference is Next.js's digest,
// which the server's log line carries, so an operator can find the cause.
import { useRouter } from "next/navigation";
import { startTransition } from "react";
import { AuthShell } from "@/components/auth-shell";
import { Button } from "@/components/ui";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  // The failure was on the server: fetch the page again, then clear the boundary.
  const retry = () =>
    startTransition(() => {
      router.refresh();
      reset();
    });
  return (
    <AuthShell title="This page could not be loaded">
      <p className="mb-4 text-slate-600">
        Gatehouse could not answer just now; nothing was changed. If its database is unreachable, Gatehouse reconnects by itself when the
        database is back. Try again in a moment.
      </p>
      {error.digest ? <p className="mb-4 text-xs text-slate-500">Reference for the operator: {error.digest}</p> : null}
      <Button onClick={retry}>Try again</Button>
    </AuthShell>
  );
}

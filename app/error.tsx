"use client";
// What a person sees when a page cannot be rendered (the database unreachable is the usual cause
// on replicas): a plain page, never the error's text or stack. The reference is Next.js's digest,
// which the server's log line carries, so an operator can find the cause.
import { useRouter } from "next/navigation";
import { startTransition } from "react";
import { Logo } from "@/components/logo";
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
    <main className="flex min-h-screen items-center justify-center px-4" data-testid="error-page">
      <div className="w-full max-w-md">
        <div className="mb-6 flex items-center gap-2">
          <Logo />
          <span className="text-base font-semibold">Gatehouse</span>
        </div>
        <div className="rounded-lg bg-white p-6 ring-1 ring-slate-200">
          <h1 className="mb-2 text-base font-semibold">This page could not be loaded</h1>
          <p className="mb-4 text-slate-600">
            Gatehouse could not answer just now; nothing was changed. If its database is unreachable, Gatehouse reconnects by itself when
            the database is back. Try again in a moment.
          </p>
          {error.digest ? <p className="mb-4 text-xs text-slate-500">Reference for the operator: {error.digest}</p> : null}
          <Button onClick={retry}>Try again</Button>
        </div>
      </div>
    </main>
  );
}

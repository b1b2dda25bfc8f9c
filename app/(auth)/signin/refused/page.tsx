import Link from "next/link";
import { SSO_REFUSAL_MESSAGES, type SsoRefusal } from "@/lib/services/sso/sso-sign-in";
import { AuthShell } from "@/components/auth-shell";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign-in refused" };

const OTHER: Record<string, string> = {
  wrong_issuer: "The identity provider's answer came from an issuer other than the one Gatehouse is configured for.",
  not_configured: "Sign-in through an identity provider is not configured.",
};

/** Where a refused SSO sign-in lands. The reason is a code; the words are ours, never the request's. */
export default async function RefusedPage({ searchParams }: { searchParams: Promise<{ reason?: string }> }) {
  const { reason = "" } = await searchParams;
  const message = Object.hasOwn(SSO_REFUSAL_MESSAGES, reason)
    ? SSO_REFUSAL_MESSAGES[reason as SsoRefusal]
    : Object.hasOwn(OTHER, reason)
      ? OTHER[reason]
      : "Gatehouse refused this sign-in.";
  return (
    <AuthShell title="You can't sign in to Gatehouse">
      <div className="space-y-4 text-sm">
        <p role="status">{message}</p>
        <Link href="/signin" className="text-slate-900 underline">
          Back to sign-in
        </Link>
      </div>
    </AuthShell>
  );
}

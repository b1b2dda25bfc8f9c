import Link from "next/link";
import { requireUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { getTotpStatus } from "@/lib/services/totp/get-totp-status";
import { AuthShell } from "@/components/auth-shell";
import { TotpEnrol } from "./totp-enrol";

export const dynamic = "force-dynamic";
export const metadata = { title: "Two-factor authentication" };

export default async function TwoFactorPage() {
  const actor = await requireUser();
  const status = await getTotpStatus({ ctx: serviceContext(), actor });
  return (
    <AuthShell title="Two-factor authentication">
      <div className="space-y-4 text-sm">
        {status === "sso" && <p>You sign in through your identity provider, which handles second factors.</p>}
        {status === "on" && <p>Two-factor authentication is on for {actor.email}.</p>}
        {status === "off" && <TotpEnrol />}
        <Link href="/" className="block text-slate-900 underline">
          Back to the dashboard
        </Link>
      </div>
    </AuthShell>
  );
}

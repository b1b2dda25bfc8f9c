import { Alert } from "@/components/ui";
import { serviceContext } from "@/lib/services/context";
import Link from "next/link";
import { setupDone, setupTokenValid } from "@/lib/services/setup/create-setup-link";
import { AuthShell } from "@/components/auth-shell";
import { SetupForm } from "./setup-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  const ctx = serviceContext();
  const valid = !!token && (await setupTokenValid(ctx, token));
  const done = await setupDone(ctx);
  return (
    <AuthShell title="Create the first Owner">
      {valid ? (
        <SetupForm token={token!} />
      ) : done ? (
        <div className="space-y-3" data-testid="setup-done">
          <Alert tone="amber">This setup link has been used: Gatehouse already has an Owner.</Alert>
          <p className="text-sm text-slate-700">
            <Link href="/signin" className="font-medium underline">
              Sign in
            </Link>{" "}
            instead. If you have no account, ask an Owner to add you on Settings.
          </p>
        </div>
      ) : (
        <div className="space-y-3" data-testid="setup-invalid">
          <Alert>This setup link is invalid or expired. Restart Gatehouse to print a new one.</Alert>
        </div>
      )}
    </AuthShell>
  );
}

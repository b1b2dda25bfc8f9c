import { Alert } from "@/components/ui";
import { serviceContext } from "@/lib/services/context";
import { setupTokenValid } from "@/lib/services/setup/create-setup-link";
import { AuthShell } from "../auth-shell";
import { SetupForm } from "./setup-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  const valid = !!token && setupTokenValid(serviceContext(), token);
  return (
    <AuthShell title="Create the first Owner">
      {valid ? (
        <SetupForm token={token!} />
      ) : (
        <Alert>This setup link is invalid, already used or expired. Restart Gatehouse to print a new one, or sign in.</Alert>
      )}
    </AuthShell>
  );
}

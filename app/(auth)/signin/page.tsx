import { redirect } from "next/navigation";
import { currentUser } from "@/app/_auth/dal";
import { AuthShell } from "../auth-shell";
import { SignInForm } from "./sign-in-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ setup?: string }> }) {
  if (await currentUser()) redirect("/");
  const { setup } = await searchParams;
  return (
    <AuthShell title="Sign in to Gatehouse">
      <SignInForm notice={setup === "done" ? "Owner account created. Sign in with it." : undefined} />
    </AuthShell>
  );
}

import { redirect } from "next/navigation";
import { currentUser } from "@/app/_auth/dal";
import { Alert } from "@/components/ui";
import { serviceContext } from "@/lib/services/context";
import { getSignInOptions } from "@/lib/services/sso/get-sign-in-options";
import { AuthShell } from "@/components/auth-shell";
import { SignInForm } from "./sign-in-form";
import { SsoButton } from "./sso-button";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

/** next-auth sends failed IdP round trips here with ?error=<code>; the text is ours, never the code's. */
const SSO_FAILED =
  "Sign-in through your identity provider did not complete (the answer could not be verified or was cancelled). Try again.";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ setup?: string; error?: string }> }) {
  if (await currentUser()) redirect("/");
  const { setup, error } = await searchParams;
  const options = await getSignInOptions({ ctx: serviceContext() });
  return (
    <AuthShell title="Sign in to Gatehouse">
      <div className="space-y-4">
        {error && options.sso && error !== "CredentialsSignin" && <Alert>{SSO_FAILED}</Alert>}
        {options.sso && <SsoButton name={options.sso.name} primary={!options.password} />}
        {options.sso && options.password && <p className="text-center text-xs text-slate-500">or, with a local account</p>}
        {options.password ? (
          <SignInForm notice={setup === "done" ? "Owner account created. Sign in with it." : undefined} />
        ) : (
          <p className="text-xs text-slate-500">
            Password sign-in is turned off. An administrator can turn it back on from the server with{" "}
            <code>npx gatehouse auth password --enable</code>.
          </p>
        )}
      </div>
    </AuthShell>
  );
}

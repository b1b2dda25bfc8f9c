import { Card } from "@/components/ui";
import type { Actor } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { getSignInOptions } from "@/lib/services/sso/get-sign-in-options";
import { describeOidcSettings } from "@/lib/services/sso/update-oidc-settings";
import { getTotpRequired } from "@/lib/services/totp/get-totp-required";
import { OidcSettingsForm, PasswordSignInForm, TotpRequiredForm } from "./sso-form";

/** Settings' "Sign-in" card (Owners): the company's IdP and the break-glass password switch. */
export async function SsoSettings({ actor }: { actor: Actor }) {
  const ctx = serviceContext();
  const view = await describeOidcSettings({ ctx, actor });
  const options = await getSignInOptions({ ctx });
  return (
    <Card title="Sign-in">
      <div className="space-y-4">
        <p className="text-sm text-slate-600">
          {view.source === "env"
            ? "Set by GATEHOUSE_OIDC_* in the environment, which wins over these fields."
            : "Sign in through your company's identity provider (OpenID Connect). Its redirect URI is /api/auth/callback/oidc on this dashboard's address."}
        </p>
        <OidcSettingsForm view={view} />
        <div className="space-y-2 border-t border-slate-100 pt-4">
          <TotpRequiredForm required={await getTotpRequired({ ctx })} />
          <a href="/two-factor" className="text-sm text-slate-900 underline">
            Set up two-factor authentication for your account
          </a>
        </div>
        {options.sso && (
          <div className="border-t border-slate-100 pt-4">
            <PasswordSignInForm enabled={options.password} />
          </div>
        )}
      </div>
    </Card>
  );
}

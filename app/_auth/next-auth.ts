// next-auth's configuration: the Next.js adapter over the sign-in and session verbs.
import "server-only";
import type { NextAuthOptions } from "next-auth";
import type { Provider } from "next-auth/providers/index";
import CredentialsProvider from "next-auth/providers/credentials";
import { serviceContext } from "@/lib/services/context";
import { getSignInOptions } from "@/lib/services/sso/get-sign-in-options";
import { getOidcConfig, type OidcConfig } from "@/lib/services/sso/oidc-config";
import { ssoSignIn } from "@/lib/services/sso/sso-sign-in";
import { checkSecondFactor, type SecondFactor } from "@/lib/services/totp/check-second-factor";
import { CODE_INVALID_MESSAGE, CODE_LOCKED_MESSAGE, CODE_REQUIRED_MESSAGE, ENROLMENT_REQUIRED_MESSAGE } from "./messages";
import { signIn, type SignInResult } from "@/lib/services/users/sign-in";
import { signOut } from "@/lib/services/users/sign-out";
import { DASHBOARD_SESSION_MAX_MS, resolveDashboardSession } from "@/lib/services/users/resolve-dashboard-session";
import { logger } from "@/lib/log";

const log = logger("auth");

/** Set by server.ts from the socket (any value the client sent is replaced): the per-source throttle's key. */
export const CLIENT_ADDRESS_HEADER = "x-gatehouse-client-address";

export const LOCKED_MESSAGE = "This account is locked after repeated failed sign-ins. Try again in 15 minutes or ask an Owner.";
export const INVALID_MESSAGE = "Wrong email or password.";
export const THROTTLED_MESSAGE = "Too many failed sign-ins from your network. Try again in 15 minutes.";
export const EMAIL_TOO_LONG_MESSAGE = "That email is too long (at most 254 characters).";
export const PASSWORD_OFF_MESSAGE = "Password sign-in is turned off: sign in through your identity provider.";
/** The provider id: the IdP redirects back to /api/auth/callback/oidc. */
export const OIDC_PROVIDER_ID = "oidc";

const MESSAGES: Record<Exclude<SignInResult, { ok: true }>["reason"], string> = {
  invalid: INVALID_MESSAGE,
  locked: LOCKED_MESSAGE,
  throttled: THROTTLED_MESSAGE,
  email_too_long: EMAIL_TOO_LONG_MESSAGE,
};

const SECOND_FACTOR_MESSAGES: Record<Exclude<SecondFactor, "ok">, string> = {
  required: CODE_REQUIRED_MESSAGE,
  invalid: CODE_INVALID_MESSAGE,
  locked: CODE_LOCKED_MESSAGE,
  enrolment_required: ENROLMENT_REQUIRED_MESSAGE,
};

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}

type Mapped = { gatehouse?: { id: string; sv: number } };

/** next-auth's OpenID Connect provider: discovery, authorization code with PKCE, state and nonce. */
function oidcProvider(cfg: OidcConfig): Provider {
  return {
    id: OIDC_PROVIDER_ID,
    name: cfg.name,
    type: "oauth",
    wellKnown: `${cfg.issuer}/.well-known/openid-configuration`,
    clientId: cfg.clientId,
    // next-auth needs the plaintext for the token request; it lives only in this request's options.
    clientSecret: cfg.clientSecret.reveal(),
    authorization: { params: { scope: cfg.scopes } },
    idToken: true,
    checks: ["pkce", "state", "nonce"],
    profile(profile: Record<string, unknown>) {
      return { id: String(profile.sub ?? ""), email: typeof profile.email === "string" ? profile.email : null };
    },
  } as Provider;
}

/**
 * The options for one request to /api/auth/*: the IdP is read from the current config (env wins
 * over Settings), so a change in Settings applies to the next sign-in without a restart.
 */
export async function currentAuthOptions(): Promise<NextAuthOptions> {
  const oidc = await getOidcConfig(serviceContext());
  return {
    ...authOptions,
    providers: oidc ? [...authOptions.providers, oidcProvider(oidc)] : authOptions.providers,
    callbacks: { ...authOptions.callbacks, signIn: oidcSignIn(oidc) },
  };
}

/**
 * After next-auth checked the IdP's answer (code exchange with PKCE, state, nonce, the ID token's
 * signature, issuer and audience): map the groups to a role, or send the person to a page that
 * says why not.
 */
function oidcSignIn(oidc: OidcConfig | null): NonNullable<NextAuthOptions["callbacks"]>["signIn"] {
  return async ({ user, account, profile }) => {
    if (account?.provider !== OIDC_PROVIDER_ID) return account?.provider === "credentials";
    const ctx = serviceContext();
    const refused = (reason: string) => `${ctx.env.publicUrl}/signin/refused?reason=${reason}`;
    if (!oidc || !profile) return refused("not_configured");
    const claims = profile as unknown as Record<string, unknown>;
    if (claims.iss !== oidc.issuer) return refused("wrong_issuer");
    const result = await ssoSignIn({ ctx, input: { mapping: oidc, issuer: oidc.issuer, claims } });
    if (!result.ok) return refused(result.reason);
    (user as Mapped).gatehouse = { id: result.user.id, sv: result.user.sessionVersion };
    return true;
  };
}

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: DASHBOARD_SESSION_MAX_MS / 1000 },
  pages: { signIn: "/signin", error: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
        code: { label: "Code", type: "text" },
      },
      async authorize(credentials, req) {
        if (!(await getSignInOptions({ ctx: serviceContext() })).password) throw new Error(PASSWORD_OFF_MESSAGE);
        const result = await signIn({
          ctx: serviceContext(),
          input: {
            email: credentials?.email ?? "",
            password: credentials?.password ?? "",
            source: header(req?.headers, CLIENT_ADDRESS_HEADER),
          },
        });
        if (!result.ok) throw new Error(MESSAGES[result.reason]);
        // Only after the password: whether an account has a second factor is not given away.
        const second = await checkSecondFactor({ ctx: serviceContext(), input: { userId: result.user.id, code: credentials?.code } });
        if (second !== "ok") throw new Error(SECOND_FACTOR_MESSAGES[second]);
        return { id: result.user.id, email: result.user.email, sv: result.user.sessionVersion };
      },
    }),
  ],
  callbacks: {
    // The token carries the user id, the session version and the sign-in time; the role is read
    // from the database. Every use (pages, actions, API reads, GET /api/auth/session's renewal)
    // passes here, so a revoked or too-old session is refused and its cookie cleared.
    async jwt({ token, user, account }) {
      if (user && account?.provider === OIDC_PROVIDER_ID) {
        // Our user row's id, never the IdP's subject, is what the token carries.
        const mapped = (user as Mapped).gatehouse;
        if (!mapped) throw new Error("SSO sign-in was not mapped");
        return { sub: mapped.id, sv: mapped.sv, authTime: Date.now() };
      }
      if (user) return { sub: user.id, sv: (user as { sv?: number }).sv, authTime: Date.now() };
      if (!(await resolveDashboardSession({ ctx: serviceContext(), claims: token }))) throw new Error("session ended");
      return token;
    },
    // What getServerSession hands the DAL. GET /api/auth/session shows it to the browser too:
    // ids and times only, nothing secret.
    async session({ session, token }) {
      return { expires: session.expires, userId: token.sub, claims: { sub: token.sub, sv: token.sv, authTime: token.authTime } };
    },
  },
  // A refused session (ended or too old) is routine: one line, no stack.
  logger: {
    error(code, metadata) {
      if (code === "JWT_SESSION_ERROR") return void log.warn("a dashboard session cookie was refused (ended or expired)");
      log.error(`next-auth: ${code} ${metadata instanceof Error ? metadata.message : ""}`.trimEnd());
    },
    warn(code) {
      log.warn(`next-auth warning: ${code}`);
    },
    debug() {},
  },
  events: {
    async signOut({ token }) {
      const actor = token ? await resolveDashboardSession({ ctx: serviceContext(), claims: token }) : null;
      if (actor) await signOut({ ctx: serviceContext(), actor });
    },
  },
};

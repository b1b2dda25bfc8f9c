// next-auth's configuration: the Next.js adapter over the sign-in and session verbs.
import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { serviceContext } from "@/lib/services/context";
import { signIn, type SignInResult } from "@/lib/services/users/sign-in";
import { signOut } from "@/lib/services/users/sign-out";
import { DASHBOARD_SESSION_MAX_MS, resolveDashboardSession } from "@/lib/services/users/resolve-dashboard-session";

/** Set by server.ts from the socket (any value the client sent is replaced): the per-source throttle's key. */
export const CLIENT_ADDRESS_HEADER = "x-gatehouse-client-address";

export const LOCKED_MESSAGE = "This account is locked after repeated failed sign-ins. Try again in 15 minutes or ask an Owner.";
export const INVALID_MESSAGE = "Wrong email or password.";
export const THROTTLED_MESSAGE = "Too many failed sign-ins from your network. Try again in 15 minutes.";
export const EMAIL_TOO_LONG_MESSAGE = "That email is too long (at most 254 characters).";

const MESSAGES: Record<Exclude<SignInResult, { ok: true }>["reason"], string> = {
  invalid: INVALID_MESSAGE,
  locked: LOCKED_MESSAGE,
  throttled: THROTTLED_MESSAGE,
  email_too_long: EMAIL_TOO_LONG_MESSAGE,
};

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: DASHBOARD_SESSION_MAX_MS / 1000 },
  pages: { signIn: "/signin", error: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const result = await signIn({
          ctx: serviceContext(),
          input: { email: credentials?.email ?? "", password: credentials?.password ?? "", source: header(req?.headers, CLIENT_ADDRESS_HEADER) },
        });
        if (result.ok) return { id: result.user.id, email: result.user.email, sv: result.user.sessionVersion };
        throw new Error(MESSAGES[result.reason]);
      },
    }),
  ],
  callbacks: {
    // The token carries the user id, the session version and the sign-in time; the role is read
    // from the database. Every use (pages, actions, API reads, GET /api/auth/session's renewal)
    // passes here, so a revoked or too-old session is refused and its cookie cleared.
    async jwt({ token, user }) {
      if (user) return { sub: user.id, sv: (user as { sv?: number }).sv, authTime: Date.now() };
      if (!resolveDashboardSession({ ctx: serviceContext(), claims: token })) throw new Error("session ended");
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
      if (code === "JWT_SESSION_ERROR") return void console.error("next-auth: a dashboard session cookie was refused (ended or expired)");
      console.error(`next-auth: ${code}`, metadata instanceof Error ? metadata.message : "");
    },
    warn(code) {
      console.error(`next-auth warning: ${code}`);
    },
    debug() {},
  },
  events: {
    async signOut({ token }) {
      const actor = token ? resolveDashboardSession({ ctx: serviceContext(), claims: token }) : null;
      if (actor) signOut({ ctx: serviceContext(), actor });
    },
  },
};

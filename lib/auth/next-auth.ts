import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { serviceContext } from "../services/context";
import { signIn } from "../services/users/sign-in";

export const LOCKED_MESSAGE = "This account is locked after repeated failed sign-ins. Try again in 15 minutes or ask an Owner.";
export const INVALID_MESSAGE = "Wrong email or password.";

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
  pages: { signIn: "/signin", error: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        const result = await signIn({ ctx: serviceContext(), input: { email: credentials?.email ?? "", password: credentials?.password ?? "" } });
        if (result.ok) return { id: result.user.id, email: result.user.email };
        throw new Error(result.reason === "locked" ? LOCKED_MESSAGE : INVALID_MESSAGE);
      },
    }),
  ],
  callbacks: {
    // Only the user id travels in the token; the role is read from the database on every request.
    async jwt({ token, user }) {
      if (user) token.sub = user.id;
      return token;
    },
    async session({ session, token }) {
      return { ...session, userId: token.sub };
    },
  },
};

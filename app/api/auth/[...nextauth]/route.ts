// GET|POST /api/auth/* — next-auth's sign-in endpoints; public
import NextAuth from "next-auth";
import { currentAuthOptions } from "@/app/_auth/next-auth";

export const dynamic = "force-dynamic";

// Built per request: the IdP comes from the current config (env, or Settings).
async function handler(req: Request, context: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(req as never, context as never, await currentAuthOptions());
}
export { handler as GET, handler as POST };

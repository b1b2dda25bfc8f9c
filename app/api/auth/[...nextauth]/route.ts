// GET|POST /api/auth/* — next-auth's sign-in endpoints; public
import NextAuth from "next-auth";
import { authOptions } from "@/app/_auth/next-auth";

export const dynamic = "force-dynamic";
const handler = NextAuth(authOptions);
export { handler as GET, handler as POST };

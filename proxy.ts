// Next.js's request interceptor (Next 16 names it proxy.ts; the egress proxy is lib/proxy).
// It only sets headers: a fresh CSP nonce per page response, which Next puts on its own scripts.
import { NextResponse, type NextRequest } from "next/server";
import { pageCsp } from "@/lib/security-headers";

export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const csp = pageCsp(nonce);
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", csp);
  return response;
}

export const config = {
  // Pages only: API routes carry their own CSP (next.config.js), static files need none.
  matcher: [{ source: "/((?!api/|_next/static|_next/image|favicon.svg).*)" }],
};

// The response headers every dashboard answer carries (next.config.js reads the same JSON for
// what Next serves; server.ts applies them to what it answers before Next). Pages get their
// nonce-based CSP from proxy.ts.
import type http from "node:http";
import headers from "./security-headers.json";

export type HeaderList = readonly { key: string; value: string }[];

export const COMMON_SECURITY_HEADERS: HeaderList = headers.common;
/** For answers that are data, never a page: API routes, ca.pem, the 413 of an oversized body. */
export const API_SECURITY_HEADERS: HeaderList = [...headers.common, ...headers.api];

/** Page CSP: scripts only with this response's nonce (and what they load), nothing framed, no plugins. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    // Server-rendered style attributes (charts, swatches) need inline styles; scripts do not.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(res: http.ServerResponse, list: HeaderList): void {
  for (const h of list) res.setHeader(h.key, h.value);
}

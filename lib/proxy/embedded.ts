// The embedded route answers on the dashboard's origin. Whatever it relays must not read or set
// the dashboard's cookies, nor run as one of its pages: the sandbox's Cookie and Authorization
// stay here (the session token travels in Proxy-Authorization, which never goes upstream), the
// upstream's Set-Cookie stays there, and every answer is a sandboxed, unsniffed document.
import type http from "node:http";

const DROPPED_FROM_ANSWERS = new Set([
  "set-cookie",
  "set-cookie2",
  "content-security-policy",
  "content-security-policy-report-only",
  "x-content-type-options",
]);
const CONFINED = { "Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff" };

type Head = http.OutgoingHttpHeaders | http.OutgoingHttpHeader[];

/** Applies to one request of the embedded route, before it is admitted. */
export function confineToSandbox(req: http.IncomingMessage, res: http.ServerResponse): void {
  delete req.headers.cookie;
  delete req.headers.authorization;
  const writeHead = res.writeHead;
  // Every head goes through writeHead (relayed answers and Gatehouse's own): the one place to filter.
  res.writeHead = function confinedWriteHead(
    this: http.ServerResponse,
    status: number,
    reasonOrHeaders?: string | Head,
    maybeHeaders?: Head,
  ) {
    const reason = typeof reasonOrHeaders === "string" ? reasonOrHeaders : undefined;
    const headers = typeof reasonOrHeaders === "string" ? maybeHeaders : reasonOrHeaders;
    for (const name of this.getHeaderNames()) if (DROPPED_FROM_ANSWERS.has(name)) this.removeHeader(name);
    const kept = confined(headers);
    return Reflect.apply(writeHead, this, reason === undefined ? [status, kept] : [status, reason, kept]) as http.ServerResponse;
  } as typeof res.writeHead;
}

function confined(headers: Head | undefined): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  if (Array.isArray(headers)) {
    // Node's flat [name, value, name, value…] form.
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = String(headers[i]).toLowerCase();
      if (DROPPED_FROM_ANSWERS.has(name)) continue;
      const value = headers[i + 1] as string | string[];
      const prior = out[name];
      out[name] =
        prior === undefined ? value : [...(Array.isArray(prior) ? prior : [String(prior)]), ...(Array.isArray(value) ? value : [value])];
    }
  } else if (headers) {
    for (const [name, value] of Object.entries(headers))
      if (!DROPPED_FROM_ANSWERS.has(name.toLowerCase()) && value !== undefined) out[name] = value;
  }
  return { ...out, ...CONFINED };
}

// The last line of defence for what a log line says: whatever text reaches a message (an
// upstream's error, a library's warning, a stack) loses query strings, URL userinfo,
// Authorization values and Gatehouse tokens before it is written. Callers still never log a
// secret on purpose; this catches what foreign text carries.

// A URL or an absolute path, then its query: `https://h/p?x=1`, `/api/v1/audit?q=...`.
const QUERY = /((?:\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#"'<>]*)?\/[^\s?#"'<>]*)\?[^\s#"'<>]+/gi;
// `scheme://user:pass@host` (the parent proxy's URL, a git remote).
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
// `Authorization: Bearer x`, `proxy-authorization=Basic x`, `"authorization":"Bearer x"`.
const AUTHORIZATION = /((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|token)\s+)?[^\s"',;]+/gi;
// Gatehouse's own secrets carry a prefix (lib/auth/tokens.ts): API keys, session tokens, setup links.
const TOKEN = /\b(gk|gs|gsetup)_[A-Za-z0-9_-]{8,}/g;

export function scrub(text: string): string {
  return text
    .replace(TOKEN, "$1_[REDACTED]")
    .replace(USERINFO, "$1[REDACTED]@")
    .replace(AUTHORIZATION, (_m, name: string, scheme: string | undefined) => `${name}${scheme ? `${scheme} ` : ""}[REDACTED]`)
    .replace(QUERY, "$1?[query removed]");
}

// GET /metrics — the Prometheus text, for whoever holds GATEHOUSE_METRICS_TOKEN (Bearer).
// Answered before Next on the dashboard port and in origin form on the proxy port.
import crypto from "node:crypto";
import type http from "node:http";
import type { Secret } from "../vault/secret";

const METRICS_PATH = /^\/metrics(?:\?.*)?$/;
const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const digest = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest();

/** Constant-time: both sides are hashed to one length first, so neither length nor content leaks. */
export function bearerMatches(header: string | undefined, token: Secret): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  const given = digest(m?.[1] ?? "");
  const ok = crypto.timingSafeEqual(given, digest(token.reveal()));
  return ok && !!m;
}

function json(res: http.ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/**
 * True when it answered: GET or HEAD /metrics with metrics on. With metrics off (no token) it
 * leaves every request alone, so /metrics is whatever the port answers without it.
 */
export function answerMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  token: Secret | undefined,
  scrape: () => Promise<string | null>,
): boolean {
  if (!token || !METRICS_PATH.test(req.url ?? "") || (req.method !== "GET" && req.method !== "HEAD")) return false;
  if (!bearerMatches(req.headers.authorization, token)) {
    json(res, 401, "unauthenticated", "send Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>", {
      "www-authenticate": 'Bearer realm="gatehouse-metrics"',
    });
    return true;
  }
  scrape().then(
    (text) => {
      if (text === null) return json(res, 503, "metrics_unavailable", "the metrics could not be gathered; try again");
      res.writeHead(200, { "content-type": CONTENT_TYPE, "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
      res.end(req.method === "HEAD" ? undefined : text);
    },
    () => json(res, 503, "metrics_unavailable", "the metrics could not be gathered; try again"),
  );
  return true;
}

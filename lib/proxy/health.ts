// /healthz and /readyz in origin form on the forward-proxy port (lib/health.ts), for load
// balancers that probe the port they send traffic to.
import type http from "node:http";
import type { Db } from "../../db/client";
import type { Revisions } from "../../db/queries/settings";
import { answerHealth, readiness } from "../health";

/**
 * True when it answered: the request was GET or HEAD /healthz and /readyz in origin form. A
 * replica's /readyz also names the revisions it holds (X-Gatehouse-Revisions: policy.sessions),
 * so a deployment check or a test can wait until a change has reached it.
 */
export function answerProxyHealth(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  db: Db,
  dataDir: string,
  revisions?: () => Revisions,
): boolean {
  // Proxy requests are absolute-form or CONNECT: this returns at once for every one of them.
  if (req.url?.charCodeAt(0) !== 0x2f) return false;
  if (revisions && /^\/readyz(?:\?|$)/.test(req.url)) {
    try {
      const r = revisions();
      res.setHeader("x-gatehouse-revisions", `${r.policy}.${r.sessions}`);
    } catch {
      // stale: the readiness answer says why
    }
  }
  return answerHealth(req, res, () => readiness(db, dataDir));
}

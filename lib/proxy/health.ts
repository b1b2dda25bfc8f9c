// /healthz and /readyz in origin form on the forward-proxy port (lib/health.ts), for load
// balancers that probe the port they send traffic to.
import type http from "node:http";
import type { Db } from "../../db/client";
import { answerHealth, readiness } from "../health";

/** True when it answered: the request was GET or HEAD /healthz or /readyz in origin form. */
export function answerProxyHealth(req: http.IncomingMessage, res: http.ServerResponse, db: Db, dataDir: string): boolean {
  // Proxy requests are absolute-form or CONNECT: this returns at once for every one of them.
  if (req.url?.charCodeAt(0) !== 0x2f) return false;
  return answerHealth(req, res, () => readiness(db, dataDir));
}

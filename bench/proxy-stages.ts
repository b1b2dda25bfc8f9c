// npm run bench:proxy-stages — CPU µs per request for each step Gatehouse adds to a relayed
// request (token, session check, token leak check, decision, header hygiene, journal record,
// completion), measured in-process with process.cpuUsage() over many iterations. CPU time, not
// wall time, so it holds up on a shared, loaded machine where bench:proxy's requests/s do not.
//   STAGES_N=20000 (iterations per stage)
import type http from "node:http";
import os from "node:os";
import { EgressJournal } from "../lib/audit/journal";
import { policyCache } from "../lib/policy-cache";
import { hostHeader, parseAbsoluteTarget, isTargetError } from "../lib/policy";
import { hasMethodOverride, upstreamRequestHeaders } from "../lib/proxy/headers";
import { sessionToken, tokenInRequest } from "../lib/proxy/token";
import { egressEvent } from "../lib/proxy/egress-audit";
import { createSession } from "../lib/services/sessions/create-session";
import { putPolicy } from "../lib/services/policy/put-policy";
import { orchestrator, owner, testContext } from "../lib/services/test-context";
import { SessionVerifier } from "../lib/sessions/verify";
import { sqliteOf } from "../db/client";
import { prepareRevisionsRead } from "../db/queries/settings";
import { changeGuardedRevisions, walIndexFile } from "../lib/proxy/revisions";

const N = Number(process.env.STAGES_N ?? 20_000);

async function main(): Promise<void> {
  const ctx = await testContext();
  await putPolicy({
    ctx,
    actor: owner,
    dryRun: false,
    input: {
      version: 1,
      memberAccess: { mode: "anyone" },
      bundles: [
        {
          name: "b",
          scope: { type: "organization" },
          domains: ["bench.test:8080"],
          connections: [
            { name: "api", serviceAccount: "bot@example.test", inject: { type: "bearer" }, allowedWebsites: ["api.bench.test"] },
          ],
        },
      ],
    },
  });
  const token = (
    await createSession({
      ctx,
      actor: orchestrator,
      input: { workspace: "T1", channel: "C1", thread: "1.1", kind: "channel", member: { id: "U1", orgMember: true, roles: [] } },
    })
  ).token;
  const sessions = new SessionVerifier(ctx.db);
  const policy = policyCache(ctx.db);
  const revisions = changeGuardedRevisions(prepareRevisionsRead(ctx.db), walIndexFile(sqliteOf(ctx.db)));
  const journal = new EgressJournal(ctx.env.dataDir);
  const proxyAuth = `Basic ${Buffer.from(`session:${token}`).toString("base64")}`;
  // What undici's Pool sends in bench:proxy, as Node's parser hands it over.
  const rawHeaders = ["host", "bench.test:8080", "proxy-authorization", proxyAuth, "connection", "keep-alive"];
  const headers: http.IncomingHttpHeaders = { host: "bench.test:8080", "proxy-authorization": proxyAuth, connection: "keep-alive" };
  const url = "http://bench.test:8080/";

  function stage(name: string, f: () => unknown): number {
    for (let i = 0; i < Math.min(N, 2000); i++) f(); // warm-up, JIT
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) f();
    const used = process.cpuUsage(before);
    const us = (used.user + used.system) / N;
    console.log(`${name.padEnd(44)} ${us.toFixed(2).padStart(8)} µs`);
    return us;
  }

  const rev = revisions();
  const target = parseAbsoluteTarget(url);
  if (isTargetError(target)) throw new Error("bad target");
  const session = sessions.verify(token, ctx.now(), rev.sessions);
  if (!session.ok) throw new Error("no session");
  const decision = policy
    .current(rev.policy)
    .decide("T1", "C1", { method: "GET", scheme: "http", host: "bench.test", port: 8080, path: "/", methodOverride: false });
  const attempt = { requestId: "req_bench", started: ctx.now(), session: session.session, token, method: "GET", target };
  let total = 0;
  console.log(
    `proxy stages, CPU per request over ${N} iterations each (load: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")})\n`,
  );
  total += stage("revisions read (one per event-loop turn)", () => revisions());
  total += stage("session token from Proxy-Authorization", () => sessionToken(proxyAuth));
  total += stage("target parse", () => parseAbsoluteTarget(url));
  total += stage("session verify (cached)", () => sessions.verify(token, ctx.now(), rev.sessions));
  total += stage("token leak check (URL and headers)", () =>
    tokenInRequest(
      token,
      `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`,
      rawHeaders,
    ),
  );
  total += stage("decide()", () =>
    policy.current(rev.policy).decide("T1", "C1", {
      method: "GET",
      scheme: "http",
      host: "bench.test",
      port: 8080,
      path: "/",
      methodOverride: hasMethodOverride(headers),
    }),
  );
  total += stage("upstream header hygiene", () => upstreamRequestHeaders(headers, token));
  total += stage("journal record (16 per write, per request)", () => {
    if (Math.random() < 1 / 16)
      journal.recordAll(Array.from({ length: 16 }, () => egressEvent(attempt, decision, { status: null, now: ctx.now() })));
  });
  const rec = journal.record(egressEvent(attempt, decision, { status: null, now: ctx.now() }));
  total += stage("journal completion", () =>
    journal.recordCompletion(rec, { ts: ctx.now(), status: 200, bytesIn: 2, bytesOut: 0, durationMs: 1, reason: decision.reason }),
  );
  console.log(`${"total Gatehouse steps".padEnd(44)} ${total.toFixed(2).padStart(8)} µs`);
  journal.close();
}

void main();

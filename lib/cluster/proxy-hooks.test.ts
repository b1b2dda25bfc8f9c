// The proxy core as a replica on PostgreSQL sees it: revisions from the change feed (a fake one
// here, driven by the test), refusing while stale, and closing a revoked session's sockets the
// moment the feed announces the revocation rather than at the next periodic check.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EgressJournal } from "../audit/journal";
import { policyCache } from "../policy-cache";
import { ensureCertificateAuthority, LeafIssuer } from "../proxy/ca";
import { EgressProxy } from "../proxy/egress-proxy";
import { Resolver } from "../proxy/resolve";
import { createSession } from "../services/sessions/create-session";
import { revokeSession } from "../services/sessions/revoke-session";
import { putPolicy } from "../services/policy/put-policy";
import { orchestrator, owner, testContext } from "../services/test-context";
import { SessionVerifier } from "../sessions/verify";
import type { ChangeListener, Revisions } from "./change-feed";
import { feedRevisions } from "./replica";

let ctx: Awaited<ReturnType<typeof testContext>>;
let upstreamHits = 0;
const upstream = http.createServer((_req, res) => {
  upstreamHits++;
  res.end("upstream body");
});
const acceptingJournal = {
  record: () => ({ shared: "" }),
  recordAll: (e: unknown[]) => e.map(() => ({ shared: "" })),
  recordLater: () => {},
  recordCompletion: () => {},
  recordTouch: () => {},
  close: () => {},
} as unknown as EgressJournal;

/** Stands in for ChangeFeed: the test sets the refusal and announces changes. */
class FakeFeed {
  refusing: string | null = null;
  current: Revisions = { policy: 0, sessions: 0 };
  readonly listeners = new Set<ChangeListener>();
  refusal = () => this.refusing;
  revisions = () => this.current;
  onChange(fn: ChangeListener) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  announce(next: Revisions) {
    const before = this.current;
    this.current = next;
    for (const fn of this.listeners) void fn(next, before, false);
  }
}

let upPort: number;
async function listening(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

async function replicaCore(feed: FakeFeed, sessions = new SessionVerifier(ctx.db)) {
  const core = new EgressProxy({
    db: ctx.db,
    audit: acceptingJournal,
    vault: ctx.vault,
    env: ctx.env,
    now: ctx.now,
    resolver: new Resolver({ allowPrivate: ["127.0.0.0/8"], overrides: { "allowed.example.test": "127.0.0.1" } }),
    policy: policyCache(ctx.db),
    sessions,
    issuer: await LeafIssuer.load(ctx.db, ctx.vault),
    upstreamCa: [],
    revisions: feedRevisions(feed),
    changes: feed,
  });
  const server = http.createServer();
  core.attach(server);
  const port = await listening(server);
  return { core, server, port, close: async () => (await core.close(), server.close()) };
}

async function newToken(): Promise<{ id: string; token: string }> {
  const s = await createSession({
    ctx,
    actor: orchestrator,
    input: { workspace: "T1", channel: "C1", thread: "1.1", kind: "channel", member: { id: "U1", orgMember: true, roles: [] } },
  });
  return { id: s.id, token: s.token };
}

function get(port: number, token: string): Promise<{ status: number; phrase: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(
        { port, path: `http://allowed.example.test:${upPort}/x`, headers: { "proxy-authorization": `Bearer ${token}` }, agent: false },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, phrase: res.statusMessage ?? "", body }));
        },
      )
      .on("error", reject);
  });
}

beforeAll(async () => {
  ctx = await testContext();
  upPort = await listening(upstream);
  await putPolicy({
    ctx,
    actor: owner,
    dryRun: false,
    input: {
      version: 1,
      memberAccess: { mode: "anyone" },
      bundles: [{ name: "b", scope: { type: "organization" }, domains: [`allowed.example.test:${upPort}`] }],
    },
  });
  await ensureCertificateAuthority(ctx.db, ctx.vault, ctx.env.dataDir);
});

afterAll(() => {
  upstream.close();
});

describe("a replica whose change feed cannot confirm it is current", () => {
  it("answers new requests and CONNECTs 503 policy_unavailable with the reason, then admits again by itself", async () => {
    const feed = new FakeFeed();
    const r = await replicaCore(feed);
    const { token } = await newToken();
    try {
      expect((await get(r.port, token)).status).toBe(200);
      feed.refusing = "cannot confirm the policy is current (the change feed connection was lost; last confirmed 3.1 s ago, limit 3.0 s)";
      const hits = upstreamHits;
      const refused = await get(r.port, token);
      expect(refused.status).toBe(503);
      const body = JSON.parse(refused.body) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe("policy_unavailable");
      expect(body.error.message).toMatch(/cannot confirm the policy is current \(the change feed connection was lost/);
      expect(body.error.requestId).toBeTruthy();
      expect(refused.phrase).not.toBe("Service Unavailable");
      const connect = await new Promise<string>((resolve, reject) => {
        const s = net.connect(r.port, "127.0.0.1", () =>
          s.write(`CONNECT allowed.example.test:${upPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`),
        );
        let text = "";
        s.on("data", (d: Buffer) => (text += d.toString()));
        s.on("close", () => resolve(text));
        s.on("error", reject);
      });
      expect(connect).toMatch(/^HTTP\/1\.1 503 /);
      expect(connect).toContain('"code":"policy_unavailable"');
      expect(upstreamHits).toBe(hits);
      feed.refusing = null;
      expect((await get(r.port, token)).status).toBe(200);
    } finally {
      await r.close();
    }
  });
});

describe("a revocation announced by the change feed", () => {
  it("closes the session's open tunnel at once, without waiting for the periodic check", async () => {
    const feed = new FakeFeed();
    const sessions = new SessionVerifier(ctx.db);
    let revocationReads = 0;
    const revokedSince = sessions.revokedSince.bind(sessions);
    sessions.revokedSince = (since: number) => (revocationReads++, revokedSince(since));
    const r = await replicaCore(feed, sessions);
    const s = await newToken();
    try {
      const socket = net.connect(r.port, "127.0.0.1");
      await new Promise((ok) => socket.once("connect", ok));
      socket.on("error", () => undefined);
      socket.write(`CONNECT allowed.example.test:${upPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${s.token}\r\n\r\n`);
      expect(await new Promise<string>((ok) => socket.once("data", (d: Buffer) => ok(d.toString())))).toMatch(/^HTTP\/1\.1 200/);
      const closed = new Promise<void>((ok) => socket.once("close", () => ok()));
      await revokeSession({ ctx, actor: orchestrator, input: { id: s.id } });
      const reads = revocationReads;
      // Another replica's revocation arrives through the feed: the sockets close in this turn.
      feed.announce({ policy: feed.current.policy, sessions: feed.current.sessions + 1 });
      expect(revocationReads).toBe(reads + 1);
      await closed;
    } finally {
      await r.close();
    }
  });
});

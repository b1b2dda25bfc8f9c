// The proxy core against a real database and a real local upstream, with a journal that cannot
// be written or a policy that cannot be read: an allowed request must then not go out, and the
// process keeps serving.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteOf, openDatabase, type Db } from "../../db/client";
import type { EgressJournal } from "../audit/journal";
import { policyCache } from "../policy-cache";
import { createSession } from "../services/sessions/create-session";
import { putPolicy } from "../services/policy/put-policy";
import { orchestrator, owner, testContext } from "../services/test-context";
import { SessionVerifier } from "../sessions/verify";
import { ensureCertificateAuthority, LeafIssuer } from "./ca";
import { EgressProxy } from "./egress-proxy";
import { Resolver } from "./resolve";

const ctx = await testContext();
let upstreamHits = 0;
const upstream = http.createServer((_req, res) => {
  upstreamHits++;
  res.end("upstream body");
});
const proxyServer = http.createServer();
let proxy: EgressProxy;
let token: string;

function get(path: string, via: http.Server = proxyServer): Promise<{ status: number; outcome: string | undefined; body: string }> {
  const { port } = via.address() as AddressInfo;
  const up = (upstream.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    http
      .get({ port, path: `http://allowed.example.test:${up}${path}`, headers: { "proxy-authorization": `Bearer ${token}` } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, outcome: res.headers["x-gatehouse-outcome"] as string | undefined, body }));
      })
      .on("error", reject);
  });
}

/** Sends bytes as they are; resolves with everything the proxy answered before it closed. */
function exchange(via: http.Server, text: string): Promise<string> {
  const { port } = via.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

/** A journal that takes every record and keeps none: for tests about something else. */
const acceptingJournal = { record: () => ({ shared: "" }), recordAll: () => [], recordLater: () => {}, recordCompletion: () => {}, recordTouch: () => {}, close: () => {} } as unknown as EgressJournal;

async function listening(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

/** The real core over this test's database; `db` is where it reads revisions and credentials. */
async function proxyCore(deps: { db: Db; audit: EgressJournal }): Promise<EgressProxy> {
  return new EgressProxy({
    ...deps,
    vault: ctx.vault,
    env: ctx.env,
    now: ctx.now,
    resolver: new Resolver({ allowPrivate: ["127.0.0.0/8"], overrides: { "allowed.example.test": "127.0.0.1" } }),
    policy: policyCache(ctx.db),
    sessions: new SessionVerifier(ctx.db),
    issuer: await LeafIssuer.load(ctx.db, ctx.vault),
    upstreamCa: [],
  });
}

beforeAll(async () => {
  const up = await listening(upstream);
  await putPolicy({ ctx, actor: owner, dryRun: false, input: { version: 1, memberAccess: { mode: "anyone" }, bundles: [{ name: "b", scope: { type: "organization" }, domains: [`allowed.example.test:${up}`], connections: [{ name: "api", serviceAccount: "bot@example.test", inject: { type: "bearer" }, allowedWebsites: ["secure.example.test"] }] }] } });
  token = (await createSession({ ctx, actor: orchestrator, input: { workspace: "T1", channel: "C1", thread: "1.1", kind: "channel", member: { id: "U1", orgMember: true, roles: [] } } })).token;
  await ensureCertificateAuthority(ctx.db, ctx.vault, ctx.env.dataDir);
  const full = () => {
    throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
  };
  // A host's first request waits for DNS and is recorded alone; later ones are recorded in batches.
  const brokenJournal = {
    record: full,
    recordAll: full,
    recordLater: () => {},
    recordTouch: () => {},
    close: () => {},
  } as unknown as EgressJournal;
  proxy = await proxyCore({ db: ctx.db, audit: brokenJournal });
  proxy.attach(proxyServer);
  await listening(proxyServer);
});

afterAll(async () => {
  await proxy.close();
  proxyServer.close();
  upstream.close();
});

describe("the proxy core when its audit record cannot be written", () => {
  it("answers 503 and never contacts the upstream; the process keeps serving", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await get(`/attempt/${i}`);
      expect(r.status, r.body).toBe(503);
      expect(r.outcome).toBe("blocked");
      expect(JSON.parse(r.body).error.code).toBe("audit_unavailable");
    }
    expect(upstreamHits).toBe(0);
  });
});

describe("the proxy core when its policy cannot be read", () => {
  it("answers 503 policy_unavailable to requests, CONNECTs and WebSocket upgrades; never contacts the upstream; does not crash", async () => {
    // Its own connection to the same database, closed under it: every read of it now throws.
    const lost = openDatabase(ctx.env.dataDir);
    const blind = await proxyCore({ db: lost, audit: acceptingJournal });
    sqliteOf(lost).close(); // the reader, where the proxy reads
    const server = http.createServer();
    blind.attach(server);
    await listening(server);
    const hitsBefore = upstreamHits;
    try {
      for (let i = 0; i < 2; i++) {
        const r = await get(`/blind/${i}`, server);
        expect(r.status, r.body).toBe(503);
        expect(r.outcome).toBe("blocked");
        expect(JSON.parse(r.body).error.code).toBe("policy_unavailable");
      }
      const up = (upstream.address() as AddressInfo).port;
      const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
      for (const request of [
        `CONNECT allowed.example.test:${up} HTTP/1.1\r\n${auth}\r\n`,
        `GET http://allowed.example.test:${up}/ws HTTP/1.1\r\nHost: allowed.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`,
      ]) {
        const answered = await exchange(server, request);
        expect(answered, request).toMatch(/^HTTP\/1\.1 503 /);
        expect(answered).toContain('"code":"policy_unavailable"');
      }
      expect(upstreamHits).toBe(hitsBefore);
    } finally {
      await blind.close();
      server.close();
    }
  });
});

describe("a session's connection limit", () => {
  it("counts the connections the sandbox opened: 256 intercepted tunnels fit, the next one gets 429", async () => {
    const core = await proxyCore({ db: ctx.db, audit: acceptingJournal });
    const server = http.createServer();
    core.attach(server);
    const port = await listening(server);
    const open: net.Socket[] = [];
    const tunnel = () =>
      new Promise<number>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => socket.write(`CONNECT secure.example.test:443 HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`));
        socket.once("data", (d: Buffer) => {
          open.push(socket);
          resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString())?.[1]));
        });
        socket.on("error", reject);
      });
    try {
      const statuses: number[] = [];
      // Each intercepted tunnel is two sockets inside Gatehouse (the connection and its TLS layer).
      for (let i = 0; i < 257; i++) statuses.push(await tunnel());
      expect(statuses.filter((s) => s === 200)).toHaveLength(256);
      expect(statuses[256]).toBe(429);
    } finally {
      for (const s of open) s.destroy();
      await core.close();
      server.close();
    }
  });
});

describe("a fault while handling a request", () => {
  it("answers that request 500 internal_error, and the process keeps serving", async () => {
    const core = await proxyCore({ db: ctx.db, audit: acceptingJournal });
    // The embedded route's entry, handed a request that throws the moment it is read.
    const server = http.createServer((req, res) => {
      if (req.url === "/proxy/boom") Object.defineProperty(req, "url", { get: () => { throw new Error("a bug"); } });
      core.handleEmbedded(req, res);
    });
    const port = await listening(server);
    const ask = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http.get({ port, path }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, body }));
        }).on("error", reject);
      });
    try {
      const boom = await ask("/proxy/boom");
      expect(boom.status).toBe(500);
      expect(JSON.parse(boom.body).error.code).toBe("internal_error");
      // The next request is handled as usual (here: refused for want of a token).
      expect((await ask("/proxy/http/allowed.example.test/x")).status).toBe(407);
    } finally {
      await core.close();
      server.close();
    }
  });
});

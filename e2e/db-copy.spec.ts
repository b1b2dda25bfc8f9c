// Moving up (issue #16): a SQLite Gatehouse used through its API, its proxy and its CLI, copied
// with `gatehouse db copy --to` into a throwaway PostgreSQL, then a Gatehouse started on the copy
// serves the same people, keys, policy and sessions, and its audit chain verifies.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect, test } from "@playwright/test";
import type { PgTestCluster } from "../scripts/pg-test-cluster.mjs";
import { e2eGatehouseEnv, gatehouseCli, startGatehouse, type Gatehouse } from "./fixtures/gatehouse";
import { TEST_HOSTS } from "./fixtures/hosts";
import { readState } from "./fixtures/state";

/** Imported when used: Playwright compiles a statically imported .mjs as CommonJS, which then fails to load. */
async function startPgCluster(): Promise<PgTestCluster> {
  const m = (await import(
    pathToFileURL(path.join(__dirname, "..", "scripts", "pg-test-cluster.mjs")).href
  )) as typeof import("../scripts/pg-test-cluster.mjs");
  return m.startPgCluster();
}

const owner = { email: "owner@dbcopy.test", password: "owner-password-not-real-7" };

async function apiCall(g: Gatehouse, key: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${g.baseURL}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}), connection: "close" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** A plain-HTTP request through the forward proxy with a session token, as a sandbox sends it. */
function viaProxy(g: Gatehouse, token: string, url: string): Promise<{ status: number; outcome: string | undefined; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: g.proxyPort,
        method: "GET",
        path: url,
        agent: false,
        headers: {
          host: u.host,
          "proxy-authorization": `Basic ${Buffer.from(`session:${token}`).toString("base64")}`,
          connection: "close",
        },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, outcome: res.headers["x-gatehouse-outcome"] as string | undefined, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** next-auth's credentials sign-in over HTTP: true when it hands out a session cookie. */
async function signIn(g: Gatehouse, email: string, password: string): Promise<boolean> {
  const c = await fetch(`${g.baseURL}/api/auth/csrf`);
  const { csrfToken } = (await c.json()) as { csrfToken: string };
  const cookie = c.headers
    .getSetCookie()
    .map((l) => l.split(";")[0])
    .join("; ");
  const res = await fetch(`${g.baseURL}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ email, password, csrfToken, json: "true", callbackUrl: `${g.baseURL}/` }).toString(),
  });
  return res.headers.getSetCookie().some((l) => l.startsWith("next-auth.session-token="));
}

test.describe("gatehouse db copy --to", () => {
  test.describe.configure({ timeout: 300_000 });
  let pg: PgTestCluster | undefined;
  let upstream: http.Server | undefined;
  const started: Gatehouse[] = [];

  test.afterAll(async () => {
    await Promise.all(started.map((g) => g.stop(5_000)));
    upstream?.close();
    await pg?.stop();
  });

  test("a SQLite deployment copied to PostgreSQL verifies and serves the same users, keys, policy and sessions", async () => {
    const state = readState();
    upstream = http.createServer((_req, res) => res.end("hello from upstream\n"));
    await new Promise<void>((r) => upstream!.listen(0, "127.0.0.1", r));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gh-dbcopy-e2e-"));
    const masterKey = crypto.randomBytes(32).toString("base64");
    // The same configuration on both sides; only the database differs (the source is SQLite even in the PG e2e pass).
    const common = {
      ...e2eGatehouseEnv(state.upstreamCertDir, owner, TEST_HOSTS),
      GATEHOUSE_MASTER_KEY: masterKey,
      GATEHOUSE_PROXY_WORKERS: "1",
    };

    const source = await startGatehouse(
      { ...common, GATEHOUSE_DATABASE_URL: "", GATEHOUSE_DATA_DIR: path.join(tmp, "sqlite") },
      { build: false, logFile: path.join(tmp, "source.log") },
    );
    started.push(source);
    const ownerKey = gatehouseCli(source, ["apikey", "create", "--name", "ops", "--role", "owner"]).stdout.trim();
    const orchKey = gatehouseCli(source, ["apikey", "create", "--name", "orchestrator", "--role", "orchestrator"]).stdout.trim();
    expect(ownerKey).toMatch(/\S{20,}/);
    const initial = await apiCall(source, ownerKey, "GET", "/policy");
    expect(initial.status, JSON.stringify(initial.json)).toBe(200);
    const policy = initial.json;
    policy.bundles ??= [];
    policy.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" };
    policy.orgDeny = ["paste.gh.test"];
    policy.bundles.push({
      name: "moving-up",
      scope: { type: "organization" },
      domains: [`api.gh.test:${upstreamPort}`],
      connections: [
        { name: "registry", serviceAccount: "agent@dbcopy.test", inject: { type: "bearer" }, allowedWebsites: ["registry.gh.test"] },
      ],
    });
    expect((await apiCall(source, ownerKey, "PUT", "/policy", policy)).status).toBe(200);
    expect(
      (await apiCall(source, ownerKey, "PUT", "/connections/moving-up/registry/credential", { secret: "fake-registry-token-for-tests" }))
        .status,
    ).toBe(204);
    const session = await apiCall(source, orchKey, "POST", "/sessions", {
      workspace: "T0COPY",
      channel: "C0COPY",
      thread: "1.2",
      kind: "channel",
      member: { id: "U0COPY", orgMember: true, roles: [] },
    });
    expect(session.status).toBe(201);
    const token = session.json.token as string;
    for (let i = 0; i < 20; i++) {
      expect((await viaProxy(source, token, `http://api.gh.test:${upstreamPort}/p/${i}`)).outcome).toBe("allowlisted");
      expect((await viaProxy(source, token, `http://other.gh.test/p/${i}`)).status).toBe(403);
    }
    expect(await signIn(source, owner.email, owner.password)).toBe(true);
    const sourcePolicy = (await apiCall(source, ownerKey, "GET", "/policy")).json;
    // Stopped cleanly: the egress journal is in the chain, nothing writes during the copy.
    await source.stop();
    const sourceVerify = gatehouseCli(source, ["audit", "verify"]);
    expect(sourceVerify.code, sourceVerify.stderr).toBe(0);

    pg = await startPgCluster();
    const copy = gatehouseCli(source, ["db", "copy", "--to", pg.url]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout).toMatch(/^copied \d+ row\(s\) in \d+ table\(s\)/);
    expect(copy.stderr).toMatch(/audit_events: \d+ row\(s\)/);
    for (const secret of [ownerKey, orchKey, token, "fake-registry-token-for-tests", masterKey])
      expect(copy.stdout + copy.stderr).not.toContain(secret);

    // The copy, before anything else touches it: the same chain, event for event.
    const verify = gatehouseCli({ env: { ...source.env, GATEHOUSE_DATABASE_URL: pg.url } }, ["audit", "verify"]);
    expect(verify.code, verify.stderr).toBe(0);
    const chain = (s: string) => /(\d+) event\(s\), last hash (\w+)/.exec(s)?.slice(1);
    expect(chain(verify.stderr)).toEqual(chain(sourceVerify.stderr));

    const onPg = await startGatehouse(
      { ...common, GATEHOUSE_DATABASE_URL: pg.url, GATEHOUSE_DATA_DIR: path.join(tmp, "pg-replica") },
      { build: false, logFile: path.join(tmp, "copy.log") },
    );
    started.push(onPg);

    // The same keys, the same policy, the same sessions, the same Owner.
    const copiedPolicy = await apiCall(onPg, ownerKey, "GET", "/policy");
    expect(copiedPolicy.status).toBe(200);
    expect(copiedPolicy.json).toEqual(sourcePolicy);
    const fresh = await apiCall(onPg, orchKey, "POST", "/sessions", {
      workspace: "T0COPY",
      channel: "C0COPY",
      thread: "1.3",
      kind: "channel",
      member: { id: "U0COPY", orgMember: true, roles: [] },
    });
    expect(fresh.status).toBe(201);
    // The same CA (its key copied sealed): sandboxes keep trusting one CA.
    expect(fresh.json.caCertPem).toBe(session.json.caCertPem);
    // The copied session token passes the proxy on the copy, under the copied policy.
    const allowed = await viaProxy(onPg, token, `http://api.gh.test:${upstreamPort}/after-copy`);
    expect(allowed.outcome).toBe("allowlisted");
    expect(allowed.body).toBe("hello from upstream\n");
    expect((await viaProxy(onPg, token, `http://paste.gh.test/x`)).status).toBe(403);
    expect((await viaProxy(onPg, "not-a-session-token", `http://api.gh.test:${upstreamPort}/x`)).status).toBe(407);
    expect((await apiCall(onPg, ownerKey, "DELETE", `/sessions/${session.json.id as string}`)).status).toBe(204);
    // A request admitted just before the revocation reached the proxy is cut with its session's
    // sockets: that is revocation working, so the poll goes on until the token itself is refused.
    await expect
      .poll(() =>
        viaProxy(onPg, token, `http://api.gh.test:${upstreamPort}/revoked`).then(
          (r) => r.status,
          () => "cut",
        ),
      )
      .toBe(407);
    expect((await apiCall(onPg, ownerKey, "DELETE", "/sessions/no-such-session")).status).toBe(404);
    expect((await apiCall(onPg, "not-a-key", "GET", "/policy")).status).toBe(401);
    expect(await signIn(onPg, owner.email, owner.password)).toBe(true);
    const after = gatehouseCli(onPg, ["audit", "verify"]);
    expect(after.code, after.stderr).toBe(0);
  });
});

// Path narrowing against a real nginx (merge_slashes on) behind HTTPS: a path that servers may
// read differently from Gatehouse never carries a narrowed credential, and what goes upstream
// with a credential is exactly the path that was decided on. nginx's own access log is the witness.
import { expect, test } from "@playwright/test";
import { fetch as undiciFetch } from "undici";
import { api } from "./fixtures/app";
import { recordedEvents } from "./fixtures/proxy-client";
import { startNginx, type Nginx } from "./fixtures/nginx";
import { pythonWithRequests, rawProxy, run, sandboxWith, type Sandbox } from "./fixtures/sandbox";

test.describe.configure({ mode: "serial" });

const SECRET = "ghp_FAKE_paths_test_token_7777";
const ATTACKS = ["/repos/acme//..//..//admin", "/repos/acme//../x", "/repos/acme/..;/admin", "/repos/acme/%2e%2e;/admin"];

let nginx: Nginx;
let sb: Sandbox;
const url = (p: string) => `https://api.gh.test:${nginx.port}${p}`;

test.beforeAll(async () => {
  nginx = await startNginx();
  sb = await sandboxWith(
    () => ({
      domains: [],
      connections: [
        {
          name: "github",
          serviceAccount: "claude-agent@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: [`api.gh.test:${nginx.port}`],
          narrow: { pathPrefix: "/repos/acme", methods: "read_only" },
        },
      ],
    }),
    { github: SECRET },
  );
});

test.afterAll(async () => {
  await nginx?.close();
});

test("paths nginx reads outside the prefix (merged slashes, dot segments, ';' parameters) never arrive with the credential", async () => {
  // The control: inside the prefix the credential travels, and nginx sees it.
  const inside = await sb.curl([url("/repos/acme/inside")]);
  expect(inside.status, inside.stderr).toBe(200);
  expect(inside.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(nginx.lines().find((l) => l.requestUri === "/repos/acme/inside")?.auth).toBe(`Bearer ${SECRET}`);

  for (const p of ATTACKS) {
    const r = await sb.curl(["--path-as-is", url(p)]);
    expect(r.status, `${p}: ${r.stderr}`).toBe(200);
    // The lists still let the request out; the narrowing keeps the key home.
    expect(r.headers["x-gatehouse-outcome"], p).toBe("allowlisted");
    const [ev] = await recordedEvents(r.headers["x-gatehouse-request-id"]!);
    expect(ev, p).toMatchObject({ outcome: "allowlisted", reason: expect.stringContaining("never fits a path narrowing") });
  }
  // The same through Python requests, which sends these paths as written.
  const script = [
    "import json, sys, requests",
    "print(json.dumps([requests.get(u, timeout=15).headers.get('x-gatehouse-outcome') for u in sys.argv[1:]]))",
  ].join("\n");
  const py = await run(pythonWithRequests(), ["-c", script, url("/repos/acme/..;/py-admin"), url("/repos/acme/%2e%2e;/py-admin")], {
    env: sb.env,
  });
  expect(py.status, py.stderr).toBe(0);
  expect(JSON.parse(py.stdout)).toEqual(["allowlisted", "allowlisted"]);

  const lines = nginx.lines();
  for (const p of ATTACKS) {
    const seen = lines.filter((l) => l.requestUri === p);
    expect(seen, `nginx received ${p}`).toHaveLength(1);
    expect(seen[0]!.auth, `${p} as nginx read it: ${seen[0]!.uri}`).toBe("");
  }
  // The witness: of everything nginx served, the credential only ever came with paths it read inside the prefix.
  const credentialed = lines.filter((l) => l.auth.includes(SECRET));
  expect(credentialed.length).toBeGreaterThan(0);
  for (const l of credentialed) expect(l.uri, l.requestUri).toMatch(/^\/repos\/acme(\/|$)/);
  expect(lines.filter((l) => l.uri === "/admin" || l.uri === "/repos/x").every((l) => l.auth === "")).toBe(true);
});

test("with a credential, the path that goes upstream is the one that was decided on, not the sandbox's spelling", async () => {
  const agent = sb.agent();
  try {
    // %61 is "a": decided as /repos/acme/decided, so that is what nginx must be sent.
    const res = await undiciFetch(url("/repos/%61cme/decided"), { dispatcher: agent });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
    await res.text();
  } finally {
    await agent.close();
  }
  const line = nginx.lines().find((l) => l.uri === "/repos/acme/decided");
  expect(line).toMatchObject({ requestUri: "/repos/acme/decided", auth: `Bearer ${SECRET}` });
});

test("strict targets: CONNECT needs host:port, a host name is at most 253 octets", async () => {
  const auth = `Proxy-Authorization: Bearer ${sb.token}\r\n`;
  const portless = await rawProxy(`CONNECT api.gh.test HTTP/1.1\r\nHost: api.gh.test\r\n${auth}\r\n`);
  expect(portless).toMatch(/^HTTP\/1\.1 400 /);
  expect(portless).toContain('"code":"bad_target"');
  expect(portless).toContain("port is missing");
  // 254 octets in labels of at most 63: each label is valid, the name is not.
  const long = Array.from({ length: 4 }, (_, i) => "a".repeat(i < 3 ? 63 : 62)).join(".");
  expect(long).toHaveLength(254);
  for (const request of [
    `GET http://${long}/x HTTP/1.1\r\nHost: ${long}\r\nConnection: close\r\n${auth}\r\n`,
    `CONNECT ${long}:443 HTTP/1.1\r\nHost: ${long}:443\r\n${auth}\r\n`,
  ]) {
    const r = await rawProxy(request);
    expect(r, request.slice(0, 8)).toMatch(/^HTTP\/1\.1 400 /);
    expect(r).toContain('"code":"bad_target"');
  }
});

test("a narrowing pathPrefix is stored normalised like request paths, or refused with the field at fault", async () => {
  const owner = api(sb.ownerKey);
  const doc = (await owner.get("/policy")).json;
  const conn = () => doc.bundles.find((b: { name: string }) => b.name === sb.bundle).connections[0];
  const field = `bundles[${doc.bundles.findIndex((b: { name: string }) => b.name === sb.bundle)}].connections[0].narrow.pathPrefix`;
  for (const bad of ["/repos/[acme]", "/repos//acme", "/repos/acme/..", "/repos/%2e%2e/acme", "/repos;x/acme"]) {
    conn().narrow.pathPrefix = bad;
    const r = await owner.put("/policy", doc);
    expect(r.status, bad).toBe(400);
    expect(JSON.stringify(r.json), bad).toContain(field);
  }
  conn().narrow.pathPrefix = "/repos/%61cme/";
  const ok = await owner.put("/policy", doc);
  expect(ok.status, JSON.stringify(ok.json)).toBe(200);
  const saved = (await owner.get("/policy")).json.bundles.find((b: { name: string }) => b.name === sb.bundle).connections[0].narrow
    .pathPrefix;
  expect(saved).toBe("/repos/acme");
  // And requests fit it as they would have fitted the same prefix typed plainly.
  const r = await sb.curl([url("/repos/acme/after-save")]);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
});

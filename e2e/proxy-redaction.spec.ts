// Redaction through the real process against a Python upstream that echoes the credential the
// way real services do: encoded by Python's standard library, to a later request that carried
// none, and under a transfer coding Gatehouse cannot scan.
import { expect, test } from "@playwright/test";
import { fetch as undiciFetch } from "undici";
import { pythonWithRequests, run, sandboxWith, type Sandbox } from "./fixtures/sandbox";
import { startReflector } from "./fixtures/upstreams";

test.describe.configure({ mode: "serial" });

// Fake, and spelled so that every encoding differs from it: "!" and "*" (kept by JavaScript,
// encoded by Python, PHP and Go), "/", "+", "=", "&", "<", ">", "'", "~".
const SECRET = "sk-FAKE-Ab12!Cd34*Ef/gh+ij=k&l<m>q'~z";

let reflector: { port: number; close(): Promise<void> };
let sb: Sandbox;
const url = (p: string) => `https://echo.gh.test:${reflector.port}${p}`;

test.beforeAll(async () => {
  reflector = await startReflector();
  sb = await sandboxWith(
    () => ({
      domains: [],
      connections: [
        {
          name: "svc",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: [`echo.gh.test:${reflector.port}`],
          narrow: { pathPrefix: "/repos/acme", methods: "read_only" },
        },
      ],
    }),
    { svc: SECRET },
  );
});

test.afterAll(async () => {
  await reflector?.close();
});

test("the credential percent-encoded, HTML- and JSON-escaped, base64- and hex-encoded by Python never reaches the sandbox", async () => {
  const script = [
    "import json, sys, requests",
    "r = requests.get(sys.argv[1], timeout=15)",
    "print(json.dumps({'status': r.status_code, 'outcome': r.headers.get('x-gatehouse-outcome'), 'location': r.headers.get('content-location'), 'body': r.text}))",
  ].join("\n");
  const py = await run(pythonWithRequests(), ["-c", script, url("/repos/acme/encoded")], { env: sb.env });
  expect(py.status, py.stderr).toBe(0);
  const r = JSON.parse(py.stdout) as { status: number; outcome: string; location: string; body: string };
  expect(r).toMatchObject({ status: 200, outcome: "credentialed", location: "/next?t=[REDACTED]" });
  const lines = Object.fromEntries(
    r.body
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
  );
  expect(Object.keys(lines)).toHaveLength(15);
  // Encodings of the secret alone are replaced whole; of "Bearer <secret>", the secret's part.
  for (const label of ["quote", "quote-default", "quote-lower", "php-urlencode", "html", "json", "json-all", "b64", "b64url", "hex"])
    expect(lines[label], label).toBe("[REDACTED]");
  expect(lines["quote_plus-bearer"]).toBe("Bearer+[REDACTED]");
  expect(lines["html-bearer"]).toBe("Bearer [REDACTED]");
  expect(lines["hex-bearer"]).toBe("42656172657220[REDACTED]");
  for (const label of ["b64-bearer", "b64-in-blob"]) {
    // What is left around the placeholder is base64 of "Bearer " and of the blob's padding: a few characters.
    expect(lines[label], label).toContain("[REDACTED]");
    expect(lines[label]!.replace("[REDACTED]", "").length, label).toBeLessThanOrEqual(16);
  }
  expect(r.body).not.toContain(SECRET);
});

test("an uncredentialed answer from an Allowed website is redacted too: the upstream echoes the credential it saw before", async () => {
  const agent = sb.agent();
  try {
    const first = await undiciFetch(url("/repos/acme/x"), { dispatcher: agent });
    expect(first.headers.get("x-gatehouse-outcome")).toBe("credentialed");
    await first.text();
    // Outside the narrowing: no credential goes, but the answer comes from the same server.
    const later = await undiciFetch(url("/status?m=last"), { dispatcher: agent });
    expect(later.status).toBe(200);
    expect(later.headers.get("x-gatehouse-outcome")).toBe("allowlisted");
    expect(later.headers.get("x-last-auth")).toBe("Bearer [REDACTED]");
    expect(await later.text()).toBe("last authorization: Bearer [REDACTED]\n");
  } finally {
    await agent.close();
  }
  // curl, as a byte range (each piece too short to recognise) or compressed: still whole, still scanned.
  const ranged = await sb.curl(["-r", "20-27", "-H", "Accept-Encoding: gzip, zstd", url("/status")]);
  expect(ranged.status).toBe(200);
  expect(ranged.body).toBe("last authorization: Bearer [REDACTED]\n");
});

test("an answer under a transfer coding other than chunked (gzip, chunked) cannot be scanned: 502, nothing relayed", async () => {
  for (const p of ["/repos/acme/te-gzip", "/te-gzip"]) {
    const r = await sb.curl([url(p)]);
    expect(r.status, p).toBe(502);
    expect(JSON.parse(r.body).error, p).toMatchObject({
      code: "upstream_invalid_response",
      message: expect.stringContaining("gzip transfer coding"),
    });
  }
});

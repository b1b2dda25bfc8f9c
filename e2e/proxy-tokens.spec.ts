// The session token never reaches an upstream, however the sandbox spelled it: Basic-encoded,
// percent-encoded in any case, as a header's name, split over headers or parameters, or in a body.
import { expect, test } from "@playwright/test";
import { fetch as undiciFetch } from "undici";
import { pythonWithRequests, run, sandboxWith, type Sandbox } from "./fixtures/sandbox";
import { startUpstreams, type Upstreams } from "./fixtures/upstreams";

test.describe.configure({ mode: "serial" });

let up: Upstreams;
let sb: Sandbox;
// An Allowed website (no credential set) is intercepted, so what goes inside TLS is seen; a
// Domains-only host is tunnelled blind, where nothing inside can be read (see lib/proxy/README.md).
const https = (p: string) => `https://api.gh.test:${up.httpsPort}${p}`;
const http = (p: string) => `http://registry.gh.test:${up.httpPort}${p}`;
const receivedAt = (p: string) => up.received.filter((r) => r.url.startsWith(p));
const everyByte = (s: string, lower = false) =>
  [...Buffer.from(s)].map((b) => "%" + (lower ? b.toString(16) : b.toString(16).toUpperCase()).padStart(2, "0")).join("");

test.beforeAll(async () => {
  up = await startUpstreams();
  sb = await sandboxWith(
    () => ({
      domains: [`registry.gh.test:${up.httpPort}`],
      connections: [
        {
          name: "uncredentialed",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: [`api.gh.test:${up.httpsPort}`],
        },
      ],
    }),
    {},
  );
});

test.afterAll(async () => {
  await up?.close();
});

/** Nothing the upstream saw, in any spelling this test knows, holds the token or a third of it. */
function upstreamNeverSawToken() {
  const seen = JSON.stringify(up.received);
  const third = sb.token.slice(3, 3 + Math.floor(sb.token.length / 3));
  for (const form of [sb.token, third, everyByte(sb.token), everyByte(sb.token, true), Buffer.from(`x:${sb.token}`).toString("base64")])
    expect(seen).not.toContain(form);
  expect(seen.toLowerCase()).not.toContain(third.toLowerCase());
}

test("headers carrying the token in any spelling are not forwarded: Basic, percent-encoded, as a name, in halves", async () => {
  const half = Math.ceil(sb.token.length / 2);
  const r = await sb.curl([
    "-H",
    `Authorization: Basic ${Buffer.from(`x:${sb.token}`).toString("base64")}`,
    "-H",
    `X-Encoded: t=${everyByte(sb.token, true)}`,
    "-H",
    `X-${sb.token}: 1`,
    // Halves apart (adjacent pieces are refused: the next test): each half is a piece of the token.
    "-H",
    `X-First: ${sb.token.slice(0, half)}`,
    "-H",
    "X-Innocent: kept",
    "-H",
    `X-Second: ${sb.token.slice(half)}`,
    https("/tokens/headers"),
  ]);
  expect(r.status, r.stderr).toBe(200);
  const seen = receivedAt("/tokens/headers")[0]!;
  expect(seen.headers["x-innocent"]).toBe("kept");
  for (const h of ["authorization", "x-encoded", `x-${sb.token.toLowerCase()}`, "x-first", "x-second"])
    expect(seen.headers[h], h).toBeUndefined();
  // Python requests puts a URL's credentials into Authorization: Basic.
  const [scheme, rest] = http("/tokens/python-basic").split("://");
  const py = await run(
    pythonWithRequests(),
    ["-c", "import sys, requests; print(requests.get(sys.argv[1], timeout=15).status_code)", `${scheme}://x:${sb.token}@${rest}`],
    { env: sb.env },
  );
  expect(py.stdout.trim(), py.stderr).toBe("200");
  expect(receivedAt("/tokens/python-basic")[0]!.headers.authorization).toBeUndefined();
  upstreamNeverSawToken();
});

test("the token percent-encoded (any case) or split in the URL, or split over headers, is refused: 403 token_in_request, nothing sent", async () => {
  // Pieces shorter than any run Gatehouse recognises on its own: only their concatenation is the token.
  const pieces = sb.token.match(/.{1,9}/g)!;
  const cases: [string, string[]][] = [
    ["query, upper-case escapes", [https(`/tokens/q1?t=${everyByte(sb.token)}`)]],
    ["query, lower-case escapes", [https(`/tokens/q2?t=${everyByte(sb.token, true)}`)]],
    ["path", ["--path-as-is", https(`/tokens/p/${everyByte(sb.token, true)}`)]],
    ["two query parameters", [https(`/tokens/q3?a=${sb.token.slice(0, 20)}&b=${sb.token.slice(20)}`)]],
    ["path segments in short pieces", [https(`/tokens/s/${pieces.join("/")}`)]],
    ["headers in short pieces", [...pieces.flatMap((p, i) => ["-H", `X-P${i}: ${p}`]), https("/tokens/h")]],
  ];
  for (const [why, args] of cases) {
    const r = await sb.curl(args);
    expect(r.status, `${why}: ${r.body}`).toBe(403);
    expect(JSON.parse(r.body).error.code, why).toBe("token_in_request");
  }
  // undici's fetch, as a Node client would send it.
  const agent = sb.agent();
  try {
    const res = await undiciFetch(
      https(`/tokens/undici?x=${encodeURIComponent(sb.token.slice(0, 16))}&y=${encodeURIComponent(sb.token.slice(16))}`),
      { dispatcher: agent },
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("token_in_request");
  } finally {
    await agent.close();
  }
  expect(
    up.received.filter((r) => r.url.startsWith("/tokens/") && !r.url.startsWith("/tokens/headers") && !r.url.startsWith("/tokens/python")),
  ).toHaveLength(0);
  upstreamNeverSawToken();
});

test("a request body holding the sandbox's HTTPS_PROXY value is cut off before the token leaves: 403 token_in_request", async () => {
  const body = `#!/bin/sh\nexport HTTPS_PROXY=${sb.proxyUrl}\n` + "x".repeat(200_000);
  for (const [why, url, extra] of [
    ["plain HTTP", http("/tokens/body"), []],
    ["intercepted HTTPS, chunked", https("/tokens/body-chunked"), ["-H", "Transfer-Encoding: chunked"]],
  ] as const) {
    const r = await run(
      "curl",
      [
        "-sS",
        "--max-time",
        "15",
        "-x",
        sb.proxyUrl,
        "--cacert",
        sb.caBundle,
        "-X",
        "POST",
        "--data-binary",
        "@-",
        ...extra,
        "-w",
        "\n%{http_code}",
        url,
      ],
      { input: body, env: { NO_PROXY: "", no_proxy: "" } },
    );
    const status = Number(r.stdout.trim().slice(-3));
    expect(status, `${why}: ${r.stdout.slice(0, 300)} ${r.stderr}`).toBe(403);
    expect(r.stdout, why).toContain("token_in_request");
  }
  // The upstream may have seen the body's beginning, never the token.
  upstreamNeverSawToken();
  // Without it, bodies go through whole.
  const ok = await run(
    "curl",
    ["-sS", "--max-time", "15", "-x", sb.proxyUrl, "-X", "POST", "--data-binary", "@-", "-w", "\n%{http_code}", http("/tokens/clean-body")],
    { input: "y".repeat(100_000), env: { NO_PROXY: "", no_proxy: "" } },
  );
  expect(ok.stdout.trim().slice(-3)).toBe("200");
  expect(receivedAt("/tokens/clean-body")[0]!.body).toHaveLength(100_000);
});

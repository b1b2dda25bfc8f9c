// Real clients through Gatehouse unmodified: the embedded route, undici's ProxyAgent (SSE too),
// Python requests, git over smart HTTP.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import {
  BASIC_SECRET,
  bundle,
  caBundle,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  httpsUrl,
  httpUrl,
  ownerKey,
  proxySuite,
  receivedAt,
  run,
  sandboxSaw,
  sandboxSawResponse,
  SECRET,
  tmp,
  token,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

proxySuite();

test("the embedded route: same decision, injection and audit", async () => {
  const url = `${gh.baseURL}/proxy/https/api.gh.test:${up.httpsPort}/repos/acme/embedded?x=1`;
  const res = await fetch(url, { headers: { "Proxy-Authorization": `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  const seen = receivedAt("/repos/acme/embedded")[0]!;
  expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(seen.headers.host).toBe(`api.gh.test:${up.httpsPort}`);
  expect(seen.url).toBe("/repos/acme/embedded?x=1");
  const text = await res.text();
  sandboxSawResponse(res, text);
  expect(text).not.toContain(SECRET);
  // fetch() turns a 407 into a network error by design: ask with node:http instead.
  const status = await new Promise<number>((resolve, reject) =>
    http.get(url, (r) => (sandboxSaw(JSON.stringify(r.headers)), r.resume(), resolve(r.statusCode ?? 0))).on("error", reject),
  );
  expect(status).toBe(407);
  const blocked = await fetch(`${gh.baseURL}/proxy/https/other.gh.test/x`, { headers: { "Proxy-Authorization": `Bearer ${token}` } });
  sandboxSawResponse(blocked, await blocked.text());
  expect(blocked.status).toBe(403);
  expect(blocked.headers.get("x-gatehouse-outcome")).toBe("blocked");
  // A host whose percent-encoding is broken is a bad target, answered at once.
  const malformed = await fetch(`${gh.baseURL}/proxy/http/%E0%A4%A/x`, {
    headers: { "Proxy-Authorization": `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  expect(malformed.status).toBe(400);
  const malformedText = await malformed.text();
  sandboxSawResponse(malformed, malformedText);
  expect(JSON.parse(malformedText).error.code).toBe("bad_target");
});

test("a server-sent event stream through interception reaches the sandbox event by event, still redacted", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${gh.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const started = Date.now();
  const res = await undiciFetch(httpsUrl("api.gh.test", "/repos/acme/events"), { dispatcher: agent });
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  const headAfter = Date.now() - started;
  const reader = res.body!.getReader();
  const arrivals: { at: number; text: string }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push({ at: Date.now() - started, text: Buffer.from(value).toString() });
  }
  const text = arrivals.map((a) => a.text).join("");
  sandboxSawResponse(res, text);
  expect(text).toBe('data: {"delta":"one"}\n\ndata: {"echo":"Bearer [REDACTED]"}\n\n');
  // The first event is whole long before the second is sent (1.5 s later).
  const firstWhole = arrivals.find((_, i) =>
    arrivals
      .slice(0, i + 1)
      .map((a) => a.text)
      .join("")
      .includes('"one"}\n\n'),
  )!;
  expect(headAfter).toBeLessThan(1000);
  expect(firstWhole.at).toBeLessThan(1000);
  await agent.close();
});

test("Node's fetch through undici's ProxyAgent", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${gh.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const res = await undiciFetch(httpsUrl("api.gh.test", "/repos/acme/undici"), { dispatcher: agent });
  expect(res.status).toBe(200);
  sandboxSawResponse(res, await res.text());
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  expect(receivedAt("/repos/acme/undici")[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  await agent.close();
});

test("Python requests through HTTP_PROXY / HTTPS_PROXY, unmodified", async () => {
  // The interpreter that has requests (.ci/run installs Debian's python3-requests if none does).
  const python = ["python3", "/usr/bin/python3"].find((p) => {
    try {
      return spawnSync(p, ["-c", "import requests"]).status === 0;
    } catch {
      return false;
    }
  });
  expect(python, "python3 with the requests package").toBeTruthy();
  const script = [
    "import json, sys, requests",
    "out = []",
    "for url in sys.argv[1:]:",
    "    r = requests.get(url, timeout=15)",
    "    out.append({'status': r.status_code, 'outcome': r.headers.get('x-gatehouse-outcome'), 'body': r.text, 'headers': dict(r.headers)})",
    "print(json.dumps(out))",
  ].join("\n");
  const proxy = `http://session:${token}@127.0.0.1:${gh.proxyPort}`;
  const r = await run(
    python!,
    [
      "-c",
      script,
      httpsUrl("api.gh.test", "/repos/acme/python"),
      httpUrl("registry.gh.test", "/python/plain"),
      httpUrl("other.gh.test", "/python/blocked"),
    ],
    {
      env: { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, NO_PROXY: "", no_proxy: "", REQUESTS_CA_BUNDLE: caBundle },
    },
  );
  expect(r.status, r.stderr).toBe(0);
  sandboxSaw(r.stdout, r.stderr);
  const [credentialed, plain, blocked] = JSON.parse(r.stdout) as { status: number; outcome: string; body: string }[];
  expect(credentialed).toMatchObject({ status: 200, outcome: "credentialed" });
  expect(credentialed!.body).not.toContain(SECRET);
  expect(receivedAt("/repos/acme/python")[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(plain).toMatchObject({ status: 200, outcome: "allowlisted" });
  expect(blocked).toMatchObject({ status: 403, outcome: "blocked" });
  expect(receivedAt("/python/blocked")).toHaveLength(0);
});

test("git clone and git push over HTTPS (smart HTTP) through the proxy, the credential attached at the boundary", async () => {
  const work = path.join(tmp, "work");
  const projects = path.join(tmp, "git-projects");
  const repo = path.join(projects, "app.git");
  const sh = async (cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}) => {
    const r = await run(cmd, args, { cwd, env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", ...env } });
    expect(r.status, `${cmd} ${args.join(" ")}\n${r.stderr}`).toBe(0);
    sandboxSaw(r.stdout, r.stderr);
    return r;
  };
  const commit = (cwd: string, message: string) => sh("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", message], cwd);
  await sh("git", ["init", "-q", "-b", "main", work]);
  fs.writeFileSync(path.join(work, "README.md"), "hello through gatehouse\n");
  await sh("git", ["add", "."], work);
  await commit(work, "readme");
  fs.mkdirSync(projects);
  await sh("git", ["clone", "-q", "--bare", work, repo]);

  // git's own smart-HTTP server (git http-backend, run as CGI) behind Basic auth.
  const pushes: string[] = [];
  const { createServer } = await import("node:https");
  const gitServer = createServer(
    { cert: fs.readFileSync(path.join(gh.upstreamCertDir, "leaf.pem")), key: fs.readFileSync(path.join(gh.upstreamCertDir, "leaf.key")) },
    (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from(`bot:${BASIC_SECRET}`).toString("base64")}`) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
        return res.end();
      }
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname.endsWith("/git-receive-pack"))
        pushes.push(`${req.method} ${req.headers["transfer-encoding"] ?? req.headers["content-length"]}`);
      const cgi = spawn("git", ["http-backend"], {
        env: {
          ...process.env,
          GIT_PROJECT_ROOT: projects,
          GIT_HTTP_EXPORT_ALL: "1",
          REMOTE_USER: "bot",
          REMOTE_ADDR: "127.0.0.1",
          PATH_INFO: url.pathname.replace(/^\/acme/, ""),
          QUERY_STRING: url.search.slice(1),
          REQUEST_METHOD: req.method ?? "GET",
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let headDone = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (headDone) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        headDone = true;
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.subarray(0, end).toString().split("\r\n")) {
          const [k, ...v] = line.split(":");
          if (k!.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
          else headers[k!] = v.join(":").trim();
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end + 4));
      });
      cgi.stdout.on("end", () => res.end());
    },
  );
  await new Promise<void>((r) => gitServer.listen(0, "127.0.0.1", r));
  try {
    const gitPort = (gitServer.address() as net.AddressInfo).port;
    await updatePolicy(ownerKey, (doc) =>
      doc.bundles
        .find((b: { name: string }) => b.name === bundle)
        .connections.find((c: { name: string }) => c.name === "basic")
        .allowedWebsites.push(`git.gh.test:${gitPort}`),
    );
    const proxy = `http://session:${token}@127.0.0.1:${gh.proxyPort}`;
    const viaProxy = { HTTPS_PROXY: proxy, https_proxy: proxy, GIT_SSL_CAINFO: caBundle, NO_PROXY: "", no_proxy: "" };
    const dest = path.join(tmp, "clone");
    await sh("git", ["clone", "-q", `https://git.gh.test:${gitPort}/acme/app.git`, dest], undefined, viaProxy);
    expect(fs.readFileSync(path.join(dest, "README.md"), "utf8")).toBe("hello through gatehouse\n");

    // A push with a pack large enough that git streams it (chunked), as an agent's push would.
    fs.writeFileSync(path.join(dest, "data.bin"), crypto.randomBytes(3 * 1024 * 1024));
    fs.writeFileSync(path.join(dest, "NOTES.md"), "pushed by the agent\n");
    await sh("git", ["add", "."], dest);
    await commit(dest, "agent change");
    await sh("git", ["push", "-q", "origin", "main"], dest, viaProxy);
    const pushed = await sh("git", ["--git-dir", repo, "log", "-1", "--format=%s", "main"]);
    expect(pushed.stdout.trim()).toBe("agent change");
    expect(pushes.some((p) => p.startsWith("POST chunked"))).toBe(true);
    // The sandbox's clone holds no credential.
    expect(fs.readFileSync(path.join(dest, ".git", "config"), "utf8")).not.toContain(BASIC_SECRET);
    sandboxSaw(
      fs.readFileSync(path.join(dest, ".git", "config"), "utf8"),
      fs.readFileSync(path.join(dest, "README.md"), "utf8"),
      fs.readFileSync(path.join(dest, "NOTES.md"), "utf8"),
    );
  } finally {
    gitServer.close();
  }
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});

import net from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { readEnv } from "../env";
import { isPrivateName, noProxyMatches, ParentProxy } from "./parent-proxy";

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A loopback stand-in for a company proxy: records each CONNECT head, answers `status`, then echoes. */
async function fakeParent(status: number | null): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const server = net.createServer((sock) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      sock.removeListener("data", onData);
      heads.push(buf.slice(0, end));
      if (status === null) return; // never answers
      sock.write(`HTTP/1.1 ${status} Whatever\r\n\r\n${status === 200 ? "early" : ""}`);
      if (status !== 200) return void sock.end();
      sock.pipe(sock);
    };
    sock.on("data", onData);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, heads };
}

function parentAt(port: number, extra: Record<string, string> = {}) {
  const env = readEnv({
    GATEHOUSE_UPSTREAM_PROXY: `http://gate%40user:p%3Ass-not-real@127.0.0.1:${port}`,
    ...extra,
  } as unknown as NodeJS.ProcessEnv);
  return new ParentProxy({
    config: env.upstreamProxy!,
    overrides: { "pinned.example": "203.0.113.9", "inside.example": "10.0.0.5" },
    permitted: (a) => !/^(10\.|127\.|169\.254\.)/.test(a),
  });
}

describe("GATEHOUSE_UPSTREAM_PROXY", () => {
  it("is parsed without ever echoing its password", () => {
    expect(() => readEnv({ GATEHOUSE_UPSTREAM_PROXY: "http://u:secret-pass@proxy.example" } as unknown as NodeJS.ProcessEnv)).toThrow(
      /port/,
    );
    try {
      readEnv({ GATEHOUSE_UPSTREAM_PROXY: "ftp://u:secret-pass@proxy.example:21" } as unknown as NodeJS.ProcessEnv);
    } catch (err) {
      expect((err as Error).message).not.toContain("secret-pass");
    }
    const env = readEnv({
      GATEHOUSE_UPSTREAM_PROXY: "http://u:secret-pass@proxy.example:3128",
      GATEHOUSE_UPSTREAM_NO_PROXY: "Internal.Example., .corp.example",
    } as unknown as NodeJS.ProcessEnv);
    expect(JSON.stringify(env)).not.toContain("secret-pass");
    expect(env.upstreamProxy).toMatchObject({
      display: "proxy.example:3128",
      host: "proxy.example",
      port: 3128,
      noProxy: ["internal.example", ".corp.example"],
    });
  });
});

describe("the parent proxy", () => {
  it("opens a CONNECT tunnel with Basic credentials, keeping bytes that followed its answer", async () => {
    const p = await fakeParent(200);
    const sock = await parentAt(p.port).tunnel("api.example.com", 443, 2000);
    const got = await new Promise<string>((resolve) => {
      let text = "";
      sock.on("data", (d: Buffer) => {
        text += d.toString();
        if (text === "earlyping") resolve(text);
      });
      sock.resume();
      sock.write("ping");
    });
    sock.destroy();
    expect(got).toBe("earlyping");
    expect(p.heads[0]).toBe(
      `CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nProxy-Authorization: Basic ${Buffer.from("gate@user:p:ss-not-real").toString("base64")}`,
    );
  });

  it("sends a GATEHOUSE_RESOLVE override as its address, and refuses private destinations before dialling", async () => {
    const p = await fakeParent(200);
    const parent = parentAt(p.port);
    (await parent.tunnel("pinned.example", 8443, 2000)).destroy();
    expect(p.heads[0]).toMatch(/^CONNECT 203\.0\.113\.9:8443 /);
    for (const host of ["inside.example", "10.1.2.3", "169.254.169.254", "localhost", "db.internal", "printer.local", "intranet"]) {
      await expect(parent.tunnel(host, 443, 2000)).rejects.toMatchObject({ code: "EGATEHOUSE_REFUSED" });
    }
    expect(p.heads).toHaveLength(1);
  });

  it("maps a refusal, silence and a dead parent to codes, never naming the credentials", async () => {
    const refused = await fakeParent(407);
    const err = await parentAt(refused.port)
      .tunnel("api.example.com", 443, 2000)
      .catch((e: NodeJS.ErrnoException) => e);
    expect(err).toMatchObject({ code: "PARENT_PROXY_407" });
    expect(String((err as Error).message)).not.toMatch(/p:ss|gate@user|cDpz/);
    const silent = await fakeParent(null);
    await expect(parentAt(silent.port).tunnel("api.example.com", 443, 200)).rejects.toMatchObject({ code: "UND_ERR_CONNECT_TIMEOUT" });
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    dead.close();
    await expect(parentAt(deadPort).tunnel("api.example.com", 443, 2000)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("GATEHOUSE_UPSTREAM_NO_PROXY", () => {
  it("matches names with their subdomains, IPs and CIDR ranges", () => {
    const list = ["corp.example", ".svc.example", "*.cluster.example", "192.0.2.0/24", "2001:db8::/32", "198.51.100.7"];
    expect(noProxyMatches(list, "corp.example")).toBe(true);
    expect(noProxyMatches(list, "git.corp.example.")).toBe(true);
    expect(noProxyMatches(list, "evilcorp.example")).toBe(false);
    expect(noProxyMatches(list, "a.svc.example")).toBe(true);
    expect(noProxyMatches(list, "x.y.cluster.example")).toBe(true);
    expect(noProxyMatches(list, "192.0.2.77")).toBe(true);
    expect(noProxyMatches(list, "[2001:db8::1]")).toBe(true);
    expect(noProxyMatches(list, "198.51.100.7")).toBe(true);
    expect(noProxyMatches(list, "198.51.100.8")).toBe(false);
    expect(noProxyMatches(["*"], "anything.example")).toBe(true);
    expect(noProxyMatches([], "anything.example")).toBe(false);
  });
  it("never lets a name match by a suffix that is not a whole label", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,10}$/), fc.stringMatching(/^[a-z0-9-]{1,10}\.example$/), (prefix, entry) => {
        expect(noProxyMatches([entry], `${prefix}${entry}`)).toBe(false);
        expect(noProxyMatches([entry], `${prefix}.${entry}`)).toBe(true);
      }),
    );
  });
  it("private names are the ones with no public meaning", () => {
    for (const h of ["localhost", "api.localhost", "nas.local", "metadata.google.internal", "router.home.arpa", "wiki", "x.corp"])
      expect(isPrivateName(h)).toBe(true);
    for (const h of ["api.github.com", "example.com", "10.0.0.1", "registry.gh.test"]) expect(isPrivateName(h)).toBe(false);
  });
});

describe("undici through the parent", () => {
  it("reaches an HTTPS upstream end to end inside the tunnel (SNI and certificate are the upstream's), and plain HTTP too", async () => {
    const { default: https } = await import("node:https");
    const { default: http } = await import("node:http");
    const { default: tls } = await import("node:tls");
    const { Agent, buildConnector } = await import("undici");
    const { createCertificateAuthority, issueLeafForNames } = await import("./certificates");
    const ca = await createCertificateAuthority("parent-proxy test CA");
    const leaf = await issueLeafForNames({ names: ["api.example.com"], caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const seen: string[] = [];
    const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.end("hello");
    };
    const upstreamTls = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
    const upstreamPlain = http.createServer(handler);
    for (const s of [upstreamTls, upstreamPlain]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    // A real relaying parent: CONNECT name:port → 127.0.0.1:port.
    const connects: string[] = [];
    const parent = http.createServer();
    parent.on("connect", (req, sock: net.Socket, head: Buffer) => {
      connects.push(req.url!);
      const up = net.connect(Number(req.url!.split(":").pop()), "127.0.0.1", () => {
        sock.write("HTTP/1.1 200 Connection established\r\n\r\n");
        if (head.length) up.write(head);
        up.pipe(sock).pipe(up);
      });
    });
    await new Promise<void>((r) => parent.listen(0, "127.0.0.1", r));
    const parentPort = (parent.address() as net.AddressInfo).port;
    const env = readEnv({
      GATEHOUSE_UPSTREAM_PROXY: `http://127.0.0.1:${parentPort}`,
      GATEHOUSE_UPSTREAM_NO_PROXY: "direct.example",
    } as unknown as NodeJS.ProcessEnv);
    const pp = new ParentProxy({ config: env.upstreamProxy!, overrides: {}, permitted: () => true });
    const secureContext = tls.createSecureContext({ ca: [ca.certPem] });
    const direct = buildConnector({ secureContext, rejectUnauthorized: true });
    const agent = new Agent({ connect: pp.connector(direct, secureContext, 2000) });
    try {
      const tlsPort = (upstreamTls.address() as net.AddressInfo).port;
      const plainPort = (upstreamPlain.address() as net.AddressInfo).port;
      const a = await agent.request({ origin: `https://api.example.com:${tlsPort}`, path: "/x?y=1", method: "GET" });
      expect(await a.body.text()).toBe("hello");
      const b = await agent.request({ origin: `http://plain.example:${plainPort}`, path: "/p", method: "GET" });
      expect(await b.body.text()).toBe("hello");
      expect(connects).toEqual([`api.example.com:${tlsPort}`, `plain.example:${plainPort}`]);
      expect(seen).toEqual([`api.example.com:${tlsPort} /x?y=1`, `plain.example:${plainPort} /p`]);
      // A certificate for another name fails inside the tunnel as it would directly.
      await expect(agent.request({ origin: `https://other.example:${tlsPort}`, path: "/", method: "GET" })).rejects.toMatchObject({
        code: expect.stringMatching(/CERT|HOST/),
      });
    } finally {
      await agent.close();
      for (const s of [upstreamTls, upstreamPlain, parent]) s.close();
    }
  });
});

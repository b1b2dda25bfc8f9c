// The per-session connection limit, counted on a Gatehouse of its own with one proxy worker so
// every connection lands on the same counter (the shared e2e server has two, and the kernel
// picks which one accepts).
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { gatehouseCli, startGatehouse } from "./fixtures/gatehouse";

const LIMIT = 256;

test("an intercepted tunnel counts once against its session's limit (256 fit, the next gets 429)", async () => {
  test.setTimeout(120_000);
  const server = await startGatehouse(
    {
      GATEHOUSE_PROXY_WORKERS: "1",
      // Tunnels that have not spoken yet are held this long: long enough to open them all.
      GATEHOUSE_PROXY_TIMEOUTS: "request-headers=60s,request=60s",
      GATEHOUSE_OWNER_EMAIL: "",
      GATEHOUSE_OWNER_PASSWORD: "",
    },
    { build: false },
  );
  const { dataDir, proxyPort } = server;
  try {
    expect(server.output()).toContain("dashboard on");
    const cli = (args: string[], input?: string) => {
      const r = gatehouseCli(server, args, input);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const policy = path.join(dataDir, "policy.json");
    fs.writeFileSync(
      policy,
      JSON.stringify({
        version: 1,
        memberAccess: { mode: "anyone" },
        bundles: [
          {
            name: "limit",
            scope: { type: "organization" },
            domains: [],
            connections: [
              { name: "api", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["api.limit.test"] },
            ],
          },
        ],
      }),
    );
    cli(["policy", "import", policy]);
    cli(["credential", "set", "limit/api"], "fake-limit-token");
    const token = cli(["session", "create", "--workspace", "T0LIMIT", "--channel", "C0LIMIT", "--member", "U0LIMIT"])
      .trim()
      .split("\n")[0]!;

    // A CONNECT the proxy intercepts: it answers 200 and waits for the TLS handshake.
    const connect = () =>
      new Promise<{ socket: net.Socket; head: string }>((resolve) => {
        const socket = net.connect(proxyPort, "127.0.0.1", () =>
          socket.write(`CONNECT api.limit.test:443 HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`),
        );
        socket.once("data", (d: Buffer) => resolve({ socket, head: d.toString("latin1") }));
        socket.on("error", () => resolve({ socket, head: "" }));
      });
    const open: net.Socket[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const t = await connect();
      expect(t.head, `tunnel ${i + 1}`).toMatch(/^HTTP\/1\.1 200/);
      open.push(t.socket);
    }
    const refused = await connect();
    expect(refused.head).toMatch(/^HTTP\/1\.1 429/);
    expect(refused.head).toContain("too_many_connections");
    refused.socket.destroy();
    // The slots come back when the tunnels close.
    for (const socket of open) socket.destroy();
    await expect
      .poll(async () => await connect().then((t) => (t.socket.destroy(), t.head.slice(0, 12))), { timeout: 5_000 })
      .toBe("HTTP/1.1 200");
  } finally {
    await server.stop();
  }
});

// PostgreSQL unreachable at start: one clear line naming host:port, never the password.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { prepareDataDir, StartupError } from "./bootstrap";
import { readEnv } from "./env";

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("start-up on an unreachable PostgreSQL", () => {
  it("fails with one line naming host:port, without the password", async () => {
    const port = await closedPort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-pgdown-"));
    const env = readEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_DATABASE_URL: `postgres://gh:fake-db-password-1@127.0.0.1:${port}/gatehouse` } as unknown as NodeJS.ProcessEnv);
    const err = await prepareDataDir(env, { createKey: true }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toBe(`database: cannot reach PostgreSQL at 127.0.0.1:${port}/gatehouse (ECONNREFUSED)`);
    expect(message).not.toContain("fake-db-password-1");
    expect(message.split("\n")).toHaveLength(1);
  });
});

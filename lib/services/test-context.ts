// A real SQLite data directory in a temp folder, with a clock the test moves: for service tests.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { prepareDataDir } from "../bootstrap";
import { readEnv } from "../env";
import type { Actor } from "../auth/permissions";
import type { ServiceContext } from "./context";

export type TestContext = ServiceContext & { clock: { now: number } };

export async function testContext(start = 1_700_000_000_000): Promise<TestContext> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-svc-"));
  const env = readEnv({ GATEHOUSE_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv);
  const { db, vault } = await prepareDataDir(env, { createKey: true });
  const clock = { now: start };
  return { db, vault, env, now: () => clock.now, clock };
}

export const owner: Actor = { type: "system", role: "owner" };
export const orchestrator: Actor = { type: "apikey", id: "k1", name: "orch", role: "orchestrator" };
export const auditor: Actor = { type: "apikey", id: "k2", name: "aud", role: "auditor" };

import fs from "node:fs";
import { readState, STATE_FILE } from "./fixtures/state";

export default async function globalTeardown(): Promise<void> {
  if (!fs.existsSync(STATE_FILE)) return;
  const { pid } = readState();
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  // Wait for a clean shutdown (the server exits on SIGINT within a few seconds).
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, "SIGKILL");
}

// `npm start` itself: the first-Owner setup link, clean shutdown, and refusing a bad master key.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startGatehouse } from "./fixtures/gatehouse";
import { fatalMessages, parseLogLines } from "./fixtures/logs";
import { freePort } from "./fixtures/ports";

/**
 * `npm start` with no first Owner configured, serving the suite's build (--no-build: the shared
 * server runs from it); returns at once, whether it comes up or not.
 */
async function start(env: Record<string, string>) {
  const g = await startGatehouse({ ...env, GATEHOUSE_OWNER_EMAIL: "", GATEHOUSE_OWNER_PASSWORD: "" }, { waitReady: false, build: false });
  return { child: g.child, exited: g.exited, out: g.output };
}

test("without a configured Owner, npm start prints a one-time setup link; Ctrl-C stops both listeners", async ({ page }) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-setup-"));
  const port = await freePort();
  const proxyPort = await freePort();
  const server = await start({ GATEHOUSE_DATA_DIR: dataDir, PORT: String(port), GATEHOUSE_PROXY_PORT: String(proxyPort) });
  const setupUrl = () => parseLogLines(server.out()).find((l) => typeof l.setupUrl === "string")?.setupUrl as string | undefined;
  await expect.poll(setupUrl, { timeout: 60_000 }).toMatch(/^http:\/\/\S+\/setup\?token=\S+$/);
  await expect.poll(() => server.out().includes("dashboard on"), { timeout: 60_000 }).toBe(true);
  const link = setupUrl()!;
  expect(fs.statSync(path.join(dataDir, "master.key")).mode & 0o777).toBe(0o600);

  await page.goto(link);
  await page.getByLabel("Email").fill("first-owner@gatehouse.test");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create Owner account" }).click();
  await expect(page.locator('[data-field-error="password"]')).toContainText("at least 12");
  await page.getByLabel("Password").fill("first-owner-password-1");
  await page.getByRole("button", { name: "Create Owner account" }).click();
  await expect(page).toHaveURL(/\/signin\?setup=done/);
  await page.getByLabel("Email").fill("first-owner@gatehouse.test");
  await page.getByLabel("Password").fill("first-owner-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toContainText("Owner");

  // The link works once.
  await page.goto(link);
  await expect(page.getByText(/This setup link has been used: Gatehouse already has an Owner/)).toBeVisible();

  server.child.kill("SIGINT");
  expect(await server.exited).toBe(0);
  await expect(fetch(`http://127.0.0.1:${port}/signin`)).rejects.toThrow();
  await expect(fetch(`http://127.0.0.1:${proxyPort}/`)).rejects.toThrow();
});

test("a bad master key stops start-up with one line and a non-zero exit, overwriting nothing", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-badkey-"));
  const short = await start({
    GATEHOUSE_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    GATEHOUSE_PROXY_PORT: String(await freePort()),
    GATEHOUSE_MASTER_KEY: Buffer.alloc(16).toString("base64"),
  });
  expect(await short.exited).not.toBe(0);
  expect(fatalMessages(short.out())).toEqual(["master key: GATEHOUSE_MASTER_KEY must decode to 32 bytes, got 16"]);

  fs.writeFileSync(path.join(dataDir, "master.key"), Buffer.alloc(32, 1).toString("base64"), { mode: 0o644 });
  fs.chmodSync(path.join(dataDir, "master.key"), 0o644);
  const open = await start({ GATEHOUSE_DATA_DIR: dataDir, PORT: String(await freePort()), GATEHOUSE_PROXY_PORT: String(await freePort()) });
  expect(await open.exited).not.toBe(0);
  expect(fatalMessages(open.out()).join("\n")).toContain("readable by group or others");
  expect(fs.readFileSync(path.join(dataDir, "master.key"), "utf8")).toBe(Buffer.alloc(32, 1).toString("base64"));
});

test("a malformed GATEHOUSE_PROXY_TIMEOUTS stops start-up with one line that names the part at fault", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-badtimeouts-"));
  const bad = await start({
    GATEHOUSE_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    GATEHOUSE_PROXY_PORT: String(await freePort()),
    GATEHOUSE_PROXY_TIMEOUTS: "idle=90s,keepalive=5s",
  });
  expect(await bad.exited).not.toBe(0);
  expect(fatalMessages(bad.out())).toEqual([
    'configuration: GATEHOUSE_PROXY_TIMEOUTS: "keepalive" is not a timeout (connect, request-headers, request, response-headers, idle, client-hello, tunnel-idle, keep-alive)',
  ]);
});

test("an unreachable PostgreSQL stops start-up with one line naming host:port, never the password", async () => {
  const closedPort = await freePort(); // free: nothing listens there
  const down = await start({
    GATEHOUSE_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "gh-pgdown-")),
    PORT: String(await freePort()),
    GATEHOUSE_PROXY_PORT: String(await freePort()),
    GATEHOUSE_DATABASE_URL: `postgres://gatehouse:fake-db-password-9@127.0.0.1:${closedPort}/gatehouse`,
  });
  expect(await down.exited).not.toBe(0);
  expect(fatalMessages(down.out())).toEqual([`database: cannot reach PostgreSQL at 127.0.0.1:${closedPort}/gatehouse (ECONNREFUSED)`]);
  expect(down.out()).not.toContain("fake-db-password-9");
});

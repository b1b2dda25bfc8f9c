import fs from "node:fs";
import { expect, test } from "@playwright/test";
import {
  api,
  cli,
  createApiKey,
  createUser,
  readDb,
  requestSession,
  SignInPage,
  state,
  unique,
  updatePolicy,
  viaProxy,
} from "./fixtures/app";

test.describe.configure({ mode: "serial" });

let token: string;
const blockedHost = `${unique("blk")}.gh.test`;

test.beforeAll(async () => {
  const ownerKey = createApiKey("owner");
  await updatePolicy(ownerKey, (d) => {
    d.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" };
    delete d.channels;
  });
  const s = await requestSession(createApiKey("orchestrator"), {
    workspace: "T0AUDIT",
    channel: "C0AUDIT",
    member: { id: "U0AUDITED", orgMember: true },
  });
  expect(s.status).toBe(201);
  token = s.json.token;
  for (let i = 0; i < 3; i++) expect((await viaProxy(token, `http://${blockedHost}/try/${i}?q=hidden`)).status).toBe(403);
});

test("an Auditor finds a blocked request by host, opens it, and exports the same rows as CSV", async ({ page }) => {
  const auditor = createUser("auditor");
  await new SignInPage(page).signInOk(auditor.email, auditor.password);
  await page.getByRole("link", { name: "Audit" }).click();
  await page.getByLabel("Host").fill(blockedHost);
  await page.getByLabel("Outcome").selectOption("blocked");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`host=${blockedHost.replace(/\./g, "\\.")}`));
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText("egress.request");
  await expect(rows.first()).toContainText(blockedHost);
  expect(await page.content()).not.toContain("q=hidden");

  // The filter state is in the URL: a fresh page with the same URL shows the same rows.
  const shared = await page.context().newPage();
  await shared.goto(page.url());
  await expect(shared.getByTestId("audit-row")).toHaveCount(3);
  await shared.close();

  await rows.first().getByRole("link").click();
  const detail = page.getByTestId("event-detail");
  await expect(detail).toContainText("default:block");
  await expect(detail).toContainText("U0AUDITED");
  await expect(detail.getByRole("link", { name: /Explain this request today/ })).toHaveAttribute(
    "href",
    /explain\?channel=T0AUDIT%2FC0AUDIT/,
  );

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  const file = test.info().outputPath("audit.csv");
  await download.saveAs(file);
  const lines = fs.readFileSync(file, "utf8").trim().split(/\r?\n/);
  expect(lines[0]).toContain("seq,id,ts,kind,action");
  expect(lines).toHaveLength(4);
  for (const line of lines.slice(1)) {
    expect(line).toContain(blockedHost);
    expect(line).toContain(",blocked,");
  }
  const tableIds = await rows.evaluateAll((trs) => trs.length);
  expect(tableIds).toBe(lines.length - 1);
});

test("an Owner follows a top-blocked host to the prefilled Domains form, never a one-click allow", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  const bundle = unique("allow");
  await updatePolicy(ownerKey, (d) => d.bundles.push({ name: bundle, scope: { type: "organization" }, domains: [], connections: [] }));
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await expect(page.getByTestId("outcome-chart")).toBeVisible();
  const row = page.getByTestId("top-blocked").filter({ hasText: blockedHost });
  await expect(row).toContainText("3");
  await row.getByRole("link", { name: `Add to Domains… ${blockedHost}` }).click();
  await expect(page.getByTestId("allow-host")).toContainText(blockedHost);
  await page
    .getByTestId("allow-host")
    .getByRole("link", { name: new RegExp(bundle) })
    .click();
  await expect(page.getByRole("tab", { name: "Domains", selected: true })).toBeVisible();
  await expect(page.getByPlaceholder(/registry.npmjs.org/)).toHaveValue(blockedHost);
  // Nothing was allowed by following the link.
  expect((await api(ownerKey).get("/policy")).json.bundles.find((b: { name: string }) => b.name === bundle).domains).toEqual([]);
  await page.getByRole("button", { name: "Add domain" }).click();
  await expect(page.getByRole("cell", { name: blockedHost, exact: true })).toBeVisible();
  expect((await viaProxy(token, `http://${blockedHost}:1/after-allow`)).status).toBe(403); // another port is still unlisted
});

test("API and CLI: filters, cursor pagination, export; never the orchestrator", async () => {
  const auditor = api(createApiKey("auditor"));
  const first = await auditor.get(`/audit?host=${blockedHost}&limit=2`);
  expect(first.status).toBe(200);
  expect(first.json.events).toHaveLength(2);
  expect(first.json.nextCursor).toBeTruthy();
  const second = await auditor.get(`/audit?host=${blockedHost}&limit=2&cursor=${first.json.nextCursor}`);
  expect(second.json.events.length).toBeGreaterThanOrEqual(1);
  const seqs = [...first.json.events, ...second.json.events].map((e: { seq: number }) => e.seq);
  expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect((await auditor.get("/audit?from=yesterday")).json.error.field).toBe("from");
  expect((await auditor.get("/audit?limit=100000")).status).toBe(400);
  expect((await api(createApiKey("orchestrator")).get("/audit")).status).toBe(403);
  expect((await api(createApiKey("orchestrator")).get("/audit/export?format=csv")).status).toBe(403);

  const jsonl = await auditor.get(`/audit/export?format=jsonl&host=${blockedHost}&outcome=blocked`);
  expect(jsonl.headers.get("content-type")).toContain("ndjson");
  const events = jsonl.text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(events.filter((e: { action: string }) => e.action === "egress.request")).toHaveLength(4);

  const r = cli(["audit", "export", "--format", "csv", "--host", blockedHost, "--outcome", "blocked"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim().split(/\r?\n/).length).toBe(1 + events.length);
  expect(cli(["audit", "export", "--format", "xml"]).code).toBe(2);
});

test("concurrent writers (proxy, API, CLI) keep the chain valid; verify passes in the CLI, on Audit and on Overview", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  const bursts: Promise<unknown>[] = [];
  for (let i = 0; i < 120; i++) bursts.push(viaProxy(token, `http://${unique("c")}.gh.test/concurrent`));
  for (let i = 0; i < 10; i++)
    bursts.push(
      updatePolicy(
        ownerKey,
        (d) => (d.orgDeny = [...(d.orgDeny ?? []).filter((p: string) => !p.startsWith("deny-")), `deny-${i}.example.com`]),
      ),
    );
  const clis = Array.from(
    { length: 4 },
    () =>
      new Promise((resolve) => {
        const { spawn } = require("node:child_process") as typeof import("node:child_process");
        const child = spawn(process.execPath, ["bin/gatehouse.js", "apikey", "create", "--name", unique("c"), "--role", "auditor"], {
          env: { ...process.env, GATEHOUSE_DATA_DIR: state.dataDir },
        });
        child.on("close", resolve);
      }),
  );
  await Promise.all([...bursts, ...clis]);
  const verify = cli(["audit", "verify"]);
  expect(verify.code, verify.stderr).toBe(0);
  expect(verify.stderr).toContain("audit chain ok");
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/audit?verify=1`);
  await expect(page.getByTestId("chain-state")).toContainText("Chain verified");
  await page.goto(state.baseURL + "/");
  await expect(page.getByTestId("overview-chain")).toContainText("intact");
  const listTriggers = process.env.GATEHOUSE_DATABASE_URL
    ? "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"
    : "SELECT name FROM sqlite_master WHERE type = 'trigger'";
  const triggers = readDb((db) => db.prepare(listTriggers).all() as { name: string }[]).map((t) => t.name);
  expect(triggers).toEqual(expect.arrayContaining(["audit_events_no_update", "audit_events_delete_archived_only"]));
});

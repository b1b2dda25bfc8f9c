// Free-text audit search (q=) through the trigram index: the API, the export and the Audit page
// find a substring of a recorded request, case-insensitively, and nothing that does not hold it.
import { expect, test } from "@playwright/test";
import { api, createApiKey, requestSession, SignInPage, state, unique, updatePolicy, viaProxy } from "./fixtures/app";

test("GET /api/v1/audit?q= and the Audit page find a path substring in any case; cursor and export agree", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  await updatePolicy(ownerKey, (d) => {
    d.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" };
    delete d.channels;
  });
  const s = await requestSession(createApiKey("orchestrator"), {
    workspace: "T0FTS",
    channel: "C0FTS",
    member: { id: "U0FTS", orgMember: true },
  });
  expect(s.status).toBe(201);
  const marker = unique("Needle");
  const host = `${unique("fts")}.gh.test`;
  for (let i = 0; i < 3; i++) expect((await viaProxy(s.json.token, `http://${host}/find/${marker}/${i}`)).status).toBe(403);

  const auditor = api(createApiKey("auditor"));
  const q = encodeURIComponent(`/${marker.toUpperCase()}/`);
  const first = await auditor.get(`/audit?q=${q}&limit=2`);
  expect(first.status).toBe(200);
  expect(first.json.events).toHaveLength(2);
  const second = await auditor.get(`/audit?q=${q}&limit=2&cursor=${first.json.nextCursor}`);
  const paths = [...first.json.events, ...second.json.events].map((e: { path: string }) => e.path);
  expect(paths).toEqual([2, 1, 0].map((i) => `/find/${marker}/${i}`));
  expect(second.json.nextCursor).toBeNull();
  // With a filter, and with a query that is not there.
  expect((await auditor.get(`/audit?q=${q}&channel=C0FTS&outcome=blocked`)).json.events).toHaveLength(3);
  expect((await auditor.get(`/audit?q=${q}&outcome=allowlisted`)).json.events).toHaveLength(0);
  expect((await auditor.get(`/audit?q=${encodeURIComponent(`${marker}-absent`)}`)).json.events).toHaveLength(0);
  const jsonl = await auditor.get(`/audit/export?format=jsonl&q=${q}`);
  expect(
    jsonl.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).path),
  ).toEqual(paths);

  await new SignInPage(page).signIn(state.owner.email, state.owner.password);
  await expect(page.getByTestId("current-user")).toBeVisible();
  await page.goto(`${state.baseURL}/audit?q=${encodeURIComponent(marker.toLowerCase())}`);
  for (const p of paths) await expect(page.getByText(p, { exact: false }).first()).toBeVisible();
  await page.goto(`${state.baseURL}/audit?q=${encodeURIComponent(`${marker}-absent`)}`);
  await expect(page.getByText(`/find/${marker}/0`)).toHaveCount(0);
});

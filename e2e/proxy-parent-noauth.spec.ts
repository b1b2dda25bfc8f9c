// GATEHOUSE_UPSTREAM_PROXY with Squid open to whoever reaches it (no authentication): the same
// paths go through it, with no credentials offered.
import { expect, test } from "@playwright/test";
import { TEST_HOSTS } from "./fixtures/hosts";
import { curl, expectNoSecretCrossed, httpsUrl, httpUrl, proxySuite, up } from "./fixtures/proxy-suite";
import { startSquid, type Squid } from "./fixtures/squid";

let squid: Squid;

test.beforeAll(async () => {
  squid = await startSquid({ hosts: TEST_HOSTS });
});
test.afterAll(async () => {
  await squid?.close();
});

proxySuite({ env: () => ({ GATEHOUSE_UPSTREAM_PROXY: squid.url, GATEHOUSE_RESOLVE: "meta.gh.test=169.254.169.254" }) });

test("without authentication, HTTP and HTTPS go through the parent", async () => {
  expect((await curl([httpUrl("registry.gh.test", "/open-parent")])).status).toBe(200);
  const r = await curl([httpsUrl("api.gh.test", "/repos/acme/open-parent")]);
  expect(r.status).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
  for (const authority of [`registry.gh.test:${up.httpPort}`, `api.gh.test:${up.httpsPort}`]) {
    await expect
      .poll(
        () =>
          squid
            .lines()
            .filter((l) => l.method === "CONNECT" && l.url === authority)
            .map((l) => `${l.status} ${l.user}`),
        { timeout: 30_000 },
      )
      .toContain("200 -");
  }
  await expectNoSecretCrossed();
});

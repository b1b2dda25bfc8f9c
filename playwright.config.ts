import { defineConfig } from "@playwright/test";

// One real Gatehouse (started as `npm start` starts it) on a temporary data directory, shared by
// every spec; see e2e/global-setup.ts.
export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  // Cross-replica specs need PostgreSQL: they run in the PostgreSQL pass (GATEHOUSE_E2E_DATABASE=pg).
  testIgnore: process.env.GATEHOUSE_E2E_DATABASE === "pg" ? [] : ["**/replicas.spec.ts"],
  globalSetup: "./e2e/global-setup.ts",
  globalTeardown: "./e2e/global-teardown.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [
    ["list"],
    ["json", { outputFile: process.env.GATEHOUSE_E2E_DATABASE === "pg" ? ".tmp/playwright-pg.json" : ".tmp/playwright.json" }],
  ],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
    trace: "off",
    screenshot: "only-on-failure",
  },
});

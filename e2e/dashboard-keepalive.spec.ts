// The dashboard keeps idle connections longer than the load balancers and pooling clients in
// front of it, so they, not it, close them: a request sent as the server closes is lost.
import http from "node:http";
import { expect, test } from "@playwright/test";
import { api, createApiKey, state } from "./fixtures/app";
import { startGatehouse } from "./fixtures/gatehouse";
import { fatalMessages } from "./fixtures/logs";

function keepAliveHeader(baseURL: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http
      .get(`${baseURL}/api/v1/ca.pem`, { agent: new http.Agent({ keepAlive: true }) }, (res) => {
        res.resume();
        res.on("end", () => resolve(String(res.headers["keep-alive"])));
      })
      .on("error", reject);
  });
}

test("the dashboard advertises a keep-alive above a load balancer's 60 s idle timeout", async () => {
  expect(await keepAliveHeader(state.baseURL)).toBe("timeout=65");
});

test("GATEHOUSE_DASHBOARD_KEEPALIVE sets it, for a balancer that keeps connections longer; a bad value stops start-up", async () => {
  const bad = await startGatehouse({ GATEHOUSE_DASHBOARD_KEEPALIVE: "90" }, { waitReady: false, build: false });
  expect(await bad.exited).not.toBe(0);
  expect(fatalMessages(bad.output())).toEqual(["configuration: GATEHOUSE_DASHBOARD_KEEPALIVE: a duration between 1s and 4m (e.g. 65s)"]);
  const g = await startGatehouse({ GATEHOUSE_DASHBOARD_KEEPALIVE: "125s", GATEHOUSE_PROXY_WORKERS: "1" }, { build: false });
  try {
    expect(await keepAliveHeader(g.baseURL)).toBe("timeout=125");
  } finally {
    expect(await g.stop()).toBe(0);
  }
});

test("a client whose event loop stalls between two calls still reuses its kept-alive connection", async () => {
  // The flake this reproduces: a test blocks in spawnSync (the CLI) for longer than Node's
  // default keep-alive (5 s, closed after 6); on waking, fetch's pool writes the next request on
  // the connection the server has closed meanwhile and gets "other side closed".
  const url = `${state.baseURL}/api/v1/ca.pem`;
  expect((await fetch(url)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 50)); // the pool marks the connection idle
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 7_000);
  const again = await fetch(url);
  expect(again.status).toBe(200);
  expect(await again.text()).toContain("BEGIN CERTIFICATE");
});

test("the fixtures' API client opens a connection per call, so no stall can hand it a closed one", async () => {
  const auditor = api(createApiKey("auditor"));
  expect((await auditor.get("/policy")).status).toBe(200);
  await new Promise((r) => setTimeout(r, 50));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 7_000); // past Node's default, as above
  expect((await auditor.get("/policy")).status).toBe(200);
});

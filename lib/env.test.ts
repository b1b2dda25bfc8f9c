import os from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_DASHBOARD_KEEPALIVE_MS, DEFAULT_SESSION_TOUCH_INTERVAL_MS, DEFAULT_PROXY_TIMEOUTS, EnvError, readEnv } from "./env";

const env = (extra: Record<string, string>) => ({ GATEHOUSE_DATA_DIR: "/tmp/gh-env-test", ...extra }) as unknown as NodeJS.ProcessEnv;

describe("readEnv", () => {
  afterEach(() => vi.restoreAllMocks());

  it("defaults to one forward-proxy worker per core, less one for the main process, and at least one", () => {
    const cores = vi.spyOn(os, "availableParallelism");
    for (const [n, workers] of [
      [1, 1],
      [2, 1],
      [8, 7],
    ] as const) {
      cores.mockReturnValue(n);
      expect(readEnv(env({})).proxyWorkers, `${n} cores`).toBe(workers);
    }
    expect(readEnv(env({ GATEHOUSE_PROXY_WORKERS: "3" })).proxyWorkers).toBe(3);
  });

  it("GATEHOUSE_SERVE: all by default, dashboard or proxy, anything else refused by name", () => {
    expect(readEnv(env({})).serve).toBe("all");
    expect(readEnv(env({ GATEHOUSE_SERVE: "" })).serve).toBe("all");
    expect(readEnv(env({ GATEHOUSE_SERVE: "dashboard" })).serve).toBe("dashboard");
    expect(readEnv(env({ GATEHOUSE_SERVE: "proxy" })).serve).toBe("proxy");
    for (const bad of ["both", "Proxy", " proxy", "api"])
      expect(() => readEnv(env({ GATEHOUSE_SERVE: bad }))).toThrow("GATEHOUSE_SERVE: must be all, dashboard or proxy");
  });

  it("names the variable that is wrong", () => {
    for (const bad of ["0", "65", "two", "1.5"]) expect(() => readEnv(env({ GATEHOUSE_PROXY_WORKERS: bad }))).toThrow(EnvError);
    expect(() => readEnv(env({ GATEHOUSE_PROXY_WORKERS: "0" }))).toThrow(/GATEHOUSE_PROXY_WORKERS/);
    expect(() => readEnv(env({ GATEHOUSE_RESOLVE: "nohost" }))).toThrow(/GATEHOUSE_RESOLVE/);
  });

  it("proxy timeouts: defaults, overrides by name and unit, and errors that name the part that is wrong", () => {
    expect(readEnv(env({})).proxyTimeouts).toEqual(DEFAULT_PROXY_TIMEOUTS);
    expect(
      readEnv(env({ GATEHOUSE_PROXY_TIMEOUTS: " idle=90s, connect=2500ms,request=10m,tunnel-idle=2m,keep-alive=30s " })).proxyTimeouts,
    ).toEqual({
      ...DEFAULT_PROXY_TIMEOUTS,
      idle: 90_000,
      connect: 2_500,
      request: 600_000,
      tunnelIdle: 120_000,
      keepAlive: 30_000,
    });
    const error = (spec: string) => {
      try {
        readEnv(env({ GATEHOUSE_PROXY_TIMEOUTS: spec }));
      } catch (err) {
        expect(err).toBeInstanceOf(EnvError);
        return (err as Error).message;
      }
      return "accepted";
    };
    expect(error("keepalive=5s")).toBe(
      'GATEHOUSE_PROXY_TIMEOUTS: "keepalive" is not a timeout (connect, request-headers, request, response-headers, idle, client-hello, tunnel-idle, keep-alive)',
    );
    expect(error("constructor=5s")).toMatch(/"constructor" is not a timeout/);
    expect(error("idle=5")).toBe("GATEHOUSE_PROXY_TIMEOUTS: idle needs a duration in ms, s or m (e.g. idle=90s)");
    expect(error("idle")).toMatch(/idle needs a duration/);
    expect(error("idle=-5s")).toMatch(/idle needs a duration/);
    expect(error("connect=50ms")).toBe("GATEHOUSE_PROXY_TIMEOUTS: connect must be between 100ms and 24 hours");
    expect(error("request=2s")).toBe("GATEHOUSE_PROXY_TIMEOUTS: request-headers (15000 ms) must not be longer than request (2000 ms)");
    expect(error("request=2s,request-headers=2s")).toBe("accepted");
  });

  it("dashboard keep-alive: above a load balancer's 60 s by default, set with a unit, bounded", () => {
    expect(DEFAULT_DASHBOARD_KEEPALIVE_MS).toBeGreaterThan(60_000);
    expect(readEnv(env({})).dashboardKeepAlive).toBe(DEFAULT_DASHBOARD_KEEPALIVE_MS);
    expect(readEnv(env({ GATEHOUSE_DASHBOARD_KEEPALIVE: "125s" })).dashboardKeepAlive).toBe(125_000);
    expect(readEnv(env({ GATEHOUSE_DASHBOARD_KEEPALIVE: "2m" })).dashboardKeepAlive).toBe(120_000);
    for (const bad of ["65", "500ms", "5m", "-1s", "1h"]) {
      expect(() => readEnv(env({ GATEHOUSE_DASHBOARD_KEEPALIVE: bad }))).toThrow(EnvError);
    }
  });

  it("session touch interval: 5 s by default, down to every request, at most a minute", () => {
    expect(readEnv(env({})).sessionTouchInterval).toBe(DEFAULT_SESSION_TOUCH_INTERVAL_MS);
    expect(readEnv(env({ GATEHOUSE_SESSION_TOUCH_INTERVAL: "0ms" })).sessionTouchInterval).toBe(0);
    expect(readEnv(env({ GATEHOUSE_SESSION_TOUCH_INTERVAL: "30s" })).sessionTouchInterval).toBe(30_000);
    for (const bad of ["5", "2m", "-1s"]) expect(() => readEnv(env({ GATEHOUSE_SESSION_TOUCH_INTERVAL: bad }))).toThrow(EnvError);
  });
});

describe("GATEHOUSE_PROXY_LIMITS", () => {
  it("replaces the named limit's default and refuses anything else", () => {
    expect(readEnv(env({})).proxyLimits).toEqual({ unauthenticatedPerPeer: 64, connectionsPerSession: 256 });
    expect(readEnv(env({ GATEHOUSE_PROXY_LIMITS: " unauthenticated-per-peer=8 " })).proxyLimits).toEqual({
      unauthenticatedPerPeer: 8,
      connectionsPerSession: 256,
    });
    expect(readEnv(env({ GATEHOUSE_PROXY_LIMITS: "connections-per-session=4,unauthenticated-per-peer=8" })).proxyLimits).toEqual({
      unauthenticatedPerPeer: 8,
      connectionsPerSession: 4,
    });
    for (const [spec, message] of [
      ["per-peer=8", /"per-peer" is not a limit/],
      ["unauthenticated-per-peer=0", /whole number from 1/],
      ["unauthenticated-per-peer=2.5", /whole number from 1/],
      ["unauthenticated-per-peer", /whole number from 1/],
    ] as const) {
      expect(() => readEnv(env({ GATEHOUSE_PROXY_LIMITS: spec }))).toThrow(message);
    }
  });
});

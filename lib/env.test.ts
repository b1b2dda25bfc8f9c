import os from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EnvError, readEnv } from "./env";

const env = (extra: Record<string, string>) => ({ GATEHOUSE_DATA_DIR: "/tmp/gh-env-test", ...extra }) as unknown as NodeJS.ProcessEnv;

describe("readEnv", () => {
  afterEach(() => vi.restoreAllMocks());

  it("defaults to one forward-proxy worker per core, less one for the main process, and at least one", () => {
    const cores = vi.spyOn(os, "availableParallelism");
    for (const [n, workers] of [[1, 1], [2, 1], [8, 7]] as const) {
      cores.mockReturnValue(n);
      expect(readEnv(env({})).proxyWorkers, `${n} cores`).toBe(workers);
    }
    expect(readEnv(env({ GATEHOUSE_PROXY_WORKERS: "3" })).proxyWorkers).toBe(3);
  });

  it("names the variable that is wrong", () => {
    for (const bad of ["0", "65", "two", "1.5"]) expect(() => readEnv(env({ GATEHOUSE_PROXY_WORKERS: bad }))).toThrow(EnvError);
    expect(() => readEnv(env({ GATEHOUSE_PROXY_WORKERS: "0" }))).toThrow(/GATEHOUSE_PROXY_WORKERS/);
    expect(() => readEnv(env({ GATEHOUSE_RESOLVE: "nohost" }))).toThrow(/GATEHOUSE_RESOLVE/);
  });
});

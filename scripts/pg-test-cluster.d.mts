// Types for scripts/pg-test-cluster.mjs (plain ESM so that CI scripts run it without tsx).
export interface PgTestCluster {
  url: string;
  port: number;
  host: string;
  user: string;
  database: string;
  dir: string;
  socketDir: string;
  logFile: string;
  bin: string;
  env: Record<string, string>;
  psql(sql: string): string;
  startServer(): Promise<void>;
  stopServer(mode?: "smart" | "fast" | "immediate"): Promise<void>;
  stop(): Promise<void>;
  /** The same as stop(), synchronously: for a process's "exit" handler. */
  stopNow(): void;
}
export function findPgBin(): string;
export function startPgCluster(opts?: {
  database?: string;
  user?: string;
  durable?: boolean;
  settings?: Record<string, string>;
}): Promise<PgTestCluster>;

// For unit tests on PostgreSQL: one throwaway cluster per test file (scripts/pg-test-cluster.mjs),
// started before the file's tests and removed after them, every handle opened on it closed first.
import { afterAll, beforeAll } from "vitest";
import { startPgCluster, type PgTestCluster } from "../scripts/pg-test-cluster.mjs";
import { closeDatabase, openPostgres, type Db } from "./client";
import { migrateDatabase } from "./migrate";

export interface PgTestDatabase {
  /** The cluster (url, psql, stopServer…). */
  readonly cluster: PgTestCluster;
  /** The handle opened before the tests: on the migrated schema unless `migrate: false`. */
  readonly db: Db;
  /** Another pool on the same database, as a second process would hold one; closed after the tests. */
  open(): Db;
}

/** Call at the top of a test file; read `db` and `cluster` inside tests, not before them. */
export function usePgTestDatabase(opts: { migrate?: boolean } = {}): PgTestDatabase {
  let cluster: PgTestCluster | undefined;
  const handles: Db[] = [];
  const started = () => {
    if (!cluster) throw new Error("the PostgreSQL test cluster is read before beforeAll started it");
    return cluster;
  };
  const state: PgTestDatabase = {
    get cluster() {
      return started();
    },
    get db() {
      started();
      return handles[0]!;
    },
    open() {
      const db = openPostgres(started().url, { max: 2 });
      handles.push(db);
      return db;
    },
  };
  beforeAll(async () => {
    cluster = await startPgCluster();
    const db = state.open();
    if (opts.migrate !== false) await migrateDatabase(db);
  }, 60_000);
  afterAll(async () => {
    for (const db of handles) await closeDatabase(db).catch(() => undefined);
    await cluster?.stop();
  });
  return state;
}

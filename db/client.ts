// Opens the shared database: the SQLite file in the data directory (WAL, foreign keys, a busy
// timeout so the proxy, the dashboard and the CLI can write side by side), or PostgreSQL when
// GATEHOUSE_DATABASE_URL names one. Both are reached through one asynchronous interface: the
// query builder typed once (as SQLite's) over the dialect's own tables (`db.t`), awaited on both.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { drizzle as drizzlePg, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import { transactionOf } from "./flow";
import { Mutex } from "./mutex";
import * as sqliteSchema from "./schema";
import * as pgSchema from "./schema.pg";

export type Tables = typeof sqliteSchema;
export type Dialect = "sqlite" | "postgres";

/**
 * What a connection is. SQLite keeps two connections per process: `reader` (read-only) for
 * everything outside a write transaction, and `writer`, used only by the one write transaction
 * that holds `mutex` (db/tx.ts). PostgreSQL has a pool.
 */
export type Backend =
  | { kind: "sqlite"; file: string; reader: Database.Database; writer: () => Db; closeWriter: () => void; mutex: Mutex }
  | { kind: "postgres"; url: string; pool: pg.Pool; orm: NodePgDatabase<typeof pgSchema> };

type Meta = {
  /** The dialect, the backend, and whether this handle is a write transaction's. */
  readonly gh: { readonly dialect: Dialect; readonly backend: Backend; readonly inTransaction: boolean };
  /** This database's tables, typed as SQLite's (the PostgreSQL twin has the same columns). */
  readonly t: Tables;
};

/**
 * The query builder, typed as better-sqlite3's. Queries `await` builders (thenable on both
 * drivers) and never call `.get()`, `.all()` or `.run()`, which exist only on SQLite; raw SQL goes
 * through db/raw.ts.
 */
export type Db = Omit<BetterSQLite3Database<Tables>, "$client" | "transaction"> & Meta;

export function databasePath(dataDir: string): string {
  return path.join(dataDir, "gatehouse.db");
}

function openSqliteConnection(file: string, readonly: boolean): Database.Database {
  const sqlite = new Database(file, { readonly });
  if (!readonly) {
    // The audit log and sealed credentials live here: owner-only, like the key file. SQLite
    // gives the -wal and -shm files the database file's mode.
    fs.chmodSync(file, 0o600);
    sqlite.pragma("journal_mode = WAL");
  }
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  return sqlite;
}

function withMeta<T extends object>(orm: T, meta: Meta["gh"], tables: unknown): Db {
  return Object.assign(orm, { gh: meta, t: tables as Tables }) as unknown as Db;
}

/**
 * The handle callers hold: outside a transaction it is the database itself; inside a
 * transaction's async flow (db/flow.ts) every use of it goes to that transaction instead.
 */
function followingTransactions(base: Db): Db {
  const backend = base.gh.backend;
  return new Proxy(base, {
    get(target, prop) {
      const real = (transactionOf(backend) as Db | undefined) ?? target;
      const v = Reflect.get(real, prop, real) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(real) : v;
    },
  });
}

export function openDatabase(dataDir: string): Db {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = databasePath(dataDir);
  // The writer first: it creates the file and sets WAL. The reader is read-only, so a write
  // that missed writeTransaction fails loudly instead of waiting on this process's own writer.
  const w = openSqliteConnection(file, false);
  const reader = openSqliteConnection(file, true);
  const backend: Backend = {
    kind: "sqlite",
    file,
    reader,
    mutex: new Mutex(),
    writer: () => writer,
    closeWriter: () => w.close(),
  };
  const writer = withMeta(drizzleSqlite(w, { schema: sqliteSchema }), { dialect: "sqlite", backend, inTransaction: true }, sqliteSchema);
  return followingTransactions(
    withMeta(drizzleSqlite(reader, { schema: sqliteSchema }), { dialect: "sqlite", backend, inTransaction: false }, sqliteSchema),
  );
}

// PostgreSQL answers bigint (count(*), times, seq) as text by default; every such value here is
// far below 2^53, so numbers are exact, and audit rows hash the same as on SQLite. Set on pg's
// global table: drizzle's node-postgres driver falls back to it for every type it does not map.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (v: string) => Number(v));

/** Where a PostgreSQL URL points, for messages: host:port and never the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || process.env.PGHOST || "localhost";
    return `${host}:${u.port || "5432"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "(an unparseable URL)";
  }
}

export function openPostgres(url: string, opts: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5000, keepAlive: true });
  // A client losing its server must not crash the process: idle ones report to the pool; one
  // checked out (mid-transaction) rejects its queries and also emits `error`, which unhandled
  // would end the process (it ended the audit importer thread in a database outage).
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const orm = drizzlePg(pool, { schema: pgSchema });
  const backend: Backend = { kind: "postgres", url, pool, orm };
  return followingTransactions(withMeta(orm, { dialect: "postgres", backend, inTransaction: false }, pgSchema));
}

/** The query handle of a PostgreSQL transaction, with the same meta as its database. */
export function pgTransactionHandle(db: Db, tx: unknown): Db {
  return withMeta(tx as object, { ...db.gh, inTransaction: true }, db.t);
}

/**
 * The better-sqlite3 connection behind a SQLite handle (the reader, read-only, or a write
 * transaction's writer); throws on PostgreSQL.
 */
export function sqliteOf(db: Db): Database.Database {
  const b = db.gh.backend;
  if (b.kind !== "sqlite") throw new Error("this needs the SQLite backend");
  return db.gh.inTransaction ? writerConnection(b) : b.reader;
}

/** The SQLite writer connection, for tests and tools that run raw statements outside any transaction. */
export function sqliteWriterOf(db: Db): Database.Database {
  const b = db.gh.backend;
  if (b.kind !== "sqlite") throw new Error("this needs the SQLite backend");
  return writerConnection(b);
}

export function isSqlite(db: Db): boolean {
  return db.gh.dialect === "sqlite";
}

/**
 * Commits on this connection no longer checkpoint the WAL themselves: the audit importer thread
 * does it on its own schedule (checkpointWal), so no request-serving thread ever stalls copying it.
 */
export function leaveCheckpointsToImporter(db: Db): void {
  const b = db.gh.backend;
  if (b.kind !== "sqlite") return;
  writerConnection(b).pragma("wal_autocheckpoint = 0");
}

function writerConnection(b: Extract<Backend, { kind: "sqlite" }>): Database.Database {
  return (b.writer() as unknown as { $client: Database.Database }).$client;
}

/** Copies what it can of the WAL into the database without waiting on readers (between write transactions). */
export async function checkpointWal(db: Db): Promise<void> {
  const b = db.gh.backend;
  if (b.kind === "sqlite") await b.mutex.run(async () => void writerConnection(b).pragma("wal_checkpoint(PASSIVE)"));
}

/** Closes the connections (the pool); the handle must not be used after. */
export async function closeDatabase(db: Db): Promise<void> {
  const b = db.gh.backend;
  for (const [key, d] of opened) if (d.gh.backend === b) opened.delete(key);
  if (b.kind === "postgres") return b.pool.end();
  b.reader.close();
  b.closeWriter();
}

const opened = new Map<string, Db>();
/** One database per data directory (or URL) per process. */
export function database(dataDir: string, url?: string): Db {
  const key = url ?? dataDir;
  let db = opened.get(key);
  if (!db) {
    db = url ? openPostgres(url) : openDatabase(dataDir);
    opened.set(key, db);
  }
  return db;
}

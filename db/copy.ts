// `gatehouse db copy --to postgres://…`: a SQLite deployment into an empty PostgreSQL database.
// Generic over the drizzle schemas: every table of schema.ts goes to its namesake in schema.pg.ts
// (the parity test keeps their columns equal), values converted by the PostgreSQL column's type,
// so a table added later is copied without a change here. Nothing is decrypted: sealed
// credentials and the CA key travel as the ciphertext they are.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { getTableColumns, getTableName, isTable, type Column, type Table } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { describeDatabaseUrl, openPostgres, closeDatabase } from "./client";
import { migrateDatabase, migrationsFolder } from "./migrate";
import * as sqliteSchema from "./schema";
import * as pgSchema from "./schema.pg";

/** A copy that must not start (or was undone): one line, safe to print. */
export class CopyRefused extends Error {}

export type TableCopy = { table: string; rows: number };
export type CopyProgress = { table: string; copied: number; total: number; done: boolean };
export type CopyOptions = {
  sqliteFile: string;
  pgUrl: string;
  /** Rows per INSERT (bounded further by PostgreSQL's 65,535 parameters). */
  batchRows?: number;
  onProgress?: (p: CopyProgress) => void;
};
export type CopySummary = { tables: TableCopy[]; rows: number; ms: number; target: string };

type Converter = (v: unknown) => unknown;
type Plan = { name: string; columns: string[]; convert: Converter[]; pgTable: PgTable };

const PG_PARAMS_MAX = 65_535;

function tablesOf(mod: Record<string, unknown>): Map<string, Table> {
  return new Map(
    Object.values(mod)
      .filter(isTable)
      .map((t) => [getTableName(t), t]),
  );
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** How a SQLite value (integers read as BigInt, so none loses precision) becomes the PostgreSQL column's. */
export function converterFor(pgSqlType: string): Converter {
  const t = pgSqlType.toLowerCase();
  if (t.endsWith("[]")) return (v) => (v === null ? null : typeof v === "string" ? JSON.parse(v) : v);
  if (t === "boolean")
    return (v) => (v === null ? null : typeof v === "string" ? v === "1" || v.toLowerCase() === "true" : Number(v) !== 0);
  if (/^(smallint|integer|bigint|smallserial|serial|bigserial)$/.test(t)) {
    // SQLite's `unixepoch('subsec') * 1000` defaults store fractional milliseconds: whole ones here.
    return (v) => (v === null ? null : typeof v === "number" ? String(Math.trunc(v)) : String(v));
  }
  if (t.startsWith("timestamp") || t === "date") {
    return (v) => (v === null ? null : typeof v === "bigint" || typeof v === "number" ? new Date(Number(v)) : v);
  }
  if (t === "json" || t === "jsonb") {
    return (v) =>
      v === null
        ? null
        : Buffer.isBuffer(v)
          ? v.toString("utf8")
          : typeof v === "string"
            ? v
            : JSON.stringify(typeof v === "bigint" ? String(v) : v);
  }
  if (t === "bytea") return (v) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), "utf8"));
  return (v) => (typeof v === "bigint" ? String(v) : v);
}

/** Every SQLite table with its PostgreSQL twin, parents before children (foreign keys). */
export function copyPlan(): Plan[] {
  const source = tablesOf(sqliteSchema);
  const target = tablesOf(pgSchema);
  const plans = new Map<string, Plan>();
  for (const [name, table] of source) {
    const twin = target.get(name) as PgTable | undefined;
    if (!twin) throw new CopyRefused(`table ${name} has no PostgreSQL twin in db/schema.pg.ts`);
    const pgColumns = new Map(Object.values(getTableColumns(twin)).map((c: Column) => [c.name, c]));
    const columns = Object.values(getTableColumns(table)).map((c: Column) => c.name);
    for (const c of columns) if (!pgColumns.has(c)) throw new CopyRefused(`column ${name}.${c} has no PostgreSQL twin`);
    plans.set(name, { name, columns, convert: columns.map((c) => converterFor(pgColumns.get(c)!.getSQLType())), pgTable: twin });
  }
  const ordered: Plan[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string) => {
    if (state.get(name)) return;
    state.set(name, "visiting");
    const plan = plans.get(name);
    if (plan) {
      for (const fk of getTableConfig(plan.pgTable).foreignKeys) {
        const parent = getTableName(fk.reference().foreignTable);
        if (parent !== name && state.get(parent) !== "visiting") visit(parent);
      }
      ordered.push(plan);
    }
    state.set(name, "done");
  };
  for (const name of [...plans.keys()].sort()) visit(name);
  return ordered;
}

/** Whether the SQLite database has exactly the migrations this build ships. */
function sqliteSchemaProblem(src: Database.Database): string | null {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
    entries: { when: number }[];
  };
  const want = { count: journal.entries.length, last: Math.max(...journal.entries.map((e) => e.when)) };
  let got: { count: number; last: number | null };
  try {
    got = src.prepare("SELECT count(*) AS count, max(created_at) AS last FROM __drizzle_migrations").get() as typeof got;
  } catch {
    return "it has never been migrated";
  }
  if (got.count === want.count && Number(got.last) === want.last) return null;
  if (got.count < want.count)
    return `it lacks ${want.count - got.count} migration(s) of this version (start this Gatehouse on it once, or run any gatehouse command, then copy)`;
  return "it has migrations this version does not know (a newer Gatehouse migrated it)";
}

/** Opens the source read-only and checks it; throws CopyRefused with the reason. */
export function openSource(file: string): Database.Database {
  if (!fs.existsSync(file))
    throw new CopyRefused(`no SQLite database at ${file} (set GATEHOUSE_DATA_DIR to the deployment's data directory)`);
  const src = new Database(file, { readonly: true, fileMustExist: true });
  const problem = sqliteSchemaProblem(src);
  if (problem) {
    src.close();
    throw new CopyRefused(`the SQLite database ${file} is not at this version's schema: ${problem}`);
  }
  return src;
}

/** A connection error as one line: where and the code, never the password (pg's messages may quote the user). */
function unreachable(url: string, err: unknown): CopyRefused {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? (/timeout/i.test(e.message) ? "timed out" : "no answer");
  return new CopyRefused(`cannot reach PostgreSQL at ${describeDatabaseUrl(url)} (${code})`);
}

/** A PostgreSQL error mid-copy, without any quoted value (a row's content may be a secret). */
function pgFailure(table: string, err: unknown): CopyRefused {
  const e = err as Error & { code?: string };
  const message = (e.message ?? String(err)).replace(/:\s*".*$/s, "").replace(/\(.*\)=\(.*\)/s, "(…)");
  return new CopyRefused(`copying ${table} failed${e.code ? ` (${e.code})` : ""}: ${message}; the target was left empty`);
}

/**
 * Rows the PostgreSQL migrations themselves insert (org_settings' singleton, before any
 * Gatehouse has started on it and written the key check): present in an "empty" database.
 */
const MIGRATION_SEED: Record<string, string> = { org_settings: "id = 1 AND key_check IS NULL AND ca_cert_pem IS NULL" };

/** The first Gatehouse table (of this build's PostgreSQL schema) that holds rows, if any. */
async function firstNonEmpty(client: pg.ClientBase): Promise<string | null> {
  for (const name of [...tablesOf(pgSchema).keys()].sort()) {
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`public.${quote(name)}`]);
    if (!exists.rows[0]?.t) continue;
    const seed = MIGRATION_SEED[name];
    const r = await client.query(`SELECT 1 FROM ${quote(name)}${seed ? ` WHERE NOT (${seed})` : ""} LIMIT 1`);
    if (r.rowCount) return name;
  }
  return null;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // An error after connect (the server going away) surfaces on the next query.
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    throw unreachable(url, err);
  }
}

/**
 * Copies every table in one PostgreSQL transaction: a failure anywhere leaves the target empty.
 * The source is read in one SQLite read transaction (one consistent snapshot, even while a
 * Gatehouse still writes to it), in keyset pages by rowid, so memory stays bounded.
 */
export async function copySqliteToPostgres(opts: CopyOptions): Promise<CopySummary> {
  const started = performance.now();
  const plan = copyPlan();
  const src = openSource(opts.sqliteFile);
  const target = describeDatabaseUrl(opts.pgUrl);
  let client: pg.Client | undefined;
  try {
    client = await connect(opts.pgUrl);
    const busy = await firstNonEmpty(client);
    if (busy)
      throw new CopyRefused(
        `the PostgreSQL database at ${target} is not empty (table ${busy} has rows); db copy only fills an empty database`,
      );
    // The PostgreSQL migrations, under the same advisory lock replicas take.
    const migrating = openPostgres(opts.pgUrl, { max: 1 });
    try {
      await migrateDatabase(migrating);
    } catch (err) {
      throw pgFailure("the schema (migrating)", err);
    } finally {
      await closeDatabase(migrating);
    }

    await client.query("BEGIN");
    // Nobody writes beside the copy (a replica started too early would otherwise interleave).
    await client.query(`LOCK TABLE ${plan.map((p) => quote(p.name)).join(", ")} IN SHARE ROW EXCLUSIVE MODE`);
    const raced = await firstNonEmpty(client);
    if (raced)
      throw new CopyRefused(
        `the PostgreSQL database at ${target} is not empty (table ${raced} has rows); db copy only fills an empty database`,
      );
    for (const name of Object.keys(MIGRATION_SEED)) if (plan.some((p) => p.name === name)) await client.query(`DELETE FROM ${quote(name)}`);

    const rebuild = await dropSecondaryIndexes(client, plan);
    // Recorded archive segments end on events the retention has deleted: the guard that checks a
    // new segment against the live log (migrations-pg 0003) does not apply to copying history.
    // Off inside this transaction only (the copy owns the tables it just migrated).
    await client.query("ALTER TABLE audit_archive_segments DISABLE TRIGGER audit_archive_segments_in_order");

    src.exec("BEGIN");
    const tables: TableCopy[] = [];
    for (const p of plan) {
      try {
        tables.push({ table: p.name, rows: await copyTable(src, client, p, opts) });
      } catch (err) {
        throw err instanceof CopyRefused ? err : pgFailure(p.name, err);
      }
    }
    src.exec("COMMIT");
    for (const index of rebuild) {
      try {
        await client.query(index.definition);
      } catch (err) {
        throw pgFailure(`index ${index.name}`, err);
      }
    }
    await resetSequences(client, plan);
    await client.query("ALTER TABLE audit_archive_segments ENABLE TRIGGER audit_archive_segments_in_order");
    await client.query("COMMIT");
    return { tables, rows: tables.reduce((n, t) => n + t.rows, 0), ms: Math.round(performance.now() - started), target };
  } catch (err) {
    if (client) await client.query("ROLLBACK").catch(() => {});
    if (err instanceof CopyRefused) throw err;
    if ((err as { code?: string }).code && !(err as { severity?: string }).severity) throw unreachable(opts.pgUrl, err);
    throw pgFailure("the database", err);
  } finally {
    if (src.inTransaction) src.exec("ROLLBACK");
    src.close();
    await client?.end().catch(() => {});
  }
}

async function copyTable(src: Database.Database, client: pg.ClientBase, p: Plan, opts: CopyOptions): Promise<number> {
  const total = Number((src.prepare(`SELECT count(*) AS n FROM ${quote(p.name)}`).get() as { n: number }).n);
  const batch = Math.max(1, Math.min(opts.batchRows ?? 1000, Math.floor(PG_PARAMS_MAX / p.columns.length)));
  const cols = p.columns.map(quote).join(", ");
  const page = src
    .prepare(`SELECT rowid, ${cols} FROM ${quote(p.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
    .raw(true)
    .safeIntegers(true);
  let after: bigint = -(2n ** 63n);
  let copied = 0;
  opts.onProgress?.({ table: p.name, copied, total, done: false });
  for (;;) {
    const rows = page.all(after, batch) as unknown[][];
    if (rows.length === 0) break;
    after = rows[rows.length - 1]![0] as bigint;
    const params: unknown[] = [];
    const tuples = rows.map((row) => {
      const start = params.length;
      for (let i = 0; i < p.columns.length; i++) params.push(p.convert[i]!(row[i + 1]));
      return `(${p.columns.map((_, i) => `$${start + i + 1}`).join(", ")})`;
    });
    // OVERRIDING SYSTEM VALUE: identity columns keep the source's ids (also GENERATED ALWAYS ones).
    await client.query(`INSERT INTO ${quote(p.name)} (${cols}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(", ")}`, params);
    copied += rows.length;
    if (rows.length === batch) opts.onProgress?.({ table: p.name, copied, total, done: false });
  }
  const landed = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(p.name)}`)).rows[0]!.n);
  if (landed !== copied || copied !== total)
    throw new CopyRefused(`copying ${p.name}: ${total} rows in SQLite, ${copied} read, ${landed} in PostgreSQL; the target was left empty`);
  opts.onProgress?.({ table: p.name, copied, total, done: true });
  return copied;
}

/**
 * Indexes that back no constraint (the audit log's search indexes, its trigram GIN above all) cost
 * far more row by row than built once: dropped inside the transaction, recreated after the load
 * from their own definitions. Keys and unique constraints stay, so duplicates fail at once.
 */
async function dropSecondaryIndexes(client: pg.ClientBase, plan: Plan[]): Promise<{ name: string; definition: string }[]> {
  const r = await client.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND t.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [plan.map((p) => p.name)],
  );
  for (const index of r.rows) await client.query(`DROP INDEX ${index.name}`);
  return r.rows;
}

/** Identity and serial columns continue after the copied ids (max + 1), as if the rows had been inserted here. */
async function resetSequences(client: pg.ClientBase, plan: Plan[]): Promise<void> {
  for (const p of plan) {
    for (const c of Object.values(getTableColumns(p.pgTable)) as Column[]) {
      const seq = await client.query<{ s: string | null }>("SELECT pg_get_serial_sequence($1, $2) AS s", [quote(p.name), c.name]);
      const s = seq.rows[0]?.s;
      if (!s) continue;
      await client.query(`SELECT setval($1::regclass, COALESCE((SELECT max(${quote(c.name)}) FROM ${quote(p.name)}), 0) + 1, false)`, [s]);
    }
  }
}

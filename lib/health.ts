// GET /healthz and GET /readyz, for load balancers: answered before Next on the dashboard port
// and in origin form on the proxy port, without auth. They say what failed, never a secret:
// no paths, no error text from the database, no policy content.
import fs from "node:fs";
import type http from "node:http";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { journalOffsets } from "../db/queries/audit";
import { migrationsFolder, pgMigrationsFolder } from "../db/migrate";
import { rawGet } from "../db/raw";
import { journalDir } from "./audit/journal";
import { freshnessProblem } from "./cluster/stale";
import { policyCache } from "./policy-cache";

export type CheckName = "database" | "schema" | "policy" | "audit_import" | "change_feed";
export type Failure = { check: CheckName; message: string };
export type Readiness = { ready: boolean; failed: Failure[] };

export type ReadinessOptions = {
  /** Unimported journal bytes last written longer ago than this mean the importer is stuck. */
  maxImportLagMs?: number;
  /** More unimported journal bytes than this mean the importer is falling behind. */
  maxBacklogBytes?: number;
  now?: number;
};

export const DEFAULT_MAX_IMPORT_LAG_MS = 10_000;
export const DEFAULT_MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

const JOURNAL_FILE = /^egress-\d+-[0-9a-f]+-\d+\.jsonl$/;

type Bundled = { count: number; last: number };
const bundled = new Map<string, Bundled>();
/** The migrations this build ships for the dialect (drizzle's journal): what the database must have applied. */
function bundledMigrations(dialect: Db["gh"]["dialect"]): Bundled {
  let b = bundled.get(dialect);
  if (!b) {
    const folder = dialect === "postgres" ? pgMigrationsFolder : migrationsFolder;
    const journal = JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: { when: number }[] };
    b = { count: journal.entries.length, last: Math.max(...journal.entries.map((e) => e.when)) };
    bundled.set(dialect, b);
  }
  return b;
}

async function schemaProblem(db: Db): Promise<string | null> {
  const want = bundledMigrations(db.gh.dialect);
  const got = await rawGet<{ count: number; last: number | null }>(
    db,
    sql`SELECT count(*) AS count, max(created_at) AS last FROM __drizzle_migrations`,
  );
  const row = { count: Number(got?.count ?? 0), last: got?.last ?? null };
  if (row.count === want.count && Number(row.last) === want.last) return null;
  if (row.count < want.count) return `the database lacks ${want.count - row.count} migration(s) of this version`;
  return "the database has migrations this version does not know (a newer Gatehouse migrated it)";
}

async function importProblem(db: Db, dataDir: string, opts: ReadinessOptions): Promise<string | null> {
  const dir = journalDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => JOURNAL_FILE.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const offsets = journalOffsets(db);
  const now = opts.now ?? Date.now();
  const maxLag = opts.maxImportLagMs ?? DEFAULT_MAX_IMPORT_LAG_MS;
  let backlog = 0;
  let oldest = Infinity;
  for (const name of names) {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(dir, name));
    } catch {
      continue; // imported and removed meanwhile
    }
    const waiting = st.size - (await offsets.offset(name));
    if (waiting <= 0) continue;
    backlog += waiting;
    oldest = Math.min(oldest, st.mtimeMs);
  }
  if (backlog > (opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES)) return `${backlog} bytes of egress journal wait to be imported`;
  if (backlog > 0 && now - oldest > maxLag)
    return `egress journal records written ${Math.round((now - oldest) / 1000)} s ago are not imported yet`;
  return null;
}

/** Each check is cheap: a few indexed reads, a directory listing, a cached policy compile. */
export async function readiness(db: Db, dataDir: string, opts: ReadinessOptions = {}): Promise<Readiness> {
  const failed: Failure[] = [];
  const run = async (check: CheckName, fn: () => Promise<string | null> | string | null, onThrow: string) => {
    try {
      const problem = await fn();
      if (problem) failed.push({ check, message: problem });
    } catch {
      failed.push({ check, message: onThrow });
    }
  };
  await run(
    "database",
    async () => (Number((await rawGet<{ one: number }>(db, sql`SELECT 1 AS one`))?.one) === 1 ? null : "the database did not answer"),
    "the database did not answer",
  );
  if (failed.length)
    return {
      ready: false,
      failed: [
        ...failed,
        ...(["schema", "policy", "audit_import"] as const).map((check) => ({ check, message: "not checked: no database" })),
      ],
    };
  await run("schema", () => schemaProblem(db), "the schema could not be read");
  await run("policy", async () => (await policyCache(db).load(), null), "the policy does not load");
  await run("audit_import", () => importProblem(db, dataDir, opts), "the egress journal could not be read");
  // Replicas on PostgreSQL: not current means not ready (lib/cluster/freshness.ts).
  await run("change_feed", () => freshnessProblem(), "the change feed could not be checked");
  return { ready: failed.length === 0, failed };
}

const HEALTH_PATH = /^\/(healthz|readyz)(?:\?.*)?$/;

/**
 * Answers GET or HEAD /healthz and /readyz; returns false (and leaves `res` alone) for
 * anything else.
 */
export function answerHealth(req: http.IncomingMessage, res: http.ServerResponse, probe: () => Promise<Readiness>): boolean {
  const m = HEALTH_PATH.exec(req.url ?? "");
  if (!m || (req.method !== "GET" && req.method !== "HEAD")) return false;
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "content-length": Buffer.byteLength(text),
    });
    res.end(req.method === "HEAD" ? undefined : text);
  };
  if (m[1] !== "readyz") {
    send(200, { status: "ok" });
    return true;
  }
  probe().then(
    (r) => send(r.ready ? 200 : 503, r.ready ? { status: "ready" } : { status: "not_ready", failed: r.failed }),
    () => send(503, { status: "not_ready", failed: [{ check: "database", message: "the readiness check failed" }] }),
  );
  return true;
}

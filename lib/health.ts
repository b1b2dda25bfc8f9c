// GET /healthz and GET /readyz, for load balancers: answered before Next on the dashboard port
// and in origin form on the proxy port, without auth. They say what failed, never a secret:
// no paths, no error text from the database, no policy content.
import fs from "node:fs";
import type http from "node:http";
import path from "node:path";
import type { Db } from "../db/client";
import { migrationsFolder } from "../db/migrate";
import { journalDir } from "./audit/journal";
import { policyCache } from "./policy-cache";

export type CheckName = "database" | "schema" | "policy" | "audit_import";
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
let bundled: Bundled | undefined;
/** The migrations this build ships (drizzle's journal): what the database must have applied. */
function bundledMigrations(): Bundled {
  if (!bundled) {
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
      entries: { when: number }[];
    };
    bundled = { count: journal.entries.length, last: Math.max(...journal.entries.map((e) => e.when)) };
  }
  return bundled;
}

function schemaProblem(db: Db): string | null {
  const want = bundledMigrations();
  const row = db.$client.prepare("SELECT count(*) AS count, max(created_at) AS last FROM __drizzle_migrations").get() as {
    count: number;
    last: number | null;
  };
  if (row.count === want.count && Number(row.last) === want.last) return null;
  if (row.count < want.count) return `the database lacks ${want.count - row.count} migration(s) of this version`;
  return "the database has migrations this version does not know (a newer Gatehouse migrated it)";
}

function importProblem(db: Db, dataDir: string, opts: ReadinessOptions): string | null {
  const dir = journalDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => JOURNAL_FILE.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const offsetOf = db.$client.prepare("SELECT offset FROM audit_journal WHERE file = ?").pluck();
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
    const waiting = st.size - ((offsetOf.get(name) as number | undefined) ?? 0);
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
export function readiness(db: Db, dataDir: string, opts: ReadinessOptions = {}): Readiness {
  const failed: Failure[] = [];
  const run = (check: CheckName, fn: () => string | null, onThrow: string) => {
    try {
      const problem = fn();
      if (problem) failed.push({ check, message: problem });
    } catch {
      failed.push({ check, message: onThrow });
    }
  };
  run(
    "database",
    () => (db.$client.prepare("SELECT 1").pluck().get() === 1 ? null : "the database did not answer"),
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
  run("schema", () => schemaProblem(db), "the schema could not be read");
  run("policy", () => (policyCache(db).current(), null), "the policy does not load");
  run("audit_import", () => importProblem(db, dataDir, opts), "the egress journal could not be read");
  return { ready: failed.length === 0, failed };
}

const HEALTH_PATH = /^\/(healthz|readyz)(?:\?.*)?$/;

/**
 * Answers GET or HEAD /healthz and /readyz; returns false (and leaves `res` alone) for
 * anything else.
 */
export function answerHealth(req: http.IncomingMessage, res: http.ServerResponse, probe: () => Readiness): boolean {
  const m = HEALTH_PATH.exec(req.url ?? "");
  if (!m || (req.method !== "GET" && req.method !== "HEAD")) return false;
  let status = 200;
  let body: unknown = { status: "ok" };
  if (m[1] === "readyz") {
    const r = probe();
    status = r.ready ? 200 : 503;
    body = r.ready ? { status: "ready" } : { status: "not_ready", failed: r.failed };
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(req.method === "HEAD" ? undefined : text);
  return true;
}

// `gatehouse db copy --to postgres://…`: moving a SQLite deployment up to PostgreSQL (db/copy.ts).
// It runs without the usual data-directory preparation: the source must not be migrated or given
// a new master key by the command that copies it, and the target is only --to.
import fs from "node:fs";
import { closeDatabase, databasePath, describeDatabaseUrl, openDatabase } from "../../db/client";
import { CopyRefused, copySqliteToPostgres, openSource, type CopyProgress } from "../../db/copy";
import { importJournals } from "../audit/journal";
import { EnvError, readEnv } from "../env";
import { masterKeyPath } from "../vault";
import { one, UsageError, type ParsedArgs } from "./args";
import type { CliIo } from "./io";

export const DB_COPY_USAGE =
  "gatehouse db copy --to postgres://USER@HOST:PORT/DB [--json]   (the SQLite deployment of GATEHOUSE_DATA_DIR into an empty PostgreSQL database)";

export function validateDbCopy(a: ParsedArgs): void {
  if (a.positionals.length) throw new UsageError(`unexpected argument "${a.positionals[0]}"`);
  const to = one(a, "to", true);
  let url: URL | undefined;
  try {
    url = new URL(to);
  } catch {
    url = undefined;
  }
  // A host may also come from ?host= (a unix socket directory) or PGHOST, as libpq allows.
  if (!url || !/^postgres(ql)?:$/.test(url.protocol))
    throw new UsageError("--to must be a postgres:// URL (postgres://user@host:5432/database)");
}

const PROGRESS_EVERY = 50_000;

export async function runDbCopy(a: ParsedArgs, io: CliIo): Promise<number> {
  const to = one(a, "to", true);
  const json = a.booleans.has("json");
  let dataDir: string;
  try {
    const env = readEnv(io.env);
    if (env.databaseUrl)
      throw new UsageError("db copy reads the SQLite deployment of GATEHOUSE_DATA_DIR; unset GATEHOUSE_DATABASE_URL (the target is --to)");
    dataDir = env.dataDir;
  } catch (err) {
    if (err instanceof EnvError) {
      io.err(`gatehouse: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const file = databasePath(dataDir);
  try {
    // Refuse before writing anything to the source: an out-of-date schema is not migrated here.
    openSource(file).close();
    // Egress records still in the journal join the chain first (as `audit verify` does), so the copy has them all.
    const db = openDatabase(dataDir);
    try {
      const imported = await importJournals(db, dataDir);
      if (imported) io.err(`moved ${imported} journalled egress event(s) into the audit log first\n`);
    } finally {
      await closeDatabase(db);
    }
    io.err(`copying ${file} to PostgreSQL at ${describeDatabaseUrl(to)} (one transaction)\n`);
    const summary = await copySqliteToPostgres({ sqliteFile: file, pgUrl: to, onProgress: progressPrinter(io) });
    if (json) io.out(JSON.stringify(summary) + "\n");
    else {
      const width = Math.max(...summary.tables.map((t) => t.table.length));
      io.out(
        `copied ${summary.rows} row(s) in ${summary.tables.length} table(s) to ${summary.target} in ${(summary.ms / 1000).toFixed(1)} s\n`,
      );
      for (const t of summary.tables) io.out(`  ${t.table.padEnd(width)}  ${t.rows}\n`);
    }
    const keyFile = masterKeyPath(dataDir);
    const key = io.env.GATEHOUSE_MASTER_KEY
      ? "GATEHOUSE_MASTER_KEY, as now"
      : fs.existsSync(keyFile)
        ? `the one in ${keyFile}, as GATEHOUSE_MASTER_KEY or each replica's master.key`
        : "the key these were sealed with";
    io.err(
      `done. Start Gatehouse on the copy with GATEHOUSE_DATABASE_URL and the same master key (${key}): credentials and the CA were copied sealed\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof CopyRefused) {
      io.err(`gatehouse db copy: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Each table's count when it is done; a line per PROGRESS_EVERY rows while a big one is under way. */
function progressPrinter(io: CliIo): (p: CopyProgress) => void {
  let shown = 0;
  return (p) => {
    if (p.done) {
      io.err(`  ${p.table}: ${p.copied} row(s)\n`);
      shown = 0;
    } else if (p.copied - shown >= PROGRESS_EVERY) {
      io.err(`  ${p.table}: ${p.copied} of ${p.total}…\n`);
      shown = p.copied;
    }
  };
}

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { changeGuardedRevisions, walIndexFile } from "./revisions";

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function setup() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-revisions-")), "test.db");
  const db = new Database(file);
  open.push(db);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE org_settings (id INTEGER PRIMARY KEY, policy_revision INTEGER, sessions_revision INTEGER)");
  db.exec("INSERT INTO org_settings VALUES (1, 1, 1)");
  const stmt = db.prepare("SELECT policy_revision, sessions_revision FROM org_settings WHERE id = 1").raw();
  let queries = 0;
  const read = () => {
    queries++;
    const [policy, sessions] = stmt.get() as [number, number];
    return { policy, sessions };
  };
  const revisions = changeGuardedRevisions(read, walIndexFile(db));
  return { file, db, revisions, queries: () => queries };
}

describe("changeGuardedRevisions", () => {
  it("queries once while nothing is committed", () => {
    const s = setup();
    for (let i = 0; i < 100; i++) expect(s.revisions()).toEqual({ policy: 1, sessions: 1 });
    expect(s.queries()).toBeLessThanOrEqual(2);
  });

  it("sees a commit by another process on the very next read", () => {
    const s = setup();
    s.revisions();
    s.revisions();
    for (let rev = 2; rev < 6; rev++) {
      const child = spawnSync(
        process.execPath,
        ["-e", `require("better-sqlite3")(process.argv[1]).prepare("UPDATE org_settings SET policy_revision = ${rev}").run()`, s.file],
        { encoding: "utf8" },
      );
      expect(child.status, child.stderr).toBe(0);
      expect(s.revisions()).toEqual({ policy: rev, sessions: 1 });
    }
  });

  it("sees a commit by its own connection and by another one in this process", () => {
    const s = setup();
    s.revisions();
    s.db.prepare("UPDATE org_settings SET sessions_revision = 7").run();
    expect(s.revisions()).toEqual({ policy: 1, sessions: 7 });
    const other = new Database(s.file);
    open.push(other);
    other.prepare("UPDATE org_settings SET sessions_revision = 8").run();
    expect(s.revisions()).toEqual({ policy: 1, sessions: 8 });
    // Even after the WAL is checkpointed and restarted, a commit changes the header.
    other.pragma("wal_checkpoint(TRUNCATE)");
    other.prepare("UPDATE org_settings SET sessions_revision = 9").run();
    expect(s.revisions()).toEqual({ policy: 1, sessions: 9 });
  });

  it("queries every time when there is no WAL index to watch", () => {
    const db = new Database(":memory:");
    open.push(db);
    expect(walIndexFile(db)).toBeNull();
  });
});

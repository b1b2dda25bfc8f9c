// The proxy's sessions on PostgreSQL (throwaway cluster): one read for a token not held yet,
// none after; a revocation committed elsewhere is found by the feed's reload and pushed.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usePgTestDatabase } from "../../db/pg-test-database";
import { insertSession, markSessionRevoked } from "../../db/queries/sessions";
import { writeTransaction } from "../../db/tx";
import { tokenHash } from "../auth/tokens";
import { ReplicaSessions } from "./replica-sessions";

const pg = usePgTestDatabase();
const NOW = 1_800_000_000_000;

let n = 0;
async function session(): Promise<{ id: string; token: string }> {
  const id = `ses_replica_${n++}`;
  const token = `gh_test_not_a_real_token_${id}`;
  await insertSession(pg.db, {
    id,
    tokenHash: tokenHash(token),
    workspace: "T1",
    channel: "C1",
    thread: "1.1",
    kind: "channel",
    memberId: "U1",
    memberOrg: true,
    memberRoles: [],
    createdBy: "test",
    createdAt: NOW,
    lastSeenAt: NOW,
    expiresAt: NOW + 3_600_000,
    idleTimeoutSeconds: 1800,
  });
  return { id, token };
}

/** Counts the queries the handle runs (the pool's). */
function countQueries(): { count: () => number; stop: () => void } {
  const pool = (pg.db.gh.backend as { pool: { query: (...a: unknown[]) => unknown } }).pool;
  const real = pool.query;
  let calls = 0;
  pool.query = function (this: unknown, ...a: unknown[]) {
    calls++;
    return real.apply(this, a);
  };
  return { count: () => calls, stop: () => void (pool.query = real) };
}

describe("ReplicaSessions (the proxy's sessions on PostgreSQL)", () => {
  it("reads a token it does not hold once, then answers from memory", async () => {
    const sessions = new ReplicaSessions(pg.db, () => undefined, 60_000);
    const s = await session();
    expect(sessions.verify(s.token, NOW + 1, 0)).toBeUndefined();
    expect(await sessions.fetch(s.token, NOW + 1, 0)).toMatchObject({ ok: true, session: { id: s.id, workspace: "T1", channel: "C1" } });
    const q = countQueries();
    try {
      for (let i = 0; i < 100; i++) expect(sessions.verify(s.token, NOW + 2 + i, 0)).toMatchObject({ ok: true });
      expect(q.count()).toBe(0);
    } finally {
      q.stop();
    }
    expect(await sessions.fetch("gh_test_unknown_token", NOW, 0)).toEqual({ ok: false, reason: "unknown" });
  });

  it("an unknown token and a revoked session are refused from memory after the first read", async () => {
    const sessions = new ReplicaSessions(pg.db, () => undefined, 60_000);
    const s = await session();
    await writeTransaction(pg.db, () => markSessionRevoked(pg.db, s.id, Date.now(), "test"));
    expect(await sessions.fetch(s.token, NOW + 1, 0)).toEqual({ ok: false, reason: "revoked" });
    expect(await sessions.fetch("gh_test_made_up_token", NOW + 1, 0)).toEqual({ ok: false, reason: "unknown" });
    const q = countQueries();
    try {
      for (let i = 0; i < 50; i++) {
        expect(sessions.verify(s.token, NOW + 2 + i, 0)).toEqual({ ok: false, reason: "revoked" });
        expect(await sessions.fetch("gh_test_made_up_token", NOW + 2 + i, 0)).toEqual({ ok: false, reason: "unknown" });
      }
      expect(q.count()).toBe(0);
    } finally {
      q.stop();
    }
  });

  it("a revocation committed elsewhere is found by the reload for the new revision and pushed", async () => {
    const sessions = new ReplicaSessions(pg.db, () => undefined, 60_000);
    const s = await session();
    await sessions.fetch(s.token, NOW + 1, 5);
    let pushed = 0;
    sessions.onRevoked(() => pushed++);
    await writeTransaction(pg.db, () => markSessionRevoked(pg.db, s.id, Date.now(), "test"));
    // Before the reload the replica still holds revision 5 and answers from memory.
    expect(sessions.verify(s.token, NOW + 2, 5)).toMatchObject({ ok: true });
    await sessions.reload(6);
    expect(pushed).toBe(1);
    expect(sessions.revokedSince(0)).toContain(s.id);
    expect(sessions.verify(s.token, NOW + 3, 6)).toEqual({ ok: false, reason: "revoked" });
  });

  it("an entry read before a reload it missed is read again for the newer revision", async () => {
    const sessions = new ReplicaSessions(pg.db, () => undefined, 60_000);
    const s = await session();
    await sessions.fetch(s.token, NOW + 1, 7);
    // The feed moved to 8 without this replica re-reading the entry (it was read for 7).
    expect(sessions.verify(s.token, NOW + 2, 8)).toBeUndefined();
    await sessions.reload(8);
    expect(sessions.verify(s.token, NOW + 2, 8)).toMatchObject({ ok: true });
  });

  it("an idle-looking session is read again (its traffic may have gone through another replica)", async () => {
    const sessions = new ReplicaSessions(pg.db, () => undefined, 1000);
    const s = await session();
    await sessions.fetch(s.token, NOW + 1, 0);
    const later = NOW + 1800 * 1000 + 5;
    expect(sessions.verify(s.token, later, 0)).toBeUndefined();
    expect(await sessions.fetch(s.token, later, 0)).toEqual({ ok: false, reason: "idle" });
    // Another replica's touch landed meanwhile.
    await pg.db
      .update(pg.db.t.sessions)
      .set({ lastSeenAt: later - 10 })
      .where(eq(pg.db.t.sessions.id, s.id));
    expect(await sessions.fetch(s.token, later, 0)).toMatchObject({ ok: true });
  });

  it("records traffic through the touch callback at most once per interval", async () => {
    const touched: number[] = [];
    const sessions = new ReplicaSessions(pg.db, (_id, at) => touched.push(at), 1000);
    const s = await session();
    await sessions.fetch(s.token, NOW + 1, 0);
    for (const t of [NOW + 500, NOW + 1000, NOW + 1500, NOW + 2100]) sessions.verify(s.token, t, 0);
    expect(touched).toEqual([NOW + 1000, NOW + 2100]);
  });
});

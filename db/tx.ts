import { sql } from "drizzle-orm";
import { pgTransactionHandle, sqliteOf, type Db } from "./client";
import { inTransactionFlow, transactionOf } from "./flow";

/**
 * One write transaction. `fn` may await; every statement it runs, on `tx` or on any handle of
 * the same database, runs inside the transaction (db/flow.ts).
 *
 * PostgreSQL: a real transaction on one pooled connection (drizzle's `transaction`).
 *
 * SQLite: BEGIN IMMEDIATE, so the write lock is taken up front and a read-then-write (the audit
 * chain reads the last hash) never fails half-way on SQLITE_BUSY. better-sqlite3 has one
 * connection per handle and no notion of async flows: an `await` inside an open transaction
 * would let any other flow's statements on that connection run inside it (and be rolled back
 * with it, or see its uncommitted rows). So the transaction runs on a second connection (the
 * writer) that only the flow holding the per-database FIFO mutex uses; other flows wait for
 * their turn, and their statements outside any transaction go to the reader connection, which
 * under WAL sees only committed data and, being read-only, cannot write around the mutex (a
 * write there would otherwise wait, synchronously, for the lock this process's writer holds).
 *
 * A call made inside a transaction's flow joins that transaction instead of waiting for it.
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const backend = db.gh.backend;
  const joined = (transactionOf(backend) as Db | undefined) ?? (db.gh.inTransaction ? db : undefined);
  if (joined) return fn(joined);
  if (backend.kind === "postgres") {
    return backend.orm.transaction((raw) => {
      const tx = pgTransactionHandle(db, raw);
      return inTransactionFlow(backend, tx, () => fn(tx));
    });
  }
  return backend.mutex.run(async () => {
    const tx = backend.writer();
    tx.run(sql`BEGIN IMMEDIATE`);
    let result: T;
    try {
      result = await inTransactionFlow(backend, tx, () => fn(tx));
    } catch (err) {
      // SQLite may have rolled back already (a full disk, an interrupted statement).
      if (sqliteOf(tx).inTransaction) tx.run(sql`ROLLBACK`);
      throw err;
    }
    tx.run(sql`COMMIT`);
    return result;
  });
}

/**
 * Several reads that must agree with each other (a policy document and its revision).
 * PostgreSQL: REPEATABLE READ, read only. SQLite: a read transaction on the writer, in its turn.
 */
export async function readSnapshot<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const backend = db.gh.backend;
  const joined = (transactionOf(backend) as Db | undefined) ?? (db.gh.inTransaction ? db : undefined);
  if (joined) return fn(joined);
  if (backend.kind === "postgres") {
    return backend.orm.transaction(
      (raw) => {
        const tx = pgTransactionHandle(db, raw);
        return inTransactionFlow(backend, tx, () => fn(tx));
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }
  return backend.mutex.run(async () => {
    const tx = backend.writer();
    tx.run(sql`BEGIN`);
    try {
      return await inTransactionFlow(backend, tx, () => fn(tx));
    } finally {
      if (sqliteOf(tx).inTransaction) tx.run(sql`COMMIT`);
    }
  });
}

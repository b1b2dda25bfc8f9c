// openPostgres on a throwaway cluster: a connection that breaks under a checked-out client
// rejects that client's queries and does not take the process down.
import { afterAll, beforeAll, expect, it } from "vitest";
import type pg from "pg";
import { startPgCluster, type PgTestCluster } from "../scripts/pg-test-cluster.mjs";
import { closeDatabase, openPostgres, type Db } from "./client";

let cluster: PgTestCluster;
let db: Db;

beforeAll(async () => {
  cluster = await startPgCluster();
  db = openPostgres(cluster.url, { max: 2 });
}, 60_000);

afterAll(async () => {
  if (db) await closeDatabase(db);
  await cluster?.stop();
});

it("a socket error under a checked-out client rejects its query; nothing is left unhandled", async () => {
  const pool = (db.gh.backend as { pool: pg.Pool }).pool;
  const client = await pool.connect();
  const query = client.query("SELECT pg_sleep(5)").then(
    () => null,
    (err: Error) => err,
  );
  const socket = (client as unknown as { connection: { stream: { destroy(err: Error): void } } }).connection.stream;
  socket.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
  expect((await query)?.message).toMatch(/ECONNRESET/);
  client.release(true);
  // The pool still serves.
  expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
});

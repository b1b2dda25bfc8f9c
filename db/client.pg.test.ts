// openPostgres on a throwaway cluster: a connection that breaks under a checked-out client
// rejects that client's queries and does not take the process down.
import type { Pool } from "pg";
import { expect, it } from "vitest";
import { usePgTestDatabase } from "./pg-test-database";

const pg = usePgTestDatabase({ migrate: false });

it("a socket error under a checked-out client rejects its query; nothing is left unhandled", async () => {
  const pool = (pg.db.gh.backend as { pool: Pool }).pool;
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

// The two schema modules describe one domain: same tables, same columns, same nullability.
import { getTableColumns, getTableName, isTable } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as pg from "./schema.pg";
import * as sqlite from "./schema";

// (A SQLite integer primary key defaults to the rowid, a PostgreSQL one only with an identity:
// defaults are compared on the other columns.)
function shape(mod: Record<string, unknown>) {
  return Object.fromEntries(
    Object.values(mod)
      .filter(isTable)
      .map((t) => [
        getTableName(t),
        Object.fromEntries(Object.values(getTableColumns(t)).map((c) => [c.name, { notNull: c.notNull, primary: c.primary, hasDefault: c.primary ? undefined : c.hasDefault }])),
      ]),
  );
}

describe("schema.ts and schema.pg.ts", () => {
  it("expose the same tables and columns, with the same nullability, keys and defaults", () => {
    expect(shape(pg)).toEqual(shape(sqlite));
    expect(Object.keys(shape(sqlite)).length).toBeGreaterThan(10);
  });
});

// The two schemas describe one database: every table, column (name, nullability), primary key,
// unique constraint and index of schema.ts exists in schema.pg.ts and the other way round.
import { getTableColumns, getTableName, is, isTable } from "drizzle-orm";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as sqliteSchema from "./schema";
import * as pgSchema from "./schema.pg";

type Shape = { columns: Record<string, { notNull: boolean; primary: boolean; unique: boolean }>; primaryKeys: string[]; indexes: string[] };

function sqliteShapes(): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const t of Object.values(sqliteSchema)) {
    if (!is(t, SQLiteTable)) continue;
    const c = sqliteConfig(t);
    out[c.name] = {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { notNull: col.notNull, primary: col.primary, unique: col.isUnique }])),
      primaryKeys: c.primaryKeys.map((pk) => pk.columns.map((col) => col.name).join(",")),
      indexes: c.indexes.map((i) => i.config.name).sort(),
    };
  }
  return out;
}

function pgShapes(): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const t of Object.values(pgSchema)) {
    if (!is(t, PgTable)) continue;
    const c = pgConfig(t);
    out[c.name] = {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { notNull: col.notNull, primary: col.primary, unique: col.isUnique }])),
      primaryKeys: c.primaryKeys.map((pk) => pk.columns.map((col) => col.name).join(",")),
      indexes: c.indexes.map((i) => i.config.name ?? "").sort(),
    };
  }
  return out;
}

describe("schema parity (SQLite ↔ PostgreSQL)", () => {
  it("has the same tables, columns, keys and indexes", () => {
    const a = sqliteShapes();
    const b = pgShapes();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) expect({ table: name, ...b[name] }).toEqual({ table: name, ...a[name] });
  });
});

// (A SQLite integer primary key defaults to the rowid, a PostgreSQL one only with an identity:
// defaults are compared on the other columns.)
function defaults(mod: Record<string, unknown>) {
  return Object.fromEntries(
    Object.values(mod)
      .filter(isTable)
      .map((t) => [
        getTableName(t),
        Object.fromEntries(Object.values(getTableColumns(t)).map((c) => [c.name, c.primary ? undefined : c.hasDefault])),
      ]),
  );
}

describe("schema.ts and schema.pg.ts", () => {
  it("give the same columns a default", () => {
    expect(defaults(pgSchema)).toEqual(defaults(sqliteSchema));
  });
});

// The pure side of `db copy`: how SQLite values become PostgreSQL's, and the table order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { converterFor, copyPlan } from "./copy";

describe("converterFor", () => {
  it("turns SQLite's integer booleans, integers, JSON text, blobs and ms times into the PostgreSQL column's type", () => {
    expect([1n, 0n, 7n, null].map(converterFor("boolean"))).toEqual([true, false, true, null]);
    expect([1764475200123n, 5, null].map(converterFor("bigint"))).toEqual(["1764475200123", "5", null]);
    // `unixepoch('subsec') * 1000` defaults store fractional milliseconds.
    expect(converterFor("bigint")(1764475200123.789)).toBe("1764475200123");
    expect(converterFor("jsonb")('["a","b"]')).toBe('["a","b"]');
    expect(converterFor("jsonb")(Buffer.from("{}"))).toBe("{}");
    expect(converterFor("bytea")("abc")).toEqual(Buffer.from("abc"));
    expect(converterFor("bytea")(Buffer.from([0, 255]))).toEqual(Buffer.from([0, 255]));
    expect(converterFor("timestamp with time zone")(1764475200123n)).toEqual(new Date(1764475200123));
    expect(converterFor("text[]")('["x","y"]')).toEqual(["x", "y"]);
    expect(converterFor("text")("sealed:v1:abc")).toBe("sealed:v1:abc");
    expect(converterFor("text")(12n)).toBe("12");
  });

  it("keeps every 64-bit integer exact and every string untouched", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => converterFor("bigint")(n) === n.toString()));
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => converterFor("text")(s) === s && converterFor("jsonb")(s) === s));
  });
});

describe("copyPlan", () => {
  it("covers every table, parents before the tables whose foreign keys name them", () => {
    const order = copyPlan().map((p) => p.name);
    expect(order).toContain("audit_events");
    expect(order.indexOf("bundles")).toBeLessThan(order.indexOf("connections"));
    expect(order.indexOf("bundles")).toBeLessThan(order.indexOf("bundle_domains"));
    expect(order.indexOf("connections")).toBeLessThan(order.indexOf("connection_websites"));
    expect(new Set(order).size).toBe(order.length);
  });
});

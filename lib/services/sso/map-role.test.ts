import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupsOf, mapRole, MAX_GROUPS } from "./map-role";

const mapping = { roleClaim: "groups", ownerGroups: ["gatehouse-owners"], auditorGroups: ["gatehouse-auditors"] };

describe("mapRole", () => {
  it("maps owners, auditors and nobody", () => {
    expect(mapRole({ groups: ["x", "gatehouse-owners"] }, mapping)).toBe("owner");
    expect(mapRole({ groups: ["gatehouse-auditors"] }, mapping)).toBe("auditor");
    expect(mapRole({ groups: ["gatehouse-auditors", "gatehouse-owners"] }, mapping)).toBe("owner");
    expect(mapRole({ groups: ["staff"] }, mapping)).toBeNull();
    expect(mapRole({}, mapping)).toBeNull();
  });
  it("matches exactly: no case folding, no prefixes, no inherited properties", () => {
    expect(mapRole({ groups: ["Gatehouse-Owners"] }, mapping)).toBeNull();
    expect(mapRole({ groups: ["gatehouse-owners-old"] }, mapping)).toBeNull();
    expect(mapRole({ groups: "gatehouse-owners" }, mapping)).toBe("owner");
    expect(mapRole(Object.create({ groups: ["gatehouse-owners"] }) as Record<string, unknown>, mapping)).toBeNull();
  });
  it("reads only the first MAX_GROUPS strings of a claim", () => {
    const many = [...Array(MAX_GROUPS).fill("other"), "gatehouse-owners"];
    expect(mapRole({ groups: many }, mapping)).toBeNull();
  });
  it("never grants a role from a claim that lists none of the mapped groups", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const groups = groupsOf({ groups: value }, "groups");
        const role = mapRole({ groups: value }, mapping);
        if (role === "owner") expect(groups).toContain("gatehouse-owners");
        if (role === "auditor") expect(groups).toContain("gatehouse-auditors");
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { hashPassword, passwordProblem, verifyPassword } from "./passwords";
import { newSecretToken, tokenHash } from "./tokens";

describe("passwords", () => {
  it("hashes with argon2id and verifies only the right password", async () => {
    const stored = await hashPassword("correct-horse-fake-1");
    expect(stored).toMatch(/^\$argon2id\$/);
    expect(stored).not.toContain("correct-horse");
    expect(await verifyPassword(stored, "correct-horse-fake-1")).toBe(true);
    expect(await verifyPassword(stored, "correct-horse-fake-2")).toBe(false);
    expect(await verifyPassword("garbage", "x")).toBe(false);
  });

  it("salts: the same password hashes differently", async () => {
    expect(await hashPassword("same-password-fake")).not.toBe(await hashPassword("same-password-fake"));
  });

  it("rejects short passwords with a reason", () => {
    expect(passwordProblem("short")).toMatch(/at least 12/);
    expect(passwordProblem("long-enough-pass")).toBeNull();
  });
});

describe("tokens", () => {
  it("carry 256 bits and hash deterministically", () => {
    const t = newSecretToken("gs");
    expect(t).toMatch(/^gs_[A-Za-z0-9_-]{43}$/);
    expect(tokenHash(t)).toBe(tokenHash(t));
    expect(tokenHash(t)).not.toContain(t.slice(3));
  });
});

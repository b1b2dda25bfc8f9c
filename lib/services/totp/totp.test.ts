import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { generate } from "otplib";
import { Vault } from "../../vault";
import { rotateMasterKey } from "../vault/rotate-master-key";
import { describe, expect, it } from "vitest";
import { owner, testContext } from "../test-context";
import { addUser } from "../users/add-user";
import { checkSecondFactor } from "./check-second-factor";
import { beginTotpEnrolment, confirmTotpEnrolment } from "./enrol-totp";
import { setTotpRequired } from "./set-totp-required";

async function enrolled() {
  const ctx = testContext();
  const u = await addUser({ ctx, actor: owner, input: { email: "o@example.com", role: "owner", password: "owner-password-fake-1" } });
  const actor = { type: "user" as const, id: u.id, email: u.email, role: "owner" as const };
  const { secret, qrDataUrl, uri } = await beginTotpEnrolment({ ctx, actor });
  expect(qrDataUrl).toMatch(/^data:image\/png;base64,/);
  expect(uri).toContain("otpauth://totp/");
  const code = (at: number) => generate({ secret, epoch: Math.floor(at / 1000) });
  const { recoveryCodes } = await confirmTotpEnrolment({ ctx, actor, input: { code: await code(ctx.now()) } });
  return { ctx, u, actor, secret, code, recoveryCodes };
}

describe("TOTP second factor", () => {
  it("stores the secret sealed and the recovery codes hashed", async () => {
    const { ctx, secret, recoveryCodes } = await enrolled();
    expect(recoveryCodes).toHaveLength(10);
    const dump =
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM users").all()) +
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM audit_events").all());
    expect(dump).not.toContain(secret);
    for (const c of recoveryCodes) expect(dump).not.toContain(c);
  });

  it("asks for a code, takes each code once, counts wrong ones, and takes a recovery code once", async () => {
    const { ctx, u, code, recoveryCodes } = await enrolled();
    expect(await checkSecondFactor({ ctx, input: { userId: u.id } })).toBe("required");
    ctx.clock.now += 30_000;
    const good = await code(ctx.now());
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: good } })).toBe("ok");
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: good } })).toBe("invalid"); // replay
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: recoveryCodes[0] } })).toBe("ok");
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: recoveryCodes[0] } })).toBe("invalid");
    // The replayed recovery code was the first wrong guess of the window: four more, then none.
    for (let i = 0; i < 4; i++) expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: "000000" } })).toBe("invalid");
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: "111111" } })).toBe("locked");
    ctx.clock.now += 30_000;
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: await code(ctx.now()) } })).toBe("locked");
    ctx.clock.now += 15 * 60_000;
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: await code(ctx.now()) } })).toBe("ok");
  });

  it("requires Owners to have one only once every password Owner has one", async () => {
    const { ctx } = await enrolled();
    const other = await addUser({ ctx, actor: owner, input: { email: "p@example.com", role: "owner", password: "owner-password-fake-2" } });
    expect(await checkSecondFactor({ ctx, input: { userId: other.id } })).toBe("ok");
    expect(() => setTotpRequired({ ctx, actor: owner, input: { required: true } })).toThrow(/p@example.com/);
    ctx.db.$client.prepare("UPDATE users SET role = 'auditor' WHERE id = ?").run(other.id);
    expect(setTotpRequired({ ctx, actor: owner, input: { required: true } })).toEqual({ changed: true });
    ctx.db.$client.prepare("UPDATE users SET role = 'owner' WHERE id = ?").run(other.id);
    expect(await checkSecondFactor({ ctx, input: { userId: other.id } })).toBe("enrolment_required");
  });

  it("survives a master-key rotation, also when another process rotated it", async () => {
    const { ctx, u, code } = await enrolled();
    const newKey = crypto.randomBytes(32);
    rotateMasterKey({ ctx, actor: owner, newKey });
    // This process's vault still holds the old key, as a dashboard would after `vault rotate-key`.
    fs.writeFileSync(path.join(ctx.env.dataDir, "master.key"), newKey.toString("base64") + "\n", { mode: 0o600 });
    ctx.clock.now += 30_000;
    expect(await checkSecondFactor({ ctx, input: { userId: u.id, code: await code(ctx.now()) } })).toBe("ok");
    // And the stored secret opens under the new key alone.
    const fresh = { ...ctx, vault: new Vault(newKey) };
    ctx.clock.now += 30_000;
    expect(await checkSecondFactor({ ctx: fresh, input: { userId: u.id, code: await code(ctx.now()) } })).toBe("ok");
  });
});

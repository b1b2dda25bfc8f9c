import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { denyEntryCovering } from "./deny-covers";

describe("denyEntryCovering", () => {
  it("names the deny entry that covers a host or narrower wildcard", () => {
    expect(denyEntryCovering(["pastebin.com"], "pastebin.com")).toBe("pastebin.com");
    expect(denyEntryCovering(["PasteBin.com"], "pastebin.com")).toBe("PasteBin.com");
    expect(denyEntryCovering(["*.evil.example"], "a.evil.example")).toBe("*.evil.example");
    expect(denyEntryCovering(["*.evil.example"], "*.b.evil.example")).toBe("*.evil.example");
    expect(denyEntryCovering(["*.evil.example"], "*.evil.example")).toBe("*.evil.example");
  });
  it("a deny entry without a port covers every port, as the engine's deny index does", () => {
    expect(denyEntryCovering(["pastebin.com"], "pastebin.com:8443")).toBe("pastebin.com");
    expect(denyEntryCovering(["*.evil.example"], "a.evil.example:8080")).toBe("*.evil.example");
    expect(denyEntryCovering(["pastebin.com:8443"], "pastebin.com:8443")).toBe("pastebin.com:8443");
    expect(denyEntryCovering(["pastebin.com:8443"], "pastebin.com:443")).toBeUndefined();
  });
  it("does not claim coverage where some host would still be allowed", () => {
    expect(denyEntryCovering(["*.evil.example"], "evil.example")).toBeUndefined();
    expect(denyEntryCovering(["a.evil.example"], "*.evil.example")).toBeUndefined();
    expect(denyEntryCovering(["pastebin.com:8443"], "pastebin.com")).toBeUndefined();
    expect(denyEntryCovering(["pastebin.com"], "notpastebin.com")).toBeUndefined();
    expect(denyEntryCovering([], "pastebin.com")).toBeUndefined();
    expect(denyEntryCovering(["pastebin.com"], "not a host")).toBeUndefined();
  });
  it("never throws on arbitrary input", () => {
    fc.assert(fc.property(fc.array(fc.string()), fc.string(), (deny, p) => void denyEntryCovering(deny, p)));
  });
});

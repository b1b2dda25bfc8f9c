import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reasonPhrase, type ProxyAnswer } from "./respond";

const refusal = (over: Partial<ProxyAnswer> = {}): ProxyAnswer => ({
  status: 403,
  code: "host_not_allowed",
  message: "evil.test:443 is not on any list",
  outcome: "blocked",
  requestId: "req_1",
  ...over,
});

describe("reasonPhrase", () => {
  it("names the refusal and the host", () => {
    expect(reasonPhrase(refusal({ host: "evil.test" }))).toBe(
      "Blocked by Gatehouse: evil.test is not allowed (ask an Owner to add it to a bundle)",
    );
    expect(reasonPhrase(refusal({ code: "org_denied", host: "paste.test" }))).toBe(
      "Blocked by Gatehouse: paste.test is denied for the whole organisation",
    );
    expect(reasonPhrase(refusal({ status: 407, code: "proxy_auth_required", message: "a Gatehouse session token is required" }))).toBe(
      "Gatehouse: a Gatehouse session token is required",
    );
  });

  it("property: always printable ASCII of bounded length, whatever the message", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 600 }),
        fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        (message, host) => {
          const phrase = reasonPhrase(refusal({ message, host, code: "bad_target" }));
          expect(phrase).toMatch(/^[\x20-\x7e]*$/);
          expect(phrase.length).toBeLessThanOrEqual(200);
        },
      ),
    );
  });
});

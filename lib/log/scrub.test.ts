import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scrub } from "./scrub";

const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const queryValue = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,40}$/);

describe("scrub", () => {
  it("drops every query string after a URL or a path, whatever surrounds it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("https://api.example.com", "http://h.test:8080", ""),
        fc.array(word, { maxLength: 4 }),
        word,
        queryValue,
        fc.string({ maxLength: 20 }),
        (origin, segs, key, value, around) => {
          const url = `${origin}/${segs.join("/")}?${key}=${value}`;
          const out = scrub(`${around} ${url} ${around}`);
          expect(out).not.toContain(`${key}=${value}`);
          expect(out).toContain(`${origin}/${segs.join("/")}?[query removed]`);
        },
      ),
    );
  });

  it("removes the userinfo of any URL (a parent proxy's user:pass)", () => {
    fc.assert(
      fc.property(word, word, (user, pass) => {
        const out = scrub(`connect to http://${user}:${pass}@proxy.example:3128 failed`);
        expect(out).toBe("connect to http://[REDACTED]@proxy.example:3128 failed");
      }),
    );
  });

  it("removes Gatehouse tokens and Authorization values", () => {
    fc.assert(
      fc.property(fc.constantFrom("gk", "gs", "gsetup"), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), (prefix, body) => {
        const token = `${prefix}_${body}`;
        for (const text of [
          `token ${token}.`,
          `Authorization: Bearer ${token}`,
          `{"proxy-authorization":"Basic ${Buffer.from(`session:${token}`).toString("base64")}"}`,
        ]) {
          const out = scrub(text);
          expect(out).not.toContain(body);
          expect(out).not.toContain(Buffer.from(`session:${token}`).toString("base64"));
        }
      }),
    );
  });

  it("leaves ordinary prose alone", () => {
    expect(scrub("the policy could not be read (SQLITE_BUSY); refusing requests until it can")).toBe(
      "the policy could not be read (SQLITE_BUSY); refusing requests until it can",
    );
    expect(scrub("proxy on 127.0.0.1:3128, dashboard on http://127.0.0.1:3000")).toBe(
      "proxy on 127.0.0.1:3128, dashboard on http://127.0.0.1:3000",
    );
  });
});

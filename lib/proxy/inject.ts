// Attaching a credential at the boundary, and the spellings of it to watch for on the way back.
import type { Decision } from "../policy";
import type { Secret } from "../vault";
import { encodedForms } from "./redact";

export type Inject = NonNullable<Decision["connection"]>["inject"];

/** Replaces whatever the sandbox sent in the credential's header, in any letter case. */
export function applyCredential(headers: Record<string, string | string[]>, inject: Inject, secret: Secret): void {
  const name = inject.type === "header" ? inject.name.toLowerCase() : "authorization";
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) delete headers[k];
  if (inject.type === "bearer") headers.authorization = `Bearer ${secret.reveal()}`;
  else if (inject.type === "basic")
    headers.authorization = `Basic ${Buffer.from(`${inject.username}:${secret.reveal()}`).toString("base64")}`;
  else headers[name] = secret.reveal();
}

/**
 * Every spelling of the secret an upstream might echo back (see `encodedForms`), and Basic's
 * base64 of username and secret as sent.
 */
export function secretNeedles(inject: Inject, secret: Secret): string[] {
  const value = secret.reveal();
  const needles = new Set(encodedForms(value));
  if (inject.type === "basic") needles.add(Buffer.from(`${inject.username}:${value}`).toString("base64"));
  return [...needles];
}

/**
 * The needles for an answer from a host that is an Allowed website of `connections`: each of
 * their secrets, attached to this request or not (the server may echo one it saw earlier).
 * `open` decrypts a connection's credential (null: none set); `attached` is reused, not reopened.
 */
export function redactionNeedles(
  connections: readonly AttachedConnectionLike[],
  attached: { identity: string; secret: Secret } | null,
  open: (identity: string) => Secret | null,
): string[] {
  const needles = new Set<string>();
  const seen = new Set<string>();
  for (const c of connections) {
    if (seen.has(c.identity)) continue;
    seen.add(c.identity);
    const secret = attached && attached.identity === c.identity ? attached.secret : open(c.identity);
    if (secret) for (const n of secretNeedles(c.inject, secret)) needles.add(n);
  }
  return [...needles];
}

type AttachedConnectionLike = { identity: string; inject: Inject };

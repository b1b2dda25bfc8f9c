// Attaching a credential at the boundary, and the spellings of it to watch for on the way back.
import type { Decision } from "../policy";
import type { Secret } from "../vault";

export type Inject = NonNullable<Decision["connection"]>["inject"];

/** Replaces whatever the sandbox sent in the credential's header, in any letter case. */
export function applyCredential(headers: Record<string, string | string[]>, inject: Inject, secret: Secret): void {
  const name = inject.type === "header" ? inject.name.toLowerCase() : "authorization";
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) delete headers[k];
  if (inject.type === "bearer") headers.authorization = `Bearer ${secret.reveal()}`;
  else if (inject.type === "basic") headers.authorization = `Basic ${Buffer.from(`${inject.username}:${secret.reveal()}`).toString("base64")}`;
  else headers[name] = secret.reveal();
}

/**
 * Every spelling of the secret an upstream might echo back: as sent, URL-encoded, escaped inside a
 * JSON string (also with "/" escaped, as PHP does), and Basic's base64.
 */
export function secretNeedles(inject: Inject, secret: Secret): string[] {
  const value = secret.reveal();
  const json = JSON.stringify(value).slice(1, -1);
  const needles = new Set([value, encodeURIComponent(value), json, json.replaceAll("/", "\\/")]);
  if (inject.type === "basic") needles.add(Buffer.from(`${inject.username}:${value}`).toString("base64"));
  return [...needles];
}

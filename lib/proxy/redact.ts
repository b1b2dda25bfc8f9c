// Replaces reflected secrets with [REDACTED] in a streamed body, also when a secret straddles
// two chunks: a chunk's tail that could be the start of a secret is held back until the next
// chunk arrives. Only such a tail: a streamed answer (server-sent events from an API) reaches
// the sandbox event by event, not one event late.
export const REDACTED = "[REDACTED]";
const REDACTED_BYTES = Buffer.from(REDACTED);

/** Feed it the body chunk by chunk (`push`), then `end`; concatenated, the outputs are the redacted body. */
export class BodyRedactor {
  readonly #needles: Buffer[];
  readonly #hold: number;
  /** Bytes some needle starts with: a tail is held only from such a byte. */
  readonly #firstBytes = new Uint8Array(256);
  #carry: Buffer = Buffer.alloc(0);
  redactions = 0;

  constructor(needles: string[]) {
    this.#needles = [...new Set(needles.filter((n) => n.length > 0))].map((n) => Buffer.from(n)).sort((a, b) => b.length - a.length);
    this.#hold = Math.max(0, ...this.#needles.map((n) => n.length)) - 1;
    for (const n of this.#needles) this.#firstBytes[n[0]!] = 1;
  }

  push(chunk: Buffer): Buffer {
    const data = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const { out, consumed } = this.#scan(data, false);
    this.#carry = data.subarray(consumed);
    return out;
  }

  end(): Buffer {
    const { out } = this.#scan(this.#carry, true);
    this.#carry = Buffer.alloc(0);
    return out;
  }

  #scan(data: Buffer, final: boolean): { out: Buffer; consumed: number } {
    const parts: Buffer[] = [];
    let from = 0;
    let lastEnd = 0;
    for (;;) {
      let best = -1;
      let bestNeedle: Buffer | null = null;
      for (const n of this.#needles) {
        const i = data.indexOf(n, from);
        if (i >= 0 && (best < 0 || i < best)) {
          best = i;
          bestNeedle = n;
        }
      }
      if (best < 0 || !bestNeedle) break;
      parts.push(data.subarray(lastEnd, best), REDACTED_BYTES);
      this.redactions++;
      lastEnd = best + bestNeedle.length;
      from = lastEnd;
    }
    const cut = final ? data.length : this.#heldFrom(data, Math.max(lastEnd, data.length - this.#hold));
    parts.push(data.subarray(lastEnd, cut));
    return { out: Buffer.concat(parts), consumed: cut };
  }

  /** Where the longest tail of `data` from `from` on that is the beginning of a needle starts. */
  #heldFrom(data: Buffer, from: number): number {
    for (let start = from; start < data.length; start++) {
      if (!this.#firstBytes[data[start]!]) continue;
      const length = data.length - start;
      for (const n of this.#needles) if (length < n.length && data.compare(n, 0, length, start) === 0) return start;
    }
    return data.length;
  }
}

/** The same replacement for a header value. */
export function redactText(value: string, needles: string[]): string {
  let out = value;
  for (const n of [...needles].sort((a, b) => b.length - a.length)) if (n && out.includes(n)) out = out.split(n).join(REDACTED);
  return out;
}

/**
 * Redacts response headers in place: values as text; a header whose name carries the secret
 * (names arrive lower-cased, and "[REDACTED]" is not a valid name) is dropped.
 */
export function redactHeaders(headers: Record<string, string | string[]>, needles: string[]): void {
  const lowered = needles.filter(Boolean).map((n) => n.toLowerCase());
  for (const [name, value] of Object.entries(headers)) {
    if (lowered.some((n) => name.toLowerCase().includes(n))) delete headers[name];
    else headers[name] = Array.isArray(value) ? value.map((x) => redactText(x, needles)) : redactText(value, needles);
  }
}

// Replaces reflected secrets with [REDACTED] in a streamed body, also when a secret straddles
// two chunks: the last (longest needle - 1) bytes are held back until the next chunk arrives.
import { Transform, type TransformCallback } from "node:stream";

export const REDACTED = "[REDACTED]";
const REDACTED_BYTES = Buffer.from(REDACTED);

export class RedactingStream extends Transform {
  readonly #needles: Buffer[];
  readonly #hold: number;
  #carry: Buffer = Buffer.alloc(0);
  redactions = 0;

  constructor(needles: string[]) {
    super();
    this.#needles = [...new Set(needles.filter((n) => n.length > 0))].map((n) => Buffer.from(n)).sort((a, b) => b.length - a.length);
    this.#hold = Math.max(0, ...this.#needles.map((n) => n.length)) - 1;
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const { out, consumed } = this.#scan(data, false);
    this.#carry = data.subarray(consumed);
    if (out.length) this.push(out);
    done();
  }

  _flush(done: TransformCallback): void {
    const { out } = this.#scan(this.#carry, true);
    if (out.length) this.push(out);
    done();
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
    const cut = final ? data.length : Math.max(lastEnd, data.length - this.#hold);
    parts.push(data.subarray(lastEnd, cut));
    return { out: Buffer.concat(parts), consumed: cut };
  }
}

/** The same replacement for a header value. */
export function redactText(value: string, needles: string[]): string {
  let out = value;
  for (const n of [...needles].sort((a, b) => b.length - a.length)) if (n && out.includes(n)) out = out.split(n).join(REDACTED);
  return out;
}

import { inspect } from "node:util";

const WRITE_ONLY = "[write-only]";

/**
 * A credential in memory. Every way a value usually leaks (string coercion, JSON, console,
 * util.inspect) prints `[write-only]`; only `reveal()` returns the plaintext, and only the
 * proxy's injection step calls it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  get length(): number {
    return this.#value.length;
  }
  toString(): string {
    return WRITE_ONLY;
  }
  toJSON(): string {
    return WRITE_ONLY;
  }
  [inspect.custom](): string {
    return WRITE_ONLY;
  }
}

export const writeOnly = WRITE_ONLY;

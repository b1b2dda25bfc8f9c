/** A FIFO async lock: `run` waits for every earlier holder to finish before it starts `fn`. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    // The next holder waits for this one whether it succeeded or failed.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

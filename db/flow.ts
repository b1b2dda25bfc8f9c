// Which transaction the current async flow is inside, per backend (db/tx.ts sets it). A database
// handle used inside a transaction's flow then runs on that transaction (db/client.ts), so a
// verb cannot read around its own transaction or, on SQLite, wait for itself.
import { AsyncLocalStorage } from "node:async_hooks";

export const flow = new AsyncLocalStorage<Map<object, object>>();

/** Runs `fn` with `tx` as the transaction of `backend`; the mapping ends when `fn` settles, also for work `fn` left behind. */
export async function inTransactionFlow<T>(backend: object, tx: object, fn: () => Promise<T>): Promise<T> {
  const store = new Map(flow.getStore() ?? []).set(backend, tx);
  try {
    return await flow.run(store, fn);
  } finally {
    store.delete(backend);
  }
}

export function transactionOf(backend: object): object | undefined {
  return flow.getStore()?.get(backend);
}

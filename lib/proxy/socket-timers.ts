// Deadlines on whole connections: one that never speaks, and a relayed one that goes quiet.
import type net from "node:net";
import type { Duplex } from "node:stream";

/** After `ms`, closes `sockets` if `silent()` still holds; nothing is kept once `socket` closes. */
export function closeIfSilent(socket: net.Socket, ms: number, silent: () => boolean, sockets: Duplex[]): void {
  const timer = setTimeout(() => {
    if (silent()) for (const s of sockets) s.destroy();
  }, ms);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Closes a relayed connection (blind tunnel, WebSocket) once no byte has moved either way for
 * `ms`: the socket's timer restarts on every read and on every write the other side pipes in.
 */
export function closeWhenIdle(socket: net.Socket, ms: number, close: (reason: string) => void): void {
  socket.setTimeout(ms);
  socket.once("timeout", () => close(`closed after ${formatDuration(ms)} without traffic in either direction`));
}

export function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

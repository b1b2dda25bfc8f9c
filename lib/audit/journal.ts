// The egress journal: how the proxy makes a request's audit record durable before the request's
// first byte goes upstream, at the cost of one write() instead of a SQLite commit.
//
// Each writer (one per proxy process) appends JSON lines to its own file under
// <data>/journal/. A single background importer (importer-thread.ts) moves them into the
// hash-chained audit_events table every 50 ms, in batches, and a request whose
// completion line arrives in the same batch becomes one event; whoever reads the log (the Audit
// page, the API, the CLI) imports first, so a reader never misses a record. The `audit_journal`
// offset advances in the same transaction as the events it covers, so every line lands in the
// chain exactly once, also across crashes and competing importers.
//
// Durability is the same as the database's (WAL, synchronous=NORMAL): a record survives the
// process crashing, as a committed transaction would; neither is fsynced per request.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Db } from "../../db/client";
import { journalOffsets } from "../../db/queries/audit";
import { touchCredential } from "../../db/queries/policy";
import { touchSession } from "../../db/queries/sessions";
import { logger } from "../log";
import { writeTransaction } from "../../db/tx";
import { sql } from "drizzle-orm";
import { rawGet } from "../../db/raw";
import { AUDIT_CHAIN_LOCK, appendAuditEvents, newEventId } from "./append";
import type { AuditEventInput } from "./events";

export type JournalEvent = AuditEventInput & { id?: string; ts?: number };
/** Last-use bookkeeping, applied by the importer: the proxy never waits on the write lock. */
export type JournalTouch = { touch: "session" | "credential"; key: string; at: number };
/**
 * A request's record as written, so its completion can reuse the text of the columns the two
 * share, and of the reason when it is still the decision's.
 */
export type JournalRequest = { readonly shared: string; readonly reason?: string | null; readonly reasonJson?: string };
export type JournalCompletion = {
  ts: number;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  reason: string | null;
};

// A line is a JSON array, not an object: no key names to write or parse on every request.
//   ["e", id, ts, action, ...SHARED_COLUMNS, reason, status, bytesIn, bytesOut, durationMs]
//   ["t", "session" | "credential", key, at]
// A request and its completion share SHARED_COLUMNS, so the completion's line reuses the text.
const SHARED_COLUMNS = [
  "requestId",
  "sessionId",
  "workspace",
  "channel",
  "thread",
  "member",
  "bundle",
  "connection",
  "serviceAccount",
  "method",
  "scheme",
  "host",
  "port",
  "path",
  "outcome",
  "rule",
  "detail",
] as const satisfies readonly (keyof JournalEvent)[];
const EGRESS_LINE_LENGTH = 4 + SHARED_COLUMNS.length + 5;

/** A writer moves on to a new file past this size, so imported files can be deleted. */
const ROTATE_BYTES = 64 * 1024 * 1024;
/** How far past the hold the importer looks for the completion of a request it is taking. */
const JOIN_WINDOW_MS = 25;
/** Bytes moved per transaction: bounds how long the importer holds the write lock. */
const IMPORT_CHUNK_BYTES = 256 * 1024;

const FILE_NAME = /^egress-(\d+)-([0-9a-f]+)-(\d+)\.jsonl$/;

export function journalDir(dataDir: string): string {
  return path.join(dataDir, "journal");
}

export class EgressJournal {
  readonly #dir: string;
  readonly #instance = crypto.randomBytes(4).toString("hex");
  #seq = 0;
  #fd = -1;
  #size = 0;
  #later: string[] = [];
  #laterScheduled = false;

  constructor(dataDir: string) {
    this.#dir = journalDir(dataDir);
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.#open();
  }

  /** Durable when it returns; throws if the record cannot be written (the request must not go out). */
  record(event: JournalEvent): JournalRequest {
    return this.recordAll([event])[0]!;
  }

  /** Like record, for several at once: one write() for all of them. */
  recordAll(events: JournalEvent[]): JournalRequest[] {
    const requests: JournalRequest[] = [];
    let text = "";
    for (const event of events) {
      const shared = sharedColumns(event);
      const reason = event.reason ?? null;
      const reasonJson = JSON.stringify(reason);
      text += egressLine(event.id ?? newEventId(), event.ts ?? Date.now(), event.action, shared, event, reasonJson);
      requests.push({ shared, reason, reasonJson });
    }
    // Lines waiting for the end of the turn (completions, mostly) ride along: one write() a turn.
    const waiting = this.#later.length;
    if (waiting) text = this.#later.join("") + text;
    this.#write(text);
    if (waiting) this.#later.splice(0, waiting);
    return requests;
  }

  /**
   * For records nothing waits on (refusals found late): gathered and written together at the
   * end of this turn of the event loop. Failures are logged, never thrown at a request.
   */
  recordLater(event: JournalEvent): void {
    this.#writeLater(egressLine(event.id ?? newEventId(), event.ts ?? Date.now(), event.action, sharedColumns(event), event));
  }

  /** The outcome of a recorded request, written like recordLater. */
  recordCompletion(request: JournalRequest, done: JournalCompletion): void {
    // No id: it only needs one if it becomes an event of its own, and the importer gives it one.
    const { ts, status, bytesIn, bytesOut, durationMs } = done;
    const reasonJson =
      done.reason === request.reason && request.reasonJson !== undefined ? request.reasonJson : JSON.stringify(done.reason ?? null);
    // Numbers as JSON writes them (finite ones are spelled alike): no array to build and stringify.
    if (
      Number.isFinite(ts) &&
      Number.isFinite(status) &&
      Number.isFinite(bytesIn) &&
      Number.isFinite(bytesOut) &&
      Number.isFinite(durationMs)
    )
      this.#writeLater(
        `["e",null,${ts},"egress.completed",${request.shared},${reasonJson},${status},${bytesIn},${bytesOut},${durationMs}]\n`,
      );
    else this.#writeLater(egressLine(null, ts, "egress.completed", request.shared, done));
  }

  /** Traffic on a session or use of a credential, applied within moments by the importer. */
  recordTouch(touch: JournalTouch): void {
    this.#writeLater(JSON.stringify(["t", touch.touch, touch.key, touch.at]) + "\n");
  }

  close(): void {
    this.#flushLater();
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  #writeLater(text: string): void {
    this.#later.push(text);
    if (this.#laterScheduled) return;
    this.#laterScheduled = true;
    setImmediate(() => this.#flushLater());
  }

  #flushLater(): void {
    this.#laterScheduled = false;
    if (this.#later.length === 0) return;
    const text = this.#later.join("");
    const count = this.#later.length;
    this.#later = [];
    try {
      this.#write(text);
    } catch (err) {
      logger("audit").error(
        `${count} egress journal record(s) could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }

  #write(text: string): void {
    if (this.#fd < 0) throw new Error("the egress journal is closed");
    // A short write would leave half a line for the next one to be glued to.
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length;) at += fs.writeSync(this.#fd, bytes, at);
    this.#size += bytes.length;
    if (this.#size >= ROTATE_BYTES) {
      fs.closeSync(this.#fd);
      this.#open();
    }
  }

  #open(): void {
    const name = `egress-${process.pid}-${this.#instance}-${this.#seq++}.jsonl`;
    this.#fd = fs.openSync(path.join(this.#dir, name), "ax", 0o600);
    this.#size = 0;
  }
}

function sharedColumns(e: JournalEvent): string {
  const values = [
    e.requestId ?? null,
    e.sessionId ?? null,
    e.workspace ?? null,
    e.channel ?? null,
    e.thread ?? null,
    e.member ?? null,
    e.bundle ?? null,
    e.connection ?? null,
    e.serviceAccount ?? null,
    e.method ?? null,
    e.scheme ?? null,
    e.host ?? null,
    e.port ?? null,
    e.path ?? null,
    e.outcome ?? null,
    e.rule ?? null,
    e.detail ?? null,
  ] satisfies unknown[] & { length: (typeof SHARED_COLUMNS)["length"] };
  return JSON.stringify(values).slice(1, -1);
}

// The id and time are fixed when the request happens, not when the line is imported.
function egressLine(
  id: string | null,
  ts: number,
  action: string,
  shared: string,
  rest: { reason?: string | null; status?: number | null; bytesIn?: number | null; bytesOut?: number | null; durationMs?: number | null },
  reasonJson = JSON.stringify(rest.reason ?? null),
): string {
  const tail = JSON.stringify([rest.status ?? null, rest.bytesIn ?? null, rest.bytesOut ?? null, rest.durationMs ?? null]);
  return `["e",${JSON.stringify(id)},${JSON.stringify(ts)},${JSON.stringify(action)},${shared},${reasonJson},${tail.slice(1)}\n`;
}

// ── Import ──────────────────────────────────────────────────────────────────────────────────

export type ImportOptions = {
  /**
   * Lines younger than this wait for the next pass, so a request's completion usually arrives
   * while its intent is still unimported and both land as one event. Readers pass 0: everything
   * written so far, now.
   */
  holdMs?: number;
  now?: number;
};

type Offsets = ReturnType<typeof journalOffsets>;
/** Per database: the offsets last seen (to skip idle files). */
const importState = new WeakMap<Db, { known: Map<string, number> }>();

function stateFor(db: Db) {
  let st = importState.get(db);
  if (!st) importState.set(db, (st = { known: new Map() }));
  return st;
}

/** Moves journal lines into the chain; returns how many events it appended. */
export async function importJournals(db: Db, dataDir: string, opts: ImportOptions = {}): Promise<number> {
  const dir = journalDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => FILE_NAME.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  const st = stateFor(db);
  let imported = 0;
  for (const name of names.sort()) imported += await importFile(db, st, dir, name, names, opts);
  return imported;
}

async function importFile(
  db: Db,
  st: ReturnType<typeof stateFor>,
  dir: string,
  name: string,
  allNames: string[],
  opts: ImportOptions,
): Promise<number> {
  const file = path.join(dir, name);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    st.known.delete(name);
    return 0; // deleted by another importer
  }
  const finished = writerFinished(name, allNames);
  // Nothing more will follow a finished writer's lines: no reason to hold any back.
  const cutoff = finished || !opts.holdMs ? Infinity : (opts.now ?? Date.now()) - opts.holdMs;
  let imported = 0;
  let offset = st.known.get(name) ?? -1;
  while (size > offset) {
    const step = await writeTransaction(db, async (tx) => {
      await lockChainFirst(tx);
      return importChunk(tx, journalOffsets(tx), file, name, cutoff);
    });
    if (!step) return imported; // gone meanwhile
    imported += step.events;
    offset = step.offset;
    size = step.size;
    st.known.set(name, offset);
    if (step.consumed === 0) break; // only young or partial lines are left
  }
  if (finished) {
    if (offset < size) {
      // Its writer died while writing a record. A request whose record was cut short never went
      // out (the record comes first), but the gap is still written down.
      await writeTransaction(db, async (tx) => {
        await lockChainFirst(tx);
        const offsets = journalOffsets(tx);
        const current = await offsets.offset(name);
        if (current >= size || !fs.existsSync(file)) return; // another importer got here first
        await appendAuditEvents(tx, [
          {
            kind: "admin",
            action: "journal.unreadable",
            actor: "system",
            reason: `the egress journal ${name} ends with an incomplete record (${size - current} bytes)`,
          },
        ]);
        await offsets.advance(name, size);
      });
    }
    // Unlink first: an importer that still finds the offset row then finds no file.
    fs.rmSync(file, { force: true });
    await writeTransaction(db, (tx) => journalOffsets(tx).forget(name));
    st.known.delete(name);
  }
  return imported;
}

/**
 * PostgreSQL: the chain lock (the one appendAuditEvents takes; re-taking it in one transaction is
 * free) before the offset is read. Under READ COMMITTED, an importer that read the offset first
 * and then waited for the lock would append lines another importer of the same journal had just
 * committed. Held to commit, it makes the offsets exact: a line is appended in the transaction
 * that advances its file's offset past it, and no two such transactions overlap, so the offsets
 * need no unique (replica, line) key on the events. SQLite: BEGIN IMMEDIATE already serialises.
 */
async function lockChainFirst(tx: Db): Promise<void> {
  if (tx.gh.dialect === "postgres") await rawGet(tx, sql`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) IS NULL AS locked`);
}

async function importChunk(
  db: Db,
  offsets: Offsets,
  file: string,
  name: string,
  cutoff: number,
): Promise<{ events: number; consumed: number; offset: number; size: number } | null> {
  const offset = await offsets.offset(name);
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return { events: 0, consumed: 0, offset, size };
    const buf = Buffer.allocUnsafe(Math.min(size - offset, IMPORT_CHUNK_BYTES));
    let read = 0;
    while (read < buf.length) {
      const n = fs.readSync(fd, buf, read, buf.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    // Complete lines, oldest first, up to the first one still held back; then on to the last
    // completion of a request already taken, so it joins its intent (see mergeCompletions).
    const taken: { record: JournalEvent | JournalTouch; next: number }[] = [];
    const open = new Set<string>();
    let consumed = 0;
    for (let start = 0; ;) {
      const end = buf.indexOf(0x0a, start);
      if (end < 0 || end >= read) break;
      const record = parseLine(buf.toString("utf8", start, end), name, offset + start);
      const at = "touch" in record ? record.at : (record.ts ?? 0);
      const young = at > cutoff;
      if (young && (open.size === 0 || at > cutoff + JOIN_WINDOW_MS)) break;
      taken.push({ record, next: end + 1 });
      if (!("touch" in record) && record.requestId) {
        if (record.action === "egress.request" && record.status == null) open.add(record.requestId);
        else if (record.action === "egress.completed" && open.delete(record.requestId) && young) consumed = end + 1;
      }
      if (!young) consumed = end + 1;
      start = end + 1;
    }
    const lines: JournalEvent[] = [];
    const touches: JournalTouch[] = [];
    for (const t of taken) {
      if (t.next > consumed) break;
      if ("touch" in t.record) touches.push(t.record);
      else lines.push(t.record);
    }
    if (consumed === 0) {
      if (taken.length === 0 && read === IMPORT_CHUNK_BYTES && buf.indexOf(0x0a) < 0) {
        // No line is this long; step over the damage rather than stall on it.
        await appendAuditEvents(db, [
          {
            kind: "admin",
            action: "journal.unreadable",
            actor: "system",
            reason: `the egress journal ${name} holds ${read} bytes without a line break at byte ${offset}`,
          },
        ]);
        await offsets.advance(name, offset + read);
        return { events: 1, consumed: read, offset: offset + read, size };
      }
      return { events: 0, consumed: 0, offset, size };
    }
    for (const t of touches) await (t.touch === "session" ? touchSession : touchCredential)(db, t.key, t.at);
    const events = mergeCompletions(lines);
    await appendAuditEvents(db, events);
    await offsets.advance(name, offset + consumed);
    return { events: events.length, consumed, offset: offset + consumed, size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A request whose completion is in the same batch becomes one event: the intent, with the
 * status, bytes and duration filled in. A completion whose intent was imported earlier stays an
 * event of its own.
 */
function mergeCompletions(lines: JournalEvent[]): JournalEvent[] {
  const intents = new Map<string, JournalEvent>();
  const out: JournalEvent[] = [];
  for (const e of lines) {
    if (e.action === "egress.request" && e.requestId && e.status == null) intents.set(e.requestId, e);
    if (e.action === "egress.completed" && e.requestId) {
      const intent = intents.get(e.requestId);
      if (intent) {
        intents.delete(e.requestId);
        intent.status = e.status;
        intent.bytesIn = e.bytesIn;
        intent.bytesOut = e.bytesOut;
        intent.durationMs = e.durationMs;
        intent.reason = e.reason;
        continue;
      }
    }
    out.push(e);
  }
  return out;
}

/** A line that is not a well-formed egress record still leaves a trace in the chain. */
function parseLine(text: string, file: string, at: number): JournalEvent | JournalTouch {
  try {
    const record = JSON.parse(text) as unknown;
    if (Array.isArray(record)) {
      const parsed = record[0] === "e" ? egressFromLine(record) : record[0] === "t" ? touchFromLine(record) : null;
      if (parsed) return parsed;
    } else if (record && typeof record === "object") {
      // Written by an earlier version, one JSON object per line: still imported after an upgrade.
      const legacy = record as JournalEvent | JournalTouch;
      if ("touch" in legacy) {
        if (
          (legacy.touch === "session" || legacy.touch === "credential") &&
          typeof legacy.key === "string" &&
          typeof legacy.at === "number"
        )
          return legacy;
      } else if (legacy.kind === "egress" && (legacy.action === "egress.request" || legacy.action === "egress.completed")) return legacy;
    }
  } catch {
    // reported below
  }
  return {
    kind: "admin",
    action: "journal.unreadable",
    actor: "system",
    reason: `the egress journal ${file} holds an unreadable record at byte ${at}`,
  };
}

function egressFromLine(line: unknown[]): JournalEvent | null {
  const [, id, ts, action] = line;
  if (
    line.length !== EGRESS_LINE_LENGTH ||
    (action !== "egress.request" && action !== "egress.completed") ||
    typeof ts !== "number" ||
    (id !== null && typeof id !== "string")
  )
    return null;
  // One literal in SHARED_COLUMNS order (one object shape for every line: this runs per record).
  const l = line as [string, string | null, number, string, ...(string | number | null)[]];
  return {
    kind: "egress",
    action,
    ts,
    id: id ?? undefined,
    requestId: l[4] as string | null,
    sessionId: l[5] as string | null,
    workspace: l[6] as string | null,
    channel: l[7] as string | null,
    thread: l[8] as string | null,
    member: l[9] as string | null,
    bundle: l[10] as string | null,
    connection: l[11] as string | null,
    serviceAccount: l[12] as string | null,
    method: l[13] as string | null,
    scheme: l[14] as string | null,
    host: l[15] as string | null,
    port: l[16] as number | null,
    path: l[17] as string | null,
    outcome: l[18] as string | null,
    rule: l[19] as string | null,
    detail: l[20] as unknown as Record<string, unknown> | null,
    reason: l[21] as string | null,
    status: l[22] as number | null,
    bytesIn: l[23] as number | null,
    bytesOut: l[24] as number | null,
    durationMs: l[25] as number | null,
  };
}

function touchFromLine(line: unknown[]): JournalTouch | null {
  const [, touch, key, at] = line;
  if (line.length !== 4 || (touch !== "session" && touch !== "credential") || typeof key !== "string" || typeof at !== "number")
    return null;
  return { touch, key, at };
}

/** No more lines will come: its writer moved on to a newer file, or its process is gone. */
function writerFinished(name: string, allNames: string[]): boolean {
  const m = FILE_NAME.exec(name)!;
  const [pid, instance, seq] = [Number(m[1]), m[2], Number(m[3])];
  const superseded = allNames.some((other) => {
    const o = FILE_NAME.exec(other);
    return o !== null && Number(o[1]) === pid && o[2] === instance && Number(o[3]) > seq;
  });
  if (superseded) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

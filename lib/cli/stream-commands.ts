// `gatehouse sink …`, `audit retention|archive` and `audit verify [--archive DIR]` (issue 19).
import { addSink } from "../services/sinks/add-sink";
import { listSinks } from "../services/sinks/list-sinks";
import { removeSink } from "../services/sinks/remove-sink";
import { testSink } from "../services/sinks/test-sink";
import { getRetention, runRetention, setRetention, verifyArchive } from "../services/audit/retention";
import { verifyAudit } from "../services/audit/verify-audit";
import { one, UsageError, type ParsedArgs } from "./args";
import type { Command, CommandEnv } from "./commands";

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
}

function onePositional(what: string) {
  return (a: ParsedArgs) => {
    if (a.positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  };
}

const DURATION_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function when(ms: number | null): string {
  return ms ? new Date(ms).toISOString() : "never";
}

export const STREAM_COMMANDS: Record<string, Command> = {
  "sink add": {
    usage:
      "gatehouse sink add --name N --type syslog|webhook|otlp --url U [--format json|ocsf] [--start-at beginning|now]   (a webhook's signing secret on stdin)",
    spec: { values: ["name", "type", "url", "format", "start-at"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "name", true);
      one(a, "type", true);
      one(a, "url", true);
    },
    run: async (a, { ctx, io, actor }: CommandEnv) => {
      let secret = "";
      if (one(a, "type") === "webhook") {
        if (io.stdinIsTty) io.err("signing secret (then Ctrl-D): ");
        secret = (await io.readStdin()).replace(/\r?\n$/, "");
      }
      const r = await addSink({
        ctx,
        actor,
        input: {
          name: one(a, "name"),
          type: one(a, "type"),
          url: one(a, "url"),
          format: one(a, "format"),
          startAt: one(a, "start-at"),
          secret,
        },
      });
      io.err(`added sink "${r.name}" (${r.id}); the running Gatehouse starts sending within a second\n`);
      return 0;
    },
  },
  "sink list": {
    usage: "gatehouse sink list [--json]",
    spec: { values: [], booleans: ["json"] },
    validate: noPositionals,
    run: async (a, { ctx, io, actor }) => {
      const sinks = await listSinks({ ctx, actor });
      if (a.booleans.has("json")) {
        io.out(JSON.stringify(sinks, null, 2) + "\n");
        return 0;
      }
      if (sinks.length === 0) io.err("no sinks\n");
      for (const s of sinks) {
        io.out(
          `${s.name}\t${s.type}\t${s.format}\t${s.url}\tdelivered through seq ${s.cursorSeq}\tlag ${s.lag.events} event(s), ${s.lag.seconds}s\tlast delivery ${when(s.lastDeliveryAt)}${s.lastError ? `\tlast error ${when(s.lastErrorAt)}: ${s.lastError}` : ""}\n`,
        );
      }
      return 0;
    },
  },
  "sink remove": {
    usage: "gatehouse sink remove NAME",
    spec: { values: [], booleans: [] },
    validate: onePositional("sink name"),
    run: async (a, { ctx, io, actor }) => {
      const r = await removeSink({ ctx, actor, input: { sink: a.positionals[0]! } });
      io.err(`removed sink "${r.name}"\n`);
      return 0;
    },
  },
  "sink test": {
    usage: "gatehouse sink test NAME   (sends one test event, outside the chain)",
    spec: { values: [], booleans: [] },
    validate: onePositional("sink name"),
    run: async (a, { ctx, io, actor }) => {
      const r = await testSink({ ctx, actor, input: { sink: a.positionals[0]! } });
      io.err(r.ok ? "the test event was delivered\n" : `the test event was not delivered: ${r.error}\n`);
      return r.ok ? 0 : 1;
    },
  },
  "audit retention": {
    usage: "gatehouse audit retention [--days N | --keep-all]",
    spec: { values: ["days"], booleans: ["keep-all"] },
    validate: (a) => {
      noPositionals(a);
      if (one(a, "days") !== undefined && a.booleans.has("keep-all")) throw new UsageError("give --days N or --keep-all, not both");
    },
    run: async (a, { ctx, io, actor }) => {
      if (one(a, "days") !== undefined || a.booleans.has("keep-all")) {
        const r = await setRetention({ ctx, actor, input: { days: a.booleans.has("keep-all") ? null : one(a, "days") } });
        io.err(
          `${r.changed ? "audit retention is now" : "audit retention was already"} ${r.days === null ? "keep everything" : `${r.days} day(s)`}\n`,
        );
        return 0;
      }
      const r = await getRetention({ ctx, actor });
      io.out(
        `retention: ${r.days === null ? "keep everything" : `${r.days} day(s)`}\narchive: ${r.archiveDir}\nsegments: ${r.segments} (${r.archivedEvents} event(s), through seq ${r.archivedThroughSeq})\nlast archived: ${when(r.lastArchivedAt)}\n`,
      );
      return 0;
    },
  },
  "audit archive": {
    usage: "gatehouse audit archive [--older-than N(m|h|d)] [--segment-events N]   (default: the configured retention)",
    spec: { values: ["older-than", "segment-events"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      const o = one(a, "older-than");
      if (o !== undefined && !/^\d{1,6}[mhd]$/.test(o)) throw new UsageError("--older-than takes a duration like 90d, 12h or 30m");
      const s = one(a, "segment-events");
      if (s !== undefined && (!/^\d{1,6}$/.test(s) || Number(s) < 1 || Number(s) > 100_000))
        throw new UsageError("--segment-events takes 1 to 100000");
    },
    run: async (a, { ctx, io, actor }) => {
      const o = one(a, "older-than");
      const olderThanMs = o ? Number(o.slice(0, -1)) * DURATION_MS[o.slice(-1) as keyof typeof DURATION_MS] : undefined;
      const s = one(a, "segment-events");
      const r = await runRetention({ ctx, actor, olderThanMs, segmentEvents: s ? Number(s) : undefined });
      if (!r) {
        io.err("no audit retention is set (Settings → Audit retention, or `gatehouse audit retention --days N`); nothing archived\n");
        return 0;
      }
      for (const seg of r.segments) io.out(`${seg.file}\t${seg.events}\tseq ${seg.firstSeq}-${seg.lastSeq}\t${seg.sha256}\n`);
      io.err(
        `archived ${r.events} event(s) older than ${new Date(r.cutoff).toISOString()} into ${r.segments.length} segment(s) in ${r.dir}${r.heldForSinks ? "; older events stay live until every sink has been sent them" : ""}\n`,
      );
      return 0;
    },
  },
  "audit verify": {
    usage: "gatehouse audit verify [--archive DIR]",
    spec: { values: ["archive"], booleans: [] },
    validate: noPositionals,
    run: async (a, { ctx, io, actor }) => {
      const dir = one(a, "archive");
      if (dir) {
        const v = await verifyArchive({ ctx, actor, dir });
        if (v.ok) {
          io.err(
            `audit chain ok: ${v.segments} archive segment(s) with ${v.archivedEvents} event(s), then ${v.liveEvents} live event(s); last hash ${v.lastHash}\n`,
          );
          return 0;
        }
        io.out(`${JSON.stringify({ segment: v.segment, seq: v.seq ?? null, id: v.id ?? null, problem: v.problem })}\n`);
        io.err(
          `audit chain BROKEN${v.segment ? ` in archive segment ${v.segment}` : ""}${v.id ? ` at event ${v.id} (seq ${v.seq})` : ""}: ${v.problem}\n`,
        );
        return 1;
      }
      const state = await verifyAudit({ ctx, actor });
      if (state.ok) {
        io.err(
          `audit chain ok: ${state.events} event(s)${state.archivedThrough ? ` (live, continuing the archive through seq ${state.archivedThrough})` : ""}, last hash ${state.lastHash}\n`,
        );
        return 0;
      }
      io.out(`${JSON.stringify({ seq: state.firstBad.seq, id: state.firstBad.id, problem: state.firstBad.problem })}\n`);
      io.err(`audit chain BROKEN at event ${state.firstBad.id} (seq ${state.firstBad.seq}): ${state.firstBad.problem}\n`);
      return 1;
    },
  },
};

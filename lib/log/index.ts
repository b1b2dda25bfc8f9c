// Gatehouse's logs: one JSON object a line (pino) with time, level, component and, where there
// is one, requestId; or pino-pretty's lines on a terminal. GATEHOUSE_LOG_FORMAT chooses.
// Every process (the dashboard, each proxy worker, the importer thread) writes its own lines,
// synchronously, to standard output: a line is whole when the process exits, and lines from
// several processes never interleave inside one another.
import { isatty } from "node:tty";
import { format } from "node:util";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import { logFormatSetting, type LogFormat } from "../env";
import { scrub } from "./scrub";

export type { Logger };

let destinationFd = 1;
let root: Logger | undefined;

/** The CLI keeps standard output for what a script captures (a new key): its logs go to standard error. */
export function logToStandardError(): void {
  destinationFd = 2;
  root = undefined;
}

export function logFormat(): LogFormat {
  return logFormatSetting() ?? (isatty(destinationFd) ? "pretty" : "json");
}

function scrubError(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === "string" ? scrub(err) : err;
  const out: Record<string, unknown> = { type: err.name, message: scrub(err.message) };
  if (err.stack) out.stack = scrub(err.stack);
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === "string") out.code = code;
  return out;
}

export function createRootLogger(fmt: LogFormat, destination: number | NodeJS.WritableStream = destinationFd): Logger {
  const options: pino.LoggerOptions = {
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: scrubError },
    hooks: {
      // Message strings are scrubbed; structured fields are chosen by Gatehouse's own code.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (typeof first === "string") return method.apply(this, [scrub(format(first, ...rest))] as Parameters<typeof method>);
        if (rest.length && typeof rest[0] === "string")
          return method.apply(this, [first, scrub(format(...(rest as [string, ...unknown[]])))] as unknown as Parameters<typeof method>);
        return method.apply(this, args);
      },
    },
  };
  if (fmt === "pretty") {
    const stream = pretty({
      sync: true,
      destination,
      colorize: typeof destination === "number" && isatty(destination),
      ignore: "pid,hostname,component",
      translateTime: "SYS:HH:MM:ss.l",
      messageFormat: "{if component}{component}: {end}{msg}",
      hideObject: false,
    });
    return pino(options, stream);
  }
  options.formatters = { level: (label) => ({ level: label }) };
  const dest = typeof destination === "number" ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino(options, dest);
}

function rootLogger(): Logger {
  root ??= createRootLogger(logFormat(), destinationFd);
  return root;
}

/** A logger whose lines say which part of Gatehouse wrote them. */
export function logger(component: string): Logger {
  return rootLogger().child({ component });
}

let routed = false;
/**
 * Sends console.* (Next.js's own messages, any library's) and Node's warnings and uncaught
 * errors through the logger, so that every line the process writes is one of its lines.
 */
export function routeProcessOutput(component: string): void {
  if (routed) return;
  routed = true;
  const log = logger(component);
  const to =
    (level: "debug" | "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error);
      if (err) log[level]({ err }, format(...args.map((a) => (a instanceof Error ? a.message : a))));
      else log[level](format(...args));
    };
  console.log = to("info");
  console.info = to("info");
  console.warn = to("warn");
  console.error = to("error");
  console.debug = to("debug");
  console.trace = to("debug");
  process.on("warning", (w) => log.warn({ warning: w.name, code: (w as NodeJS.ErrnoException).code }, w.message));
  process.on("uncaughtException", (err, origin) => {
    log.fatal({ err, origin }, "uncaught error; exiting");
    process.exit(1);
  });
}

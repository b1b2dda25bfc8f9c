// Sends one batch of events to one sink; resolves only once the sink has taken all of it.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { Agent, request } from "undici";
import { gatehouseJson, type SinkFormat, type SinkType, type StreamEvent } from "./event";
import { toOcsf } from "./ocsf";
import { octetFrame, syslogMessage } from "./syslog";

export type SinkTarget = { type: SinkType; format: SinkFormat; url: string };
export type DeliveryOptions = { secret?: string | null; timeoutMs: number; caPath?: string };

export const SIGNATURE_HEADER = "x-gatehouse-signature";

export function render(format: SinkFormat, e: StreamEvent): Record<string, unknown> {
  return format === "ocsf" ? toOcsf(e) : gatehouseJson(e);
}

/** JSON Lines, one event a line, newline-terminated. */
export function jsonLines(format: SinkFormat, events: StreamEvent[]): string {
  return events.map((e) => JSON.stringify(render(format, e)) + "\n").join("");
}

/** `sha256=` and the hex HMAC-SHA256 of the exact body bytes under the sink's signing secret. */
export function signBody(secret: string, body: string | Buffer): string {
  return "sha256=" + crypto.createHmac("sha256", secret).update(body).digest("hex");
}

function attr(key: string, value: string | number) {
  return { key, value: typeof value === "number" ? { intValue: String(value) } : { stringValue: value } };
}

/** OTLP/HTTP logs, JSON encoding: one resource, one scope, a log record per event. */
export function otlpBody(format: SinkFormat, events: StreamEvent[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [attr("service.name", "gatehouse")] },
        scopeLogs: [
          {
            scope: { name: "gatehouse.audit" },
            logRecords: events.map((e) => {
              const warn =
                e.outcome === "blocked" || e.action.endsWith(".failed") || e.action.endsWith(".refused") || e.action.endsWith(".rejected");
              return {
                timeUnixNano: `${BigInt(e.ts) * 1_000_000n}`,
                observedTimeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
                severityNumber: warn ? 13 : 9,
                severityText: warn ? "WARN" : "INFO",
                eventName: `gatehouse.${e.action}`,
                body: { stringValue: JSON.stringify(render(format, e)) },
                attributes: [
                  attr("gatehouse.event.id", e.id),
                  attr("gatehouse.event.seq", e.seq),
                  attr("gatehouse.event.hash", e.hash),
                  attr("gatehouse.event.prev_hash", e.prevHash),
                  attr("gatehouse.event.kind", e.kind),
                  attr("gatehouse.event.action", e.action),
                ],
              };
            }),
          },
        ],
      },
    ],
  });
}

/** System roots plus GATEHOUSE_UPSTREAM_CA, the operator's extra bundle (a private SIEM's CA). */
function trustedCas(caPath: string | undefined): string[] | undefined {
  if (!caPath) return undefined;
  return [...tls.rootCertificates, fs.readFileSync(caPath, "utf8")];
}

const agents = new Map<string, Agent>();
function agentFor(caPath: string | undefined, timeoutMs: number): Agent {
  const key = `${caPath ?? ""}|${timeoutMs}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({
      connect: { ca: trustedCas(caPath), timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 4_000,
    });
    agents.set(key, a);
  }
  return a;
}

async function post(url: string, body: string, headers: Record<string, string>, opts: DeliveryOptions): Promise<string> {
  const res = await request(url, {
    method: "POST",
    body,
    headers: { "user-agent": "gatehouse-audit-stream", ...headers },
    dispatcher: agentFor(opts.caPath, opts.timeoutMs),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  // Bounded: only a short reason from the answer is kept.
  let text = "";
  for await (const chunk of res.body) {
    if (text.length < 2048) text += chunk.toString();
  }
  if (res.statusCode < 200 || res.statusCode > 299) throw new DeliveryError(`the receiver answered HTTP ${res.statusCode}`);
  return text.slice(0, 2048);
}

export class DeliveryError extends Error {}

function syslogSend(url: URL, payload: Buffer, opts: DeliveryOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const port = Number(url.port || (url.protocol === "tls:" ? 6514 : 601));
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const socket: net.Socket =
      url.protocol === "tls:"
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: trustedCas(opts.caPath) })
        : net.connect({ host, port });
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new DeliveryError("the receiver did not take the batch in time")), opts.timeoutMs);
    socket.once(url.protocol === "tls:" ? "secureConnect" : "connect", () => {
      // TCP syslog has no acknowledgement: the batch counts as delivered once every byte was
      // written and the receiver closed the connection after our end, without an error.
      socket.end(payload);
    });
    socket.on("data", () => {});
    socket.once("error", (err: NodeJS.ErrnoException) => done(new DeliveryError(`syslog connection failed (${err.code ?? err.message})`)));
    socket.once("close", (hadError) => (hadError ? done(new DeliveryError("syslog connection closed with an error")) : done()));
  });
}

/** Delivers the batch; throws a DeliveryError whose message holds no secret and no body. */
export async function deliver(target: SinkTarget, events: StreamEvent[], opts: DeliveryOptions): Promise<void> {
  if (events.length === 0) return;
  const url = new URL(target.url);
  try {
    if (target.type === "syslog") {
      await syslogSend(url, Buffer.concat(events.map((e) => octetFrame(syslogMessage(e, JSON.stringify(render(target.format, e)))))), opts);
    } else if (target.type === "webhook") {
      const body = jsonLines(target.format, events);
      const headers: Record<string, string> = {
        "content-type": "application/jsonl",
        "x-gatehouse-first-seq": String(events[0]!.seq),
        "x-gatehouse-last-seq": String(events.at(-1)!.seq),
      };
      if (opts.secret) headers[SIGNATURE_HEADER] = signBody(opts.secret, body);
      await post(target.url, body, headers, opts);
    } else {
      const endpoint = url.pathname === "/" ? new URL("/v1/logs", url).toString() : target.url;
      await post(endpoint, otlpBody(target.format, events), { "content-type": "application/json" }, opts);
    }
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    if (e.name === "TimeoutError" || e.name === "AbortError" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT")
      throw new DeliveryError("the receiver did not answer in time");
    const code = e.cause?.code ?? e.code ?? e.name;
    throw new DeliveryError(`delivery failed (${code ?? "error"})`);
  }
}

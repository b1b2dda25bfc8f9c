// What an Owner may configure for a sink: checked the same way for the dashboard and the CLI.
import net from "node:net";
import { z } from "zod";
import type { SinkRow } from "../../../db/queries/sinks";

export const MAX_SINKS = 10;
export const MIN_SIGNING_SECRET = 16;

function urlProblem(type: string, raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return type === "syslog" ? "must look like tcp://host:port or tls://host:port" : "must be a URL";
  }
  if (u.username || u.password) return "must not carry a user name or password (a webhook signs with its signing secret)";
  if (u.search || u.hash) return "must not carry a query string or fragment";
  if (!u.hostname) return "needs a host";
  if (type === "syslog") {
    if (u.protocol !== "tcp:" && u.protocol !== "tls:") return "must start with tcp:// or tls:// (RFC 5424 over TCP, or over TLS)";
    if (!u.port) return "needs a port (e.g. tls://siem.example:6514)";
    if (u.pathname && u.pathname !== "/") return "takes no path";
    return null;
  }
  if (type === "webhook" && u.protocol !== "https:") return "must be an https:// URL";
  if (type === "otlp" && u.protocol !== "https:" && u.protocol !== "http:")
    return "must be an http:// or https:// URL (the collector's OTLP/HTTP endpoint)";
  if (net.isIP(u.hostname.replace(/^\[|\]$/g, "")) === 0 && !/^[A-Za-z0-9.-]+$/.test(u.hostname)) return "has a malformed host";
  return null;
}

export const SinkInput = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "is required")
      .max(60, "is at most 60 characters")
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "letters, digits, spaces and ._- only"),
    type: z.enum(["syslog", "webhook", "otlp"], { message: "must be syslog, webhook or otlp" }),
    format: z.enum(["json", "ocsf"], { message: "must be json or ocsf" }).default("json"),
    url: z.string().trim().min(1, "is required").max(500, "is too long"),
    /** Webhooks only; write-only. */
    secret: z.string().max(4096, "is too long").default(""),
    startAt: z.enum(["beginning", "now"], { message: "must be beginning or now" }).default("beginning"),
  })
  .superRefine((v, c) => {
    const bad = urlProblem(v.type, v.url);
    if (bad) c.addIssue({ code: "custom", path: ["url"], message: bad });
    if (v.type === "webhook" && v.secret.length < MIN_SIGNING_SECRET)
      c.addIssue({
        code: "custom",
        path: ["secret"],
        message: v.secret
          ? `must be at least ${MIN_SIGNING_SECRET} characters`
          : "is required: the receiver checks X-Gatehouse-Signature with it",
      });
    if (v.type !== "webhook" && v.secret)
      c.addIssue({ code: "custom", path: ["secret"], message: "only a webhook takes a signing secret" });
  });

export type SinkView = {
  id: string;
  name: string;
  type: SinkRow["type"];
  format: SinkRow["format"];
  url: string;
  secretSet: boolean;
  cursorSeq: number;
  lastDeliveryAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  failures: number;
  createdBy: string;
  createdAt: number;
  lag: { events: number; seconds: number };
};

/** The audit event's view of a sink: the secret only ever as "[write-only]". */
export function sinkSnapshot(s: Pick<SinkRow, "name" | "type" | "format" | "url" | "secretSealed">): Record<string, unknown> {
  return { name: s.name, type: s.type, format: s.format, url: s.url, secret: s.secretSealed ? "[write-only]" : null };
}

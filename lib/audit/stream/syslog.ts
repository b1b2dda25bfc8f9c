// RFC 5424 messages, framed by octet counting (RFC 6587 §3.4.1 / RFC 5425) for TCP and TLS.
import os from "node:os";
import type { StreamEvent } from "./event";

/** Facility 13, "log audit". */
const FACILITY = 13;
/** The SD-ID's enterprise number is IANA's documentation PEN (RFC 5612): Gatehouse has none of its own. */
export const SD_ID = "gatehouse@32473";
const BOM = "\uFEFF";

function printusascii(s: string, max: number): string {
  const out = s.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return out || "-";
}

/** An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 §6.3.3). */
export function sdParamValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => "\\" + c);
}

function severity(e: StreamEvent): number {
  if (
    e.outcome === "blocked" ||
    e.action === "signin.failed" ||
    e.action === "signin.locked" ||
    e.action === "session.refused" ||
    e.action === "apikey.rejected"
  )
    return 5;
  if (e.action === "journal.unreadable") return 3;
  return 6;
}

const hostname = printusascii(os.hostname(), 255);

/** One RFC 5424 message (no framing): the chain fields as structured data, the rendered event as MSG. */
export function syslogMessage(e: StreamEvent, body: string, host = hostname, pid = process.pid): string {
  const pri = FACILITY * 8 + severity(e);
  const sd = `[${SD_ID} id="${sdParamValue(e.id)}" seq="${e.seq}" hash="${sdParamValue(e.hash)}" prevHash="${sdParamValue(e.prevHash)}" kind="${sdParamValue(e.kind)}"]`;
  return `<${pri}>1 ${new Date(e.ts).toISOString()} ${host} gatehouse ${pid} ${printusascii(e.action, 32)} ${sd} ${BOM}${body}`;
}

/** Octet-counting frame: the message's length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const bytes = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${bytes.length} `, "ascii"), bytes]);
}

export type ParsedSyslog = {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Record<string, Record<string, string>>;
  msg: string;
};

/**
 * Splits an octet-counted stream into messages; returns them and the unconsumed rest. For tests
 * and receivers; a frame longer than `maxFrame` is an error rather than a buffer that grows.
 */
export function splitOctetFrames(buf: Buffer, maxFrame = 1 << 20): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let at = 0;
  for (;;) {
    const sp = buf.indexOf(0x20, at);
    if (sp < 0) {
      if (buf.length - at > 10) throw new Error("syslog frame: no length");
      break;
    }
    const lenText = buf.subarray(at, sp).toString("ascii");
    if (!/^[1-9][0-9]{0,8}$/.test(lenText)) throw new Error(`syslog frame: bad length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    if (len > maxFrame) throw new Error("syslog frame: too long");
    if (buf.length < sp + 1 + len) break;
    frames.push(buf.subarray(sp + 1, sp + 1 + len).toString("utf8"));
    at = sp + 1 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** Parses one RFC 5424 message strictly enough to catch a malformed header or SD element. */
export function parseSyslog(m: string): ParsedSyslog {
  const head = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) /.exec(m);
  if (!head) throw new Error("syslog: bad header");
  let at = head[0].length;
  const sd: ParsedSyslog["sd"] = {};
  if (m[at] === "-") at++;
  else {
    while (m[at] === "[") {
      const idEnd = m.slice(at + 1).search(/[ \]]/);
      if (idEnd < 0) throw new Error("syslog: bad SD element");
      const id = m.slice(at + 1, at + 1 + idEnd);
      at = at + 1 + idEnd;
      const params: Record<string, string> = {};
      while (m[at] === " ") {
        const p = /^ ([^= \]"]{1,32})="/.exec(m.slice(at));
        if (!p) throw new Error("syslog: bad SD param");
        at += p[0].length;
        let v = "";
        for (;;) {
          const c = m[at];
          if (c === undefined) throw new Error("syslog: unterminated SD param");
          if (c === "\\" && (m[at + 1] === '"' || m[at + 1] === "\\" || m[at + 1] === "]")) {
            v += m[at + 1];
            at += 2;
            continue;
          }
          if (c === '"') break;
          if (c === "]") throw new Error("syslog: unescaped ] in SD param");
          v += c;
          at++;
        }
        at++;
        params[p[1]!] = v;
      }
      if (m[at] !== "]") throw new Error("syslog: unterminated SD element");
      at++;
      sd[id] = params;
    }
  }
  let msg = "";
  if (at < m.length) {
    if (m[at] !== " ") throw new Error("syslog: no space before MSG");
    msg = m.slice(at + 1);
    if (msg.startsWith(BOM)) msg = msg.slice(1);
  }
  return {
    pri: Number(head[1]),
    version: Number(head[2]),
    timestamp: head[3]!,
    hostname: head[4]!,
    appName: head[5]!,
    procId: head[6]!,
    msgId: head[7]!,
    sd,
    msg,
  };
}

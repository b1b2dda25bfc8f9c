// Reads the SNI server name from a TLS ClientHello without terminating TLS (blind tunnels).
// A ClientHello may span several handshake records (RFC 8446 §5.1): the records are joined up to
// the length the handshake states before anything is decided, since the server joins them too.
// Whatever a TLS server might read differently from us (a duplicate extension or name, lengths
// that do not add up, bytes after the message, another record type in between) is an error, and
// an error refuses the tunnel.

/** The largest ClientHello accepted (large post-quantum key shares fit well within it). */
export const MAX_CLIENT_HELLO = 16 * 1024;
/** What may be buffered while a ClientHello arrives: the message and its record headers. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;
/** RFC 8446 §5.1: a plaintext record carries at most 2^14 bytes. */
const MAX_RECORD = 16 * 1024;

export type ClientHello = { sni: string | null; length: number } | { error: string } | { incomplete: true };

/**
 * Parses the ClientHello at the start of `buf`. `incomplete` means: wait for more bytes (the
 * caller bounds how many); `length` is how many bytes of `buf` its records took.
 */
export function parseClientHello(buf: Buffer): ClientHello {
  const fragments: Buffer[] = [];
  let have = 0;
  let total = -1; // the handshake message's length with its 4-byte header, once known
  let p = 0;
  for (;;) {
    if (buf.length < p + 5) return { incomplete: true };
    if (buf[p] !== 0x16) return { error: p === 0 ? "not a TLS handshake" : "another record type inside the ClientHello" };
    if (buf[p + 1] !== 0x03) return { error: "not a TLS record" };
    const length = buf.readUInt16BE(p + 3);
    if (length === 0) return { error: "an empty handshake record" };
    if (length > MAX_RECORD) return { error: "TLS record too long" };
    if (buf.length < p + 5 + length) return { incomplete: true };
    fragments.push(buf.subarray(p + 5, p + 5 + length));
    have += length;
    p += 5 + length;
    if (total < 0 && have >= 4) {
      const header = Buffer.concat(fragments).subarray(0, 4);
      if (header[0] !== 0x01) return { error: "not a ClientHello" };
      const bodyLength = header.readUIntBE(1, 3);
      if (bodyLength > MAX_CLIENT_HELLO) return { error: "ClientHello too large" };
      total = 4 + bodyLength;
    }
    if (total >= 0 && have >= total) {
      if (have > total) return { error: "bytes after the ClientHello in its record" };
      const sni = serverName(Buffer.concat(fragments).subarray(4));
      return typeof sni === "object" && sni !== null ? sni : { sni, length: p };
    }
  }
}

/** The host_name of the server_name extension (null: none), or why the message is malformed. */
function serverName(body: Buffer): string | null | { error: string } {
  const truncated = { error: "truncated ClientHello" };
  let p = 2 + 32; // legacy_version, random
  if (body.length < p + 1) return truncated;
  const sessionId = body[p]!;
  if (sessionId > 32) return { error: "session id too long" };
  p += 1 + sessionId;
  if (body.length < p + 2) return truncated;
  const suites = body.readUInt16BE(p);
  if (suites < 2 || suites % 2 !== 0) return { error: "malformed cipher suites" };
  p += 2 + suites;
  if (body.length < p + 1) return truncated;
  const compression = body[p]!;
  if (compression < 1) return { error: "malformed compression methods" };
  p += 1 + compression;
  if (body.length < p) return truncated;
  if (body.length === p) return null; // no extensions at all
  if (body.length < p + 2) return truncated;
  if (body.readUInt16BE(p) !== body.length - p - 2) return { error: "extension lengths do not add up" };
  p += 2;
  const seen = new Set<number>();
  let sni: string | null = null;
  while (p < body.length) {
    if (body.length < p + 4) return truncated;
    const type = body.readUInt16BE(p);
    const length = body.readUInt16BE(p + 2);
    if (body.length < p + 4 + length) return truncated;
    if (seen.has(type)) return { error: `extension ${type} appears twice` };
    seen.add(type);
    if (type === 0x0000) {
      const name = hostName(body.subarray(p + 4, p + 4 + length));
      if (typeof name === "object") return name;
      sni = name;
    }
    p += 4 + length;
  }
  return sni;
}

/** RFC 6066 §3: a list of (type, length, name) with at most one host_name. */
function hostName(ext: Buffer): string | { error: string } {
  if (ext.length < 2 || ext.readUInt16BE(0) !== ext.length - 2) return { error: "malformed server_name extension" };
  let name: string | null = null;
  let q = 2;
  while (q < ext.length) {
    if (ext.length < q + 3) return { error: "malformed server_name extension" };
    const type = ext[q]!;
    const length = ext.readUInt16BE(q + 1);
    if (length === 0 || ext.length < q + 3 + length) return { error: "malformed server_name extension" };
    if (type === 0) {
      if (name !== null) return { error: "more than one host name in server_name" };
      const bytes = ext.subarray(q + 3, q + 3 + length);
      // A host name is printable ASCII; anything else a server might decode its own way.
      if (!bytes.every((b) => b > 0x20 && b < 0x7f)) return { error: "server_name is not an ASCII host name" };
      name = bytes.toString("ascii").toLowerCase().replace(/\.$/, "");
    }
    q += 3 + length;
  }
  if (name === null) return { error: "server_name without a host name" };
  return name;
}

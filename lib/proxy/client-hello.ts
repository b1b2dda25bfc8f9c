// Reads the SNI server name from a TLS ClientHello without terminating TLS (blind tunnels).

export type ClientHello = { sni: string | null } | { error: string } | { incomplete: true };

/** Parses the first TLS record. `incomplete` means: wait for more bytes. */
export function parseClientHello(buf: Buffer): ClientHello {
  if (buf.length < 5) return { incomplete: true };
  if (buf[0] !== 0x16) return { error: "not a TLS handshake" };
  const recordLength = buf.readUInt16BE(3);
  if (recordLength > 16384 + 2048) return { error: "TLS record too long" };
  if (buf.length < 5 + recordLength) return { incomplete: true };
  const hs = buf.subarray(5, 5 + recordLength);
  if (hs.length < 4 || hs[0] !== 0x01) return { error: "not a ClientHello" };
  const hsLength = hs.readUIntBE(1, 3);
  // A ClientHello spanning several records is legal but rare; the part we need comes first.
  const body = hs.subarray(4, 4 + Math.min(hsLength, hs.length - 4));
  let p = 2 + 32; // version, random
  if (body.length < p + 1) return { error: "truncated ClientHello" };
  p += 1 + body[p]!; // session id
  if (body.length < p + 2) return { error: "truncated ClientHello" };
  p += 2 + body.readUInt16BE(p); // cipher suites
  if (body.length < p + 1) return { error: "truncated ClientHello" };
  p += 1 + body[p]!; // compression methods
  if (body.length < p + 2) return { sni: null }; // no extensions
  const extEnd = Math.min(body.length, p + 2 + body.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    const ext = body.subarray(p + 4, p + 4 + len);
    if (type === 0x0000) {
      // server_name: list length, then entries of (type, length, name)
      let q = 2;
      while (q + 3 <= ext.length) {
        const nameType = ext[q]!;
        const nameLen = ext.readUInt16BE(q + 1);
        const name = ext.subarray(q + 3, q + 3 + nameLen);
        if (nameType === 0) return { sni: name.toString("ascii").toLowerCase().replace(/\.$/, "") };
        q += 3 + nameLen;
      }
      return { sni: null };
    }
    p += 4 + len;
  }
  return { sni: null };
}

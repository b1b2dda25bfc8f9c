// The session token from Proxy-Authorization: Basic (the password; any username) or Bearer.
// A sandbox sends the same header on every request, so the decoding is remembered.
const decoded = new Map<string, string | null>();
const REMEMBERED = 1024;

export function sessionToken(header: string | undefined): string | null {
  if (!header) return null;
  let token = decoded.get(header);
  if (token === undefined) {
    token = decode(header);
    if (decoded.size >= REMEMBERED) decoded.clear();
    decoded.set(header, token);
  }
  return token;
}

function decode(header: string): string | null {
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme)) {
    const text = Buffer.from(value, "base64").toString("utf8");
    const colon = text.indexOf(":");
    return colon >= 0 && colon < text.length - 1 ? text.slice(colon + 1) : null;
  }
  return null;
}

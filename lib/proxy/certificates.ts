// Certificate issuance with @peculiar/x509 on Node's WebCrypto: the Gatehouse CA and per-host leaves.
import "reflect-metadata";
import crypto, { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 60 * 60 * 1000;

export type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };
export type IssuedCertificate = { certPem: string; keyPem: string };

function serial(): string {
  // Positive 128-bit serial.
  const b = crypto.randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

export async function generateKeyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as KeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key as unknown as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
}

export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return (await webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"])) as unknown as CryptoKey;
}

export async function createCertificateAuthority(commonName: string, now = Date.now()): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}, O=Gatehouse`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 10 * 365 * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A leaf for one host (DNS name or IP), signed by the CA, valid for a week. */
export async function issueLeaf(opts: {
  host: string;
  caCertPem: string;
  caKey: CryptoKey;
  leafKeys: KeyPair;
  now?: number;
  days?: number;
}): Promise<string> {
  const now = opts.now ?? Date.now();
  const ca = new x509.X509Certificate(opts.caCertPem);
  const san = isIP(opts.host) ? { type: "ip" as const, value: opts.host } : { type: "dns" as const, value: opts.host };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.host.replace(/[,=+<>#;"\\]/g, "")}`,
    issuer: ca.subject,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + (opts.days ?? 7) * DAY),
    signingAlgorithm: ALG,
    publicKey: opts.leafKeys.publicKey,
    signingKey: opts.caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([san]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return cert.toString("pem");
}

/** A leaf with several names: for test upstreams. */
export async function issueLeafForNames(opts: { names: string[]; caCertPem: string; caKeyPem: string }): Promise<IssuedCertificate> {
  const ca = new x509.X509Certificate(opts.caCertPem);
  const caKey = await importPrivateKeyPem(opts.caKeyPem);
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.names[0]}`,
    issuer: ca.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        opts.names.map((n) => (isIP(n) ? { type: "ip" as const, value: n } : { type: "dns" as const, value: n })),
      ),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

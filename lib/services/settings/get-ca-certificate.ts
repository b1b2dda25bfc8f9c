import crypto from "node:crypto";
import { readCa } from "../../../db/queries/settings";
import type { ServiceContext } from "../context";

/** The proxy CA's public certificate and its SHA-256 fingerprint: public, like GET /api/v1/ca.pem. */
export async function getCaCertificate({
  ctx,
}: {
  ctx: ServiceContext;
}): Promise<{ pem: string; sha256: string; notAfter: string } | null> {
  const pem = (await readCa(ctx.db)).certPem;
  if (!pem) return null;
  const cert = new crypto.X509Certificate(pem);
  return { pem, sha256: cert.fingerprint256, notAfter: cert.validTo };
}

// Shared by the dashboard's granular policy verbs: each derives a new document from the current
// one, and validation errors are reported against the form's own field names.
import { AppError } from "../../errors";
import type { BundleDoc, PolicyDocument } from "../../policy";
import { validateOrThrow } from "./apply-policy";

/** Validates a derived document; field paths lose their "bundles[i].connections[j]." prefix. */
export function validateDerived(doc: unknown): PolicyDocument {
  try {
    return validateOrThrow(doc);
  } catch (err) {
    if (!(err instanceof AppError) || !err.fields) throw err;
    const fields = err.fields.map((f) => ({
      field: f.field.replace(/^bundles\[\d+\](\.connections\[\d+\])?\.?/, "").replace(/\[\d+\]$/, "") || f.field,
      message: f.message,
    }));
    throw new AppError("invalid_field", `${fields[0]!.field}: ${fields[0]!.message}`, { fields });
  }
}

export function findBundle(doc: PolicyDocument, name: string): BundleDoc {
  const bundle = doc.bundles.find((b) => b.name === name);
  if (!bundle) throw new AppError("not_found", `no bundle named "${name}"`);
  return bundle;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Splits a textarea or comma list into trimmed non-empty entries. */
export function listInput(v: unknown): string[] {
  if (Array.isArray(v))
    return v
      .map(String)
      .map((s) => s.trim())
      .filter(Boolean);
  return String(v ?? "")
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

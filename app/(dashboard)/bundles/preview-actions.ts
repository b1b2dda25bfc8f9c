"use server";
// Impact previews for the bundle forms: each runs the form's own verb in draft mode (nothing is
// saved) and replays the last days of logged requests against the result. Owners only: the
// verbs and the preview check the role before anything else.
import { currentUser } from "@/app/_auth/dal";
import { AppError } from "@/lib/errors";
import { logger } from "@/lib/log";
import { credentialIdentity } from "@/lib/policy";
import { serviceContext, type ServiceContext } from "@/lib/services/context";
import { createBundle } from "@/lib/services/policy/create-bundle";
import { deleteBundle } from "@/lib/services/policy/delete-bundle";
import { deleteConnection } from "@/lib/services/policy/delete-connection";
import { addDomain, removeDomain, setOrgDeny } from "@/lib/services/policy/edit-domains";
import { listInput } from "@/lib/services/policy/edit";
import { draftOf } from "@/lib/services/policy/policy-draft";
import { previewPolicyImpact, type ImpactPreview } from "@/lib/services/policy/preview-impact";
import { saveConnection } from "@/lib/services/policy/save-connection";
import { updateBundleScope } from "@/lib/services/policy/update-bundle-scope";
import type { Actor } from "@/lib/auth/permissions";

export type PreviewState = { ok: true; impact: ImpactPreview } | { ok: false; error: string };

const str = (form: FormData, key: string) => String(form.get(key) ?? "");

async function preview(
  verb: (ctx: ServiceContext, actor: Actor | null) => unknown,
  addedCredentials: string[] = [],
): Promise<PreviewState> {
  const actor = await currentUser();
  const ctx = serviceContext();
  try {
    const { current, draft } = await draftOf(ctx, (c) => verb(c, actor));
    return { ok: true, impact: await previewPolicyImpact({ ctx, actor, current, draft, addedCredentials }) };
  } catch (err) {
    if (err instanceof AppError)
      return { ok: false, error: err.code === "forbidden" ? "Auditors have read-only access; ask an Owner." : err.message };
    logger("dashboard").error(`impact preview failed: ${err instanceof Error ? err.message : "unknown error"}`);
    return { ok: false, error: "The impact preview failed; nothing was changed." };
  }
}

export async function previewAddDomain(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) => addDomain({ ctx, actor, input: { bundle: str(form, "bundle"), pattern: str(form, "pattern") } }));
}

export async function previewRemoveDomain(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) => removeDomain({ ctx, actor, input: { bundle: str(form, "bundle"), pattern: str(form, "pattern") } }));
}

export async function previewSaveConnection(form: FormData): Promise<PreviewState> {
  const bundle = str(form, "bundle");
  const existing = str(form, "existing") || undefined;
  // The client never sends the credential here; it says whether one was typed.
  const hasSecret = !existing && form.get("hasSecret") === "1";
  const name = (existing ?? str(form, "name")).trim();
  return preview(
    (ctx, actor) =>
      saveConnection({
        ctx,
        actor,
        input: {
          bundle,
          existing,
          name: str(form, "name"),
          serviceAccount: str(form, "serviceAccount"),
          injectType: str(form, "injectType"),
          injectName: str(form, "injectName"),
          allowedWebsites: listInput(str(form, "allowedWebsites")),
          narrowHost: str(form, "narrowHost"),
          narrowPathPrefix: str(form, "narrowPathPrefix"),
          narrowReadOnly: form.get("narrowReadOnly") === "on",
        },
      }),
    hasSecret && name ? [credentialIdentity(bundle, name)] : [],
  );
}

export async function previewDeleteConnection(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) =>
    deleteConnection({ ctx, actor, input: { bundle: str(form, "bundle"), connection: str(form, "connection") } }),
  );
}

export async function previewBundleScope(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) =>
    updateBundleScope({
      ctx,
      actor,
      input: {
        bundle: str(form, "bundle"),
        scopeType: str(form, "scopeType"),
        workspace: str(form, "workspace"),
        channels: str(form, "channels"),
      },
    }),
  );
}

export async function previewCreateBundle(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) =>
    createBundle({
      ctx,
      actor,
      input: {
        name: str(form, "name"),
        scopeType: str(form, "scopeType"),
        workspace: str(form, "workspace"),
        channels: str(form, "channels"),
      },
    }),
  );
}

export async function previewDeleteBundle(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) => deleteBundle({ ctx, actor, input: { bundle: str(form, "bundle") } }));
}

export async function previewOrgDeny(form: FormData): Promise<PreviewState> {
  return preview((ctx, actor) => setOrgDeny({ ctx, actor, input: { patterns: listInput(str(form, "orgDeny")) } }));
}

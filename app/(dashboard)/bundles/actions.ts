"use server";
// Server actions for bundles, connections, credentials, domains and the org-wide deny list.
// Each is a public POST endpoint: the verb it calls checks the caller's permission first.
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { revokeCredential } from "@/lib/services/credentials/revoke-credential";
import { setCredential } from "@/lib/services/credentials/set-credential";
import { createBundle } from "@/lib/services/policy/create-bundle";
import { deleteBundle } from "@/lib/services/policy/delete-bundle";
import { deleteConnection } from "@/lib/services/policy/delete-connection";
import { addDomain, removeDomain, setOrgDeny } from "@/lib/services/policy/edit-domains";
import { listInput } from "@/lib/services/policy/edit";
import { saveConnection } from "@/lib/services/policy/save-connection";
import { updateBundleScope } from "@/lib/services/policy/update-bundle-scope";

const str = (form: FormData, key: string) => String(form.get(key) ?? "");

function done(paths: string[]) {
  for (const p of paths) revalidatePath(p);
}

// createBundleAction — owner
export async function createBundleAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const name = str(form, "name").trim();
  // Say "required" for an empty name rather than the naming rule it trivially breaks.
  if (!name) return { ok: false, error: "name: required", fields: { name: "required" } };
  const result = await toActionResult(async () => {
    await createBundle({
      ctx: serviceContext(),
      actor,
      input: { name, scopeType: str(form, "scopeType"), workspace: str(form, "workspace"), channels: str(form, "channels") },
    });
  });
  if (!result?.ok) return result;
  done(["/bundles", "/channels"]);
  redirect(`/bundles/${encodeURIComponent(name)}`);
}

// updateBundleScopeAction — owner
export async function updateBundleScopeAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(
    () =>
      updateBundleScope({
        ctx: serviceContext(),
        actor,
        input: { bundle, scopeType: str(form, "scopeType"), workspace: str(form, "workspace"), channels: str(form, "channels") },
      }),
    "Scope saved.",
  );
  if (result?.ok) done(["/bundles", `/bundles/${encodeURIComponent(bundle)}`, "/channels"]);
  return result;
}

// deleteBundleAction — owner
export async function deleteBundleAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(() => deleteBundle({ ctx: serviceContext(), actor, input: { bundle: str(form, "bundle") } }));
  if (!result?.ok) return result;
  done(["/bundles", "/channels"]);
  redirect("/bundles");
}

// saveConnectionAction — owner; on create the credential (if given) is stored in the same transaction
export async function saveConnectionAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const existing = str(form, "existing") || undefined;
  const result = await toActionResult(() =>
    saveConnection({
      ctx: serviceContext(),
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
        secret: existing ? undefined : str(form, "secret"),
        grantDuration: existing ? undefined : str(form, "duration"),
        grantUntil: str(form, "until"),
        acceptDenied: form.get("acceptDenied") === "on",
      },
    }),
  );
  if (!result?.ok) return result;
  done(["/bundles", `/bundles/${encodeURIComponent(bundle)}`, "/channels"]);
  redirect(`/bundles/${encodeURIComponent(bundle)}?tab=connections&saved=${encodeURIComponent(existing ?? str(form, "name").trim())}`);
}

// deleteConnectionAction — owner
export async function deleteConnectionAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(
    () => deleteConnection({ ctx: serviceContext(), actor, input: { bundle, connection: str(form, "connection") } }),
    "Connection deleted.",
  );
  if (result?.ok) done([`/bundles/${encodeURIComponent(bundle)}`, "/bundles", "/channels"]);
  return result;
}

// replaceCredentialAction — owner; write-only: the response never carries the secret
export async function replaceCredentialAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(async () => {
    const r = await setCredential({
      ctx: serviceContext(),
      actor,
      input: { bundle, connection: str(form, "connection"), secret: str(form, "secret") },
    });
    return void r;
  }, "Credential saved.");
  if (result?.ok) done([`/bundles/${encodeURIComponent(bundle)}`]);
  return result;
}

// revokeCredentialAction — owner
export async function revokeCredentialAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(
    () => revokeCredential({ ctx: serviceContext(), actor, input: { bundle, connection: str(form, "connection") } }),
    "Credential revoked.",
  );
  if (result?.ok) done([`/bundles/${encodeURIComponent(bundle)}`]);
  return result;
}

// addDomainAction — owner
export async function addDomainAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(
    async () =>
      void (await addDomain({
        ctx: serviceContext(),
        actor,
        input: { bundle, pattern: str(form, "pattern"), acceptDenied: form.get("acceptDenied") === "on" },
      })),
    "Domain added.",
  );
  if (result?.ok) done([`/bundles/${encodeURIComponent(bundle)}`, "/channels"]);
  return result;
}

// removeDomainAction — owner
export async function removeDomainAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const result = await toActionResult(
    () => removeDomain({ ctx: serviceContext(), actor, input: { bundle, pattern: str(form, "pattern") } }),
    "Domain removed.",
  );
  if (result?.ok) done([`/bundles/${encodeURIComponent(bundle)}`, "/channels"]);
  return result;
}

// setOrgDenyAction — owner
export async function setOrgDenyAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => setOrgDeny({ ctx: serviceContext(), actor, input: { patterns: listInput(str(form, "orgDeny")) } }),
    "Org-wide deny list saved.",
  );
  if (result?.ok) done(["/bundles", "/channels"]);
  return result;
}

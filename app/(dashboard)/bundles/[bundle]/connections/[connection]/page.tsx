import Link from "next/link";
import { notFound } from "next/navigation";
import { Card, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { ConnectionForm } from "../connection-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Edit connection" };

export default async function EditConnectionPage({ params }: { params: Promise<{ bundle: string; connection: string }> }) {
  const actor = await requireUser();
  const p = await params;
  const bundleName = decodeURIComponent(p.bundle);
  const connectionName = decodeURIComponent(p.connection);
  if (!can(actor, "policy.write")) notFound();
  const connection = getPolicy({ ctx: serviceContext(), actor })
    .bundles.find((b) => b.name === bundleName)
    ?.connections.find((c) => c.name === connectionName);
  if (!connection) notFound();
  return (
    <>
      <PageHeader
        title={`Edit ${connection.name}`}
        description={
          <Link href={`/bundles/${encodeURIComponent(bundleName)}`} className="underline">
            {bundleName}
          </Link>
        }
      />
      <Card>
        <p className="mb-4 text-sm text-slate-600">The credential is not part of this form: use Replace or Revoke on the bundle page.</p>
        <ConnectionForm bundle={bundleName} initial={connection} />
      </Card>
    </>
  );
}

import Link from "next/link";
import { notFound } from "next/navigation";
import { Card, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { ConnectionForm } from "../connection-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "New connection" };

export default async function NewConnectionPage({ params }: { params: Promise<{ bundle: string }> }) {
  const actor = await requireUser();
  const name = decodeURIComponent((await params).bundle);
  if (!can(actor, "policy.write")) notFound();
  const bundle = getPolicy({ ctx: serviceContext(), actor }).bundles.find((b) => b.name === name);
  if (!bundle) notFound();
  return (
    <>
      <PageHeader
        title="New connection"
        description={
          <Link href={`/bundles/${encodeURIComponent(name)}`} className="underline">
            {name}
          </Link>
        }
      />
      <Card>
        <ConnectionForm bundle={name} />
      </Card>
    </>
  );
}

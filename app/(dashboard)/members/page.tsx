import { Card, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { getSessionSettings } from "@/lib/services/settings/get-session-settings";
import { serviceContext } from "@/lib/services/context";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { MemberAccessForm, SessionSettingsForm } from "./forms";

export const dynamic = "force-dynamic";
export const metadata = { title: "Members" };

export default async function MembersPage() {
  const actor = await requireUser();
  const ctx = serviceContext();
  const { memberAccess } = getPolicy({ ctx, actor });
  const limits = getSessionSettings({ ctx, actor });
  const owner = can(actor, "policy.write");
  return (
    <>
      <PageHeader
        title="Members"
        description="Who may invoke the agent, in channels and in direct messages. The agent always acts as its own service accounts, never as the member who invoked it."
      />
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
        <Card title="Who may invoke the agent">
          <MemberAccessForm
            mode={memberAccess.mode}
            roles={memberAccess.roles}
            directMessages={memberAccess.directMessages === "enabled"}
            readOnly={!owner}
          />
        </Card>
        <Card title="Session limits">
          <SessionSettingsForm
            idleTimeoutMinutes={Math.round(limits.idleTimeoutSeconds / 60)}
            maxLifetimeHours={Math.round(limits.maxLifetimeSeconds / 3600)}
            readOnly={!can(actor, "settings.write")}
          />
        </Card>
      </div>
    </>
  );
}

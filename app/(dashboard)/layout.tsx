import { AppShell } from "@/components/app-shell";
import { Logo } from "@/components/logo";
import { ReportOnlyBanner } from "@/components/report-only-banner";
import { Nav, NAV_ITEMS } from "@/components/nav";
import { SignOutButton } from "@/components/sign-out-button";
import { Badge } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { getPolicy } from "@/lib/services/policy/get-policy";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const reportOnly = (await getPolicy({ ctx: serviceContext(), actor: user })).reportOnly ?? [];
  const brand = (
    <div className="flex items-center gap-2">
      <Logo />
      <span className="font-semibold">Gatehouse</span>
    </div>
  );
  return (
    <AppShell
      brand={brand}
      sidebar={
        <>
          <Nav items={NAV_ITEMS} />
          <div className="mt-4 border-t border-slate-200 px-2.5 pt-3 md:mt-auto" data-testid="current-user">
            <div className="truncate text-xs font-medium text-slate-800" title={user.email}>
              {user.email}
            </div>
            <div className="mt-1 flex items-center justify-between">
              <Badge tone={user.role === "owner" ? "blue" : "slate"}>{user.role === "owner" ? "Owner" : "Auditor"}</Badge>
              <SignOutButton />
            </div>
          </div>
        </>
      }
    >
      <ReportOnlyBanner windows={reportOnly} now={Date.now()} />
      {user.role !== "owner" && (
        <div
          className="mb-4 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900 ring-1 ring-inset ring-sky-200"
          role="status"
          data-testid="read-only-banner"
        >
          You are signed in as an Auditor: everything here is read-only. Changes are made by an Owner.
        </div>
      )}
      {children}
    </AppShell>
  );
}

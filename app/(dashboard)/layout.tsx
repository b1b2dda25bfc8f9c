import { Logo } from "@/components/logo";
import { Nav, NAV_ITEMS } from "@/components/nav";
import { SignOutButton } from "@/components/sign-out-button";
import { Badge } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <div className="flex min-h-screen">
      <aside className="sticky top-0 flex h-screen w-52 shrink-0 flex-col border-r border-slate-200 bg-slate-50 px-3 py-4">
        <div className="mb-5 flex items-center gap-2 px-2.5">
          <Logo />
          <span className="font-semibold">Gatehouse</span>
        </div>
        <Nav items={NAV_ITEMS} />
        <div className="mt-auto border-t border-slate-200 px-2.5 pt-3" data-testid="current-user">
          <div className="truncate text-xs font-medium text-slate-800" title={user.email}>
            {user.email}
          </div>
          <div className="mt-1 flex items-center justify-between">
            <Badge tone={user.role === "owner" ? "blue" : "slate"}>{user.role === "owner" ? "Owner" : "Auditor"}</Badge>
            <SignOutButton />
          </div>
        </div>
      </aside>
      <main className="min-w-0 flex-1 px-8 py-6">{children}</main>
    </div>
  );
}

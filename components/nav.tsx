"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cx } from "./ui";

export const NAV_ITEMS = [
  { href: "/", label: "Overview" },
  { href: "/bundles", label: "Bundles" },
  { href: "/channels", label: "Channels" },
  { href: "/grants", label: "Grants" },
  { href: "/explain", label: "Explain" },
  { href: "/members", label: "Members" },
  { href: "/sessions", label: "Sessions" },
  { href: "/audit", label: "Audit" },
  { href: "/settings", label: "Settings" },
] as const;

export function Nav({ items }: { items: readonly { href: string; label: string }[] }) {
  const pathname = usePathname();
  return (
    <nav className="flex flex-col gap-0.5" aria-label="Main">
      {items.map((item) => {
        const active = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={cx(
              "rounded-md px-2.5 py-1.5 text-sm",
              active ? "bg-slate-200/70 font-medium text-slate-900" : "text-slate-600 hover:bg-slate-100 hover:text-slate-900",
            )}
          >
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}

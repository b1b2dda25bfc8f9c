"use client";
import { useState, type ReactNode } from "react";
import { cx } from "./ui";

/**
 * The dashboard frame: a sidebar from 768 px up, and below that a top bar whose menu button
 * opens the same navigation. The sidebar content is rendered once, so test ids stay unique.
 */
export function AppShell({ brand, sidebar, children }: { brand: ReactNode; sidebar: ReactNode; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="min-h-screen md:flex">
      <div className="sticky top-0 z-30 flex items-center justify-between border-b border-slate-200 bg-slate-50 px-4 py-2 md:hidden">
        {brand}
        <button
          type="button"
          className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-white"
          aria-expanded={open}
          aria-controls="dashboard-sidebar"
          onClick={() => setOpen((v) => !v)}
        >
          {open ? "Close menu" : "Menu"}
        </button>
      </div>
      <aside
        id="dashboard-sidebar"
        // Following a link closes the menu.
        onClick={(e) => {
          if ((e.target as HTMLElement).closest("a")) setOpen(false);
        }}
        className={cx(
          "shrink-0 flex-col border-slate-200 bg-slate-50 px-3 py-4 md:sticky md:top-0 md:flex md:h-screen md:w-52 md:border-r",
          open ? "flex border-b" : "hidden",
        )}
      >
        <div className="mb-5 hidden px-2.5 md:block">{brand}</div>
        {sidebar}
      </aside>
      <main className="min-w-0 flex-1 px-4 py-4 md:px-8 md:py-6">{children}</main>
    </div>
  );
}

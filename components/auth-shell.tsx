import type { ReactNode } from "react";
import { Logo } from "@/components/logo";

/** A page outside the console (sign-in, setup, an error): the logo over one card. */
export function AuthShell({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-2">
          <Logo />
          <span className="text-base font-semibold">Gatehouse</span>
        </div>
        <div className="rounded-lg bg-white p-6 ring-1 ring-slate-200">
          <h1 className="mb-4 text-base font-semibold">{title}</h1>
          {children}
        </div>
      </div>
    </main>
  );
}

import { Badge } from "./ui";

export function OutcomeBadge({ outcome }: { outcome: string | null }) {
  if (!outcome) return <span className="text-slate-500">—</span>;
  const tone =
    outcome === "credentialed"
      ? "blue"
      : outcome === "allowlisted"
        ? "green"
        : outcome === "blocked" || outcome === "refused" || outcome === "locked"
          ? "red"
          : "slate";
  return <Badge tone={tone}>{outcome}</Badge>;
}

// Requests per hour by outcome, as stacked bars: server-rendered SVG, no client script.
type Hour = { start: number; credentialed: number; allowlisted: number; blocked: number };

const COLORS = { credentialed: "#0284c7", allowlisted: "#10b981", blocked: "#ef4444" } as const;

export function OutcomeChart({ hours }: { hours: Hour[] }) {
  const width = 720;
  const height = 160;
  const pad = { left: 36, bottom: 18, top: 8 };
  const max = Math.max(1, ...hours.map((h) => h.credentialed + h.allowlisted + h.blocked));
  const barW = (width - pad.left) / hours.length;
  const scale = (n: number) => (n / max) * (height - pad.bottom - pad.top);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        className="w-full"
        role="img"
        aria-label="Requests per hour by outcome, last 24 hours"
        data-testid="outcome-chart"
      >
        <line x1={pad.left} x2={width} y1={height - pad.bottom} y2={height - pad.bottom} stroke="#e2e8f0" />
        <text x={pad.left - 6} y={pad.top + 8} textAnchor="end" fontSize="10" fill="#64748b">
          {max}
        </text>
        <text x={pad.left - 6} y={height - pad.bottom} textAnchor="end" fontSize="10" fill="#64748b">
          0
        </text>
        {hours.map((h, i) => {
          let y = height - pad.bottom;
          const x = pad.left + i * barW + 1;
          return (
            <g key={h.start}>
              <title>{`${new Date(h.start).toISOString().slice(11, 16)} UTC: ${h.credentialed} credentialed, ${h.allowlisted} allowlisted, ${h.blocked} blocked`}</title>
              {(["credentialed", "allowlisted", "blocked"] as const).map((k) => {
                const hgt = scale(h[k]);
                y -= hgt;
                return hgt > 0 ? <rect key={k} x={x} y={y} width={barW - 2} height={hgt} fill={COLORS[k]} rx="1" /> : null;
              })}
              {i % 4 === 0 && (
                <text x={x + barW / 2} y={height - 4} textAnchor="middle" fontSize="10" fill="#64748b">
                  {new Date(h.start).toISOString().slice(11, 16)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-2 flex gap-4 text-xs text-slate-600">
        {(Object.keys(COLORS) as (keyof typeof COLORS)[]).map((k) => (
          <span key={k} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: COLORS[k] }} />
            {k} {hours.reduce((n, h) => n + h[k], 0)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

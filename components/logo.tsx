export function Logo() {
  return (
    <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true" className="text-slate-900">
      <rect x="2" y="2" width="20" height="20" rx="5" fill="currentColor" />
      <path d="M7 17V10l5-3 5 3v7" stroke="white" strokeWidth="1.8" fill="none" strokeLinejoin="round" />
      <path d="M10.5 17v-3.5h3V17" stroke="white" strokeWidth="1.8" fill="none" />
    </svg>
  );
}

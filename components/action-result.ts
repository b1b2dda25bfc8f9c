// What a server action hands back to its form: shared by components/ (which render it) and app/
// (whose actions produce it), so neither imports the other's side.
export type ActionResult<T = void> =
  { ok: true; data?: T; message?: string } | { ok: false; error: string; fields?: Record<string, string> } | null;

// What a dashboard policy verb would save, captured without saving: the verb runs with
// `ctx.draftOnly`, applyPolicy throws the derived document, and draftOf catches it. The form's
// own parsing and validation run unchanged, so the preview cannot disagree with the save.
import type { PolicyDocument } from "../../policy";
import type { ServiceContext } from "../context";

export class PolicyDraft extends Error {
  constructor(
    readonly current: PolicyDocument,
    readonly draft: PolicyDocument,
  ) {
    super("policy draft (not saved)");
  }
}

/** Runs `verb` in draft mode; returns the document it would save, or rethrows its refusal. */
export async function draftOf(
  ctx: ServiceContext,
  verb: (ctx: ServiceContext) => unknown,
): Promise<{ current: PolicyDocument; draft: PolicyDocument }> {
  try {
    await verb({ ...ctx, draftOnly: true });
  } catch (err) {
    if (err instanceof PolicyDraft) return { current: err.current, draft: err.draft };
    throw err;
  }
  throw new Error("the verb saved nothing and produced no draft");
}

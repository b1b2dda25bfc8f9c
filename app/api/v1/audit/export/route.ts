// GET /api/v1/audit/export?format=jsonl|csv&… — owner, auditor; streamed
import { chunked, exportAudit } from "@/lib/services/audit/export-audit";
import { apiRoute } from "../../handler";

export const dynamic = "force-dynamic";

export const GET = apiRoute(({ req, actor, ctx }) => {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const out = exportAudit({ ctx, actor, input: params });
  const chunks = chunked(out.lines);
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    cancel() {
      chunks.return(undefined);
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": out.contentType,
      "Content-Disposition": `attachment; filename="${out.filename}"`,
      "Cache-Control": "no-store",
    },
  });
});

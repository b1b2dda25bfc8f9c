// The shape every /api/v1 route shares: resolve the caller, run one verb, map errors to statuses.
import "server-only";
import { apiActor } from "@/app/_auth/dal";
import type { Actor } from "@/lib/auth/permissions";
import { AppError } from "@/lib/errors";
import { logger } from "@/lib/log";
import { serviceContext, type ServiceContext } from "@/lib/services/context";

export const MAX_BODY_BYTES = 1024 * 1024;

export function jsonError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Response {
  return Response.json({ error: { code, message, ...extra } }, { status });
}

type Handler<P> = (args: { req: Request; actor: Actor; ctx: ServiceContext; params: P }) => Promise<Response> | Response;

export function apiRoute<P = Record<string, never>>(handler: Handler<P>) {
  return async (req: Request, context: { params: Promise<P> }): Promise<Response> => {
    try {
      const actor = await apiActor(req.method);
      if (!actor) {
        return jsonError(401, "unauthenticated", "send Authorization: Bearer <API key>");
      }
      return await handler({ req, actor, ctx: serviceContext(), params: await context.params });
    } catch (err) {
      if (err instanceof AppError) return Response.json(err.toBody(), { status: err.status });
      logger("api").error(
        { method: req.method, path: new URL(req.url).pathname },
        `api ${req.method} ${new URL(req.url).pathname} failed: ${err instanceof Error ? err.message : "unknown error"}`,
      );
      return jsonError(500, "internal", "internal error; nothing was changed");
    }
  };
}

/**
 * Reads a bounded body as text, counting bytes as they stream: 413 as soon as the count passes
 * the limit, without reading the rest. (server.ts enforces the same limit before Next.)
 */
export async function readBody(req: Request, limit: number = MAX_BODY_BYTES): Promise<string> {
  const tooLarge = () => new AppError("payload_too_large", `the body is larger than ${limit} bytes`);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > limit) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJson(req: Request): Promise<unknown> {
  const text = await readBody(req);
  if (!text.trim()) throw new AppError("bad_request", "the body is empty; send JSON", { field: "(body)" });
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("bad_request", "the body is not valid JSON", { field: "(body)" });
  }
}

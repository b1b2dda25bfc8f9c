// How the proxy's outcomes become audit records: the request as decided (durable before its
// first upstream byte), its completion, and the refusals found before a decision.
import type { Revisions } from "../../db/queries/settings";
import { countEgress } from "../metrics";
import type { Decision } from "../policy";
import type { VerifiedSession } from "../sessions/verify";
import { journalFailed } from "./answers";
import type { Attempt, ProxyDeps, Refused } from "./core";
import type { ProxyAnswer } from "./respond";
import { wouldBlockDetail } from "./time-bound";

export class EgressAudit {
  readonly #d: ProxyDeps;
  readonly #revisions: () => Revisions;

  constructor(d: ProxyDeps, revisions: () => Revisions) {
    this.#d = d;
    this.#revisions = revisions;
  }

  /**
   * Durable when it returns true (see lib/audit/journal.ts). False means the record could not be
   * written: an allowed request must then not go out (the caller answers 503); a refusal stays a
   * refusal.
   */
  record(a: Attempt, decision: Decision, result: { status?: number }): boolean {
    try {
      a.journaled = this.#d.audit.record(egressEvent(a, decision, { status: result.status ?? null, now: this.#d.now() }));
      countEgress(decision.outcome, decision.bundle, decision.connection?.name);
      return true;
    } catch (err) {
      journalFailed(err);
      return false;
    }
  }

  /** Only ever after `record` wrote the request (`a.journaled`): nothing goes out unrecorded. */
  complete(a: Attempt, decision: Decision, result: { status: number; bytesIn: number; bytesOut: number; reason?: string }): void {
    const now = this.#d.now();
    this.#d.audit.recordCompletion(a.journaled!, {
      ts: now,
      status: result.status,
      bytesIn: result.bytesIn,
      bytesOut: result.bytesOut,
      durationMs: now - a.started,
      reason: result.reason ?? decision.reason,
    });
  }

  /**
   * A refusal found before a decision, or instead of one (bad target, SNI or Host mismatch,
   * smuggling shapes, limits): recorded whenever the session is known, so that every refusal of
   * a known session is an event. Returns the answer, for the caller to send.
   */
  refuse(session: VerifiedSession | Promise<VerifiedSession | null> | null, about: Refused, a: ProxyAnswer): ProxyAnswer {
    if (!session) return a;
    if (session instanceof Promise) {
      void session.then((s) => this.refuse(s, about, a));
      return a;
    }
    try {
      this.#d.audit.recordLater({
        kind: "egress",
        action: "egress.request",
        requestId: a.requestId,
        sessionId: session.id,
        workspace: session.workspace,
        channel: session.channel,
        thread: session.thread,
        member: session.memberId,
        ...about,
        outcome: "blocked",
        rule: `transport:${a.code}`,
        // What the sandbox sent can be quoted here: bounded.
        reason: a.message.length > 500 ? `${a.message.slice(0, 500)}…` : a.message,
        status: a.status,
      });
      countEgress("blocked", undefined, undefined);
    } catch (err) {
      journalFailed(err);
    }
    return a;
  }

  /**
   * The session behind a token, to record a refusal under; null when there is none. A replica
   * that does not hold the token yet answers at once and records the refusal once it has read
   * the session (a promise: see refuse).
   */
  knownSession(token: string | null): VerifiedSession | Promise<VerifiedSession | null> | null {
    if (!token) return null;
    try {
      const revision = this.#revisions().sessions;
      const check = this.#d.sessions.verify(token, this.#d.now(), revision);
      if (check === undefined && this.#d.sessions.fetch) {
        return this.#d.sessions.fetch(token, this.#d.now(), revision).then(
          (c) => (c.ok ? c.session : null),
          () => null,
        );
      }
      return check?.ok ? check.session : null;
    } catch {
      return null;
    }
  }
}

/** The record of a request as decided; its completion adds status, bytes and duration. */
export function egressEvent(a: Attempt, decision: Decision, opts: { status: number | null; now: number }) {
  const conn = decision.connection ?? decision.nearMiss;
  return {
    kind: "egress" as const,
    action: "egress.request" as const,
    ts: opts.now,
    requestId: a.requestId,
    sessionId: a.session.id,
    workspace: a.session.workspace,
    channel: a.session.channel,
    thread: a.session.thread,
    member: a.session.memberId,
    bundle: decision.bundle ?? null,
    connection: decision.connection?.name ?? null,
    serviceAccount: decision.connection?.serviceAccount ?? null,
    method: a.method,
    scheme: a.target.scheme,
    host: a.target.host,
    port: a.target.port,
    path: a.target.path || null,
    outcome: decision.outcome,
    rule: decision.rule,
    reason: decision.reason,
    status: opts.status,
    detail: conn && !decision.connection ? { nearMiss: conn.identity, ...wouldBlockDetail(decision) } : wouldBlockDetail(decision),
  };
}

// compile(document, { now }) → an index; decide() → { outcome, rule, reason }; explain() → every
// rule considered. Pure: no I/O, no clock (the instant it decides at is an argument of compile).
import { credentialIdentity, type ConnectionDoc, type InjectDoc, type PolicyDocument } from "./document";
import { effectivePolicy, scopeLabel, type ScopeRank } from "./effective";
import { HostIndex, hostKeys } from "./host-index";
import { isIpLiteral, normalisePath, pathHasPrefix, READ_ONLY_METHODS, type Scheme } from "./normalize";
import { parseHostPattern, patternMatches, type HostPattern } from "./pattern";
import { instantMs, liveDocument, nextExpiry, reportOnlyUntil } from "./time-bound";

export type Outcome = "credentialed" | "allowlisted" | "blocked";

export type EgressRequest = {
  method: string;
  scheme: Scheme;
  /** Canonical host (see canonicalHost). */
  host: string;
  port: number;
  /** The path as sent, without the query string. */
  path: string;
  /** The request carries X-HTTP-Method-Override or a sibling. */
  methodOverride: boolean;
};

export type AttachedConnection = {
  bundle: string;
  name: string;
  identity: string;
  serviceAccount: string;
  inject: InjectDoc;
};

export type BlockCode = "org_denied" | "host_not_allowed";

export type Decision = {
  outcome: Outcome;
  /** Which rule decided: "orgDeny:*.pastebin.com", "credential:baseline/github:api.github.com", "domain:baseline:registry.npmjs.org", "default:block". */
  rule: string;
  reason: string;
  code?: BlockCode;
  /** The bundle whose rule decided (allowlisted or credentialed). */
  bundle?: string;
  /** Set when the credential is to be attached. */
  connection?: AttachedConnection;
  /** The connection whose Allowed website matched but whose narrowing (or transport) kept the key home. */
  nearMiss?: AttachedConnection;
  /**
   * Every connection one of whose Allowed websites this host is, credential attached or not: an
   * answer from here is scanned for each of their secrets (a server may echo a credential it saw
   * on an earlier request).
   */
  alsoRedact?: AttachedConnection[];
  /**
   * When this outcome stops holding by itself (ms): the time-bound grant or report-only window it
   * rests on expires. What depended on it (a tunnel, a WebSocket) is closed then.
   */
  expiresAt?: number;
  /** Set in report-only mode (ms, when it ends), on every decision of the channel. */
  reportOnlyUntil?: number;
  /** Report-only let this request out: what would have blocked it. */
  wouldBlock?: { code: BlockCode; rule: string; reason: string };
};

export type Consideration = {
  rule: string;
  kind: "orgDeny" | "credential" | "domain";
  bundle?: string;
  scope?: "organization" | "workspace" | "channel";
  applies: boolean;
  why: string;
};

export type Explanation = { decision: Decision; considered: Consideration[] };

type CredentialRule = {
  kind: "credential";
  bundle: string;
  rank: ScopeRank;
  order: number;
  pattern: HostPattern;
  connection: ConnectionDoc;
  attached: AttachedConnection;
  hasCredential: boolean;
};

type DomainRule = { kind: "domain"; bundle: string; rank: ScopeRank; order: number; pattern: HostPattern; expiresAt?: number };

/** One index per channel: credential rules and Domains entries share it, so one probe per suffix. */
type ChannelIndex = { rules: HostIndex<CredentialRule | DomainRule> };

export type CompileOptions = {
  /** Identities (bundle/connection) that have a credential set. */
  credentialsSet: ReadonlySet<string>;
  /** The instant decisions are made at (ms): time-bound entries expired by then are left out. */
  now: number;
};

export class CompiledPolicy {
  /** The document as it decides: without what had expired at `compiledAt`. */
  readonly document: PolicyDocument;
  readonly compiledAt: number;
  /** The next instant at which a grant or report-only window ends (ms), or null: recompile then. */
  readonly nextExpiry: number | null;
  readonly #deny = new HostIndex<string>({ portlessMatchesAnyPort: true });
  readonly #channels = new Map<string, Map<string, ChannelIndex>>();
  readonly #credentialsSet: ReadonlySet<string>;

  constructor(document: PolicyDocument, options: CompileOptions) {
    this.compiledAt = options.now;
    this.document = liveDocument(document, options.now);
    this.nextExpiry = nextExpiry(document, options.now);
    this.#credentialsSet = options.credentialsSet;
    for (const p of this.document.orgDeny) this.#deny.add(parseHostPattern(p), p);
  }

  /** The index for one channel, built on first use and kept: a policy is immutable once compiled. */
  channelIndex(workspace: string, channel: string): ChannelIndex {
    let byChannel = this.#channels.get(workspace);
    if (!byChannel) this.#channels.set(workspace, (byChannel = new Map()));
    let index = byChannel.get(channel);
    if (!index) {
      index = this.#buildChannelIndex(workspace, channel);
      byChannel.set(channel, index);
    }
    return index;
  }

  #buildChannelIndex(workspace: string, channel: string): ChannelIndex {
    const eff = effectivePolicy(this.document, workspace, channel);
    const rules = new HostIndex<CredentialRule | DomainRule>();
    let order = 0;
    for (const ec of eff.connections) {
      const identity = credentialIdentity(ec.bundle, ec.connection.name);
      const attached: AttachedConnection = {
        bundle: ec.bundle,
        name: ec.connection.name,
        identity,
        serviceAccount: ec.connection.serviceAccount,
        inject: ec.connection.inject,
      };
      for (const website of ec.connection.allowedWebsites) {
        rules.add(parseHostPattern(website), {
          kind: "credential",
          bundle: ec.bundle,
          rank: ec.rank,
          order: order++,
          pattern: parseHostPattern(website),
          connection: ec.connection,
          attached,
          hasCredential: this.#credentialsSet.has(identity),
        });
      }
    }
    for (const d of eff.domains) {
      rules.add(parseHostPattern(d.pattern), {
        kind: "domain",
        bundle: d.bundle,
        rank: d.rank,
        order: order++,
        pattern: parseHostPattern(d.pattern),
        ...(d.expiresAt ? { expiresAt: instantMs(d.expiresAt) } : {}),
      });
    }
    return { rules };
  }

  decide(workspace: string, channel: string, req: EgressRequest): Decision {
    return this.#reportOnly(workspace, channel, this.#evaluate(workspace, channel, req, null));
  }

  explain(workspace: string, channel: string, req: EgressRequest): Explanation {
    const considered: Consideration[] = [];
    const decision = this.#reportOnly(workspace, channel, this.#evaluate(workspace, channel, req, considered));
    return { decision, considered };
  }

  /** Until when this channel is in report-only mode (ms), or null. */
  reportOnlyUntil(workspace: string, channel: string): number | null {
    return reportOnlyUntil(this.document, workspace, channel, this.compiledAt);
  }

  /**
   * Report-only relaxes exactly one refusal: a host on no list. The org-wide deny list never
   * (nor anything decided outside this engine: sessions, private addresses, transport checks).
   */
  #reportOnly(workspace: string, channel: string, d: Decision): Decision {
    if (!this.document.reportOnly?.length) return d;
    const until = this.reportOnlyUntil(workspace, channel);
    if (until === null) return d;
    if (d.outcome !== "blocked" || d.code !== "host_not_allowed") return { ...d, reportOnlyUntil: until };
    return {
      outcome: "allowlisted",
      rule: `reportOnly:${d.rule}`,
      reason: `report-only mode until ${new Date(until).toISOString()}: this request would be blocked (${d.reason}); it goes out without any credential`,
      reportOnlyUntil: until,
      expiresAt: until,
      wouldBlock: { code: d.code, rule: d.rule, reason: d.reason },
    };
  }

  /** Whether a CONNECT to this host must be intercepted: some credential rule names the host. */
  credentialMayApply(workspace: string, channel: string, host: string): boolean {
    return this.channelIndex(workspace, channel).rules.hasHost(host, "credential");
  }

  #evaluate(workspace: string, channel: string, req: EgressRequest, trace: Consideration[] | null): Decision {
    const { host, port, scheme } = req;
    const target = `${host}:${port}`;

    const keys = hostKeys(host);
    const denied = this.#deny.size > 0 ? this.#deny.lookup(keys, port, scheme) : [];
    if (trace) {
      for (const p of this.document.orgDeny) {
        const hit = denied.some((d) => d.value === p);
        trace.push({
          rule: `orgDeny:${p}`,
          kind: "orgDeny",
          applies: hit,
          why: hit ? `${target} matches the org-wide deny pattern ${p}` : `${p} does not match ${target}`,
        });
      }
    }
    if (denied.length > 0) {
      const p = denied[0]!.value;
      return {
        outcome: "blocked",
        code: "org_denied",
        rule: `orgDeny:${p}`,
        reason: `${host} is on the org-wide deny list (${p}); no bundle can allow it`,
      };
    }

    const hits = this.channelIndex(workspace, channel).rules.lookup(keys, port, scheme);
    const candidates: { value: CredentialRule }[] = [];
    const domainHits: { value: DomainRule }[] = [];
    for (const h of hits) {
      if (h.value.kind === "credential") candidates.push(h as { value: CredentialRule });
      else domainHits.push(h as { value: DomainRule });
    }
    let best: CredentialRule | null = null;
    let firstMiss: { rule: CredentialRule; why: string } | null = null;
    let normalised: ReturnType<typeof normalisePath> | undefined;
    for (const { value: rule } of candidates) {
      normalised ??= normalisePath(req.path);
      const miss = credentialMiss(rule, req, normalised);
      if (trace) {
        trace.push({
          rule: credentialRuleName(rule),
          kind: "credential",
          bundle: rule.bundle,
          scope: scopeLabel[rule.rank],
          applies: miss === null,
          why:
            miss ??
            `${target} is an Allowed website of ${rule.attached.identity}${rule.connection.narrow ? " and fits its narrowing" : " (no narrowing)"}`,
        });
      }
      if (miss === null) {
        if (!best || moreSpecific(rule, best)) best = rule;
      } else if (!firstMiss) firstMiss = { rule, why: miss };
    }
    if (trace)
      this.#traceNonMatchingCredentials(
        workspace,
        channel,
        req,
        candidates.map((c) => c.value),
        trace,
      );

    if (best) {
      if (trace) markWinner(trace, credentialRuleName(best), candidates.length);
      const expiresAt = connectionExpiry(best);
      return {
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        outcome: "credentialed",
        rule: credentialRuleName(best),
        reason: `${host} is an Allowed website of ${best.attached.identity} (${scopeLabel[best.rank]} scope)${best.connection.narrow ? " and the request fits its narrowing" : ""}; the ${best.attached.serviceAccount} credential is attached`,
        bundle: best.bundle,
        connection: best.attached,
        alsoRedact: connectionsOf(candidates),
      };
    }

    if (trace) {
      for (const { value: d } of domainHits) {
        trace.push({
          rule: domainRuleName(d),
          kind: "domain",
          bundle: d.bundle,
          scope: scopeLabel[d.rank],
          applies: true,
          why: `${target} matches ${d.pattern.text} on bundle ${d.bundle}'s Domains tab`,
        });
      }
    }

    // Allowed without a credential until the last of the rules allowing it expires (none: lasting).
    const allowedUntil = latestExpiry([...candidates.map((c) => connectionExpiry(c.value)), ...domainHits.map((d) => d.value.expiresAt)]);
    const allowedExpiry = allowedUntil !== undefined ? { expiresAt: allowedUntil } : {};
    if (firstMiss) {
      return {
        ...allowedExpiry,
        outcome: "allowlisted",
        rule: credentialRuleName(firstMiss.rule),
        reason: `${host} is an Allowed website of ${firstMiss.rule.attached.identity}, but ${firstMiss.why}; the request goes out without a credential`,
        bundle: firstMiss.rule.bundle,
        nearMiss: firstMiss.rule.attached,
        alsoRedact: connectionsOf(candidates),
      };
    }
    if (domainHits.length > 0) {
      // A lasting entry decides before a time-bound one: the log names what will still hold.
      const d = domainHits.map((h) => h.value).sort((a, b) => (b.expiresAt ?? Infinity) - (a.expiresAt ?? Infinity))[0]!;
      return {
        ...allowedExpiry,
        outcome: "allowlisted",
        rule: domainRuleName(d),
        reason: `${host} is on bundle ${d.bundle}'s Domains tab (${d.pattern.text}); no credential applies`,
        bundle: d.bundle,
      };
    }
    const literal = isIpLiteral(host) ? " (an IP literal must be listed as such)" : "";
    return {
      outcome: "blocked",
      code: "host_not_allowed",
      rule: "default:block",
      reason: `${target}${literal} is not on any list for channel ${channel} in ${workspace}; ask an Owner to add it to a bundle's Domains tab or a connection's Allowed websites`,
    };
  }

  /** explain() lists every rule of the channel, also those whose host did not match. */
  #traceNonMatchingCredentials(
    workspace: string,
    channel: string,
    req: EgressRequest,
    matched: CredentialRule[],
    trace: Consideration[],
  ): void {
    const eff = effectivePolicy(this.document, workspace, channel);
    const target = `${req.host}:${req.port}`;
    const matchedNames = new Set(matched.map(credentialRuleName));
    for (const ec of eff.connections) {
      for (const website of ec.connection.allowedWebsites) {
        const name = `credential:${credentialIdentity(ec.bundle, ec.connection.name)}:${website}`;
        if (matchedNames.has(name)) continue;
        trace.push({
          rule: name,
          kind: "credential",
          bundle: ec.bundle,
          scope: scopeLabel[ec.rank],
          applies: false,
          why: `${website} does not match ${target}`,
        });
      }
    }
    for (const d of eff.domains) {
      if (patternMatches(parseHostPattern(d.pattern), req.host, req.port, req.scheme)) continue;
      trace.push({
        rule: `domain:${d.bundle}:${d.pattern}`,
        kind: "domain",
        bundle: d.bundle,
        scope: scopeLabel[d.rank],
        applies: false,
        why: `${d.pattern} does not match ${target}`,
      });
    }
  }
}

function connectionExpiry(rule: CredentialRule): number | undefined {
  return rule.connection.expiresAt ? instantMs(rule.connection.expiresAt) : undefined;
}

/** The latest of some expiries, or undefined when one of them is lasting (undefined). */
function latestExpiry(list: (number | undefined)[]): number | undefined {
  let latest = -Infinity;
  for (const at of list) {
    if (at === undefined) return undefined;
    if (at > latest) latest = at;
  }
  return list.length > 0 ? latest : undefined;
}

/** The distinct connections behind the credential rules that matched a host. */
function connectionsOf(candidates: { value: CredentialRule }[]): AttachedConnection[] {
  const seen = new Map<string, AttachedConnection>();
  for (const { value } of candidates) if (!seen.has(value.attached.identity)) seen.set(value.attached.identity, value.attached);
  return [...seen.values()];
}

function credentialRuleName(rule: CredentialRule): string {
  return `credential:${rule.attached.identity}:${rule.pattern.text}`;
}

function domainRuleName(rule: DomainRule): string {
  return `domain:${rule.bundle}:${rule.pattern.text}`;
}

function markWinner(trace: Consideration[], winner: string, candidates: number): void {
  if (candidates < 2) return;
  for (const c of trace) {
    if (c.kind === "credential" && c.applies && c.rule !== winner) {
      c.why += `; a more specific rule won (${winner})`;
    }
  }
}

/** Why the request does not fit the rule's credential narrowing, or null if it fits. */
function credentialMiss(rule: CredentialRule, req: EgressRequest, normalised: ReturnType<typeof normalisePath>): string | null {
  if (!rule.hasCredential) return `${rule.attached.identity} has no credential set`;
  if (req.scheme !== "https") return "a credential is only attached over HTTPS";
  const narrow = rule.connection.narrow;
  if (!narrow) return null;
  if (narrow.host && narrow.host !== req.host) return `the credential is narrowed to host ${narrow.host}`;
  if (narrow.pathPrefix) {
    if (!normalised) return "the path is malformed";
    if (normalised.ambiguous)
      return `the path contains ${normalised.ambiguous}, which upstream servers may read differently; it never fits a path narrowing`;
    if (!pathHasPrefix(normalised.path, narrow.pathPrefix)) return `the path is outside the narrowing prefix ${narrow.pathPrefix}`;
  }
  if (narrow.methods === "read_only") {
    if (req.methodOverride) return "the request carries a method-override header, which never fits a read-only narrowing";
    if (!READ_ONLY_METHODS.has(req.method)) return `${req.method} is not a read-only method`;
  }
  return null;
}

/** Most specific first: exact host over wildcard (longer suffix first), longer path prefix, narrower scope. */
function moreSpecific(a: CredentialRule, b: CredentialRule): boolean {
  const ak = a.pattern.kind === "exact" ? 1 : 0;
  const bk = b.pattern.kind === "exact" ? 1 : 0;
  if (ak !== bk) return ak > bk;
  if (a.pattern.kind === "wildcard" && a.pattern.host.length !== b.pattern.host.length)
    return a.pattern.host.length > b.pattern.host.length;
  const ap = a.connection.narrow?.pathPrefix?.length ?? 0;
  const bp = b.connection.narrow?.pathPrefix?.length ?? 0;
  if (ap !== bp) return ap > bp;
  if (a.rank !== b.rank) return a.rank > b.rank;
  return a.order < b.order;
}

export function compilePolicy(document: PolicyDocument, options: CompileOptions): CompiledPolicy {
  return new CompiledPolicy(document, options);
}

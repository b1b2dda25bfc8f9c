// npm run bench:policy — decision time at 10, 1,000 and 100,000 rules, side by side with a
// linear scan, and the ratios. Goal: under 2 µs per decision at 100,000 rules.
import { compilePolicy, credentialIdentity, domainPattern, parseHostPattern, patternMatches, validatePolicyDocument, type EgressRequest, type PolicyDocument } from "../lib/policy";

function buildPolicy(rules: number): PolicyDocument {
  const connections = [];
  const domains: string[] = [];
  // Half credential rules (exact + wildcard websites), half Domains entries.
  for (let i = 0; connections.length * 2 < rules / 2; i++) {
    connections.push({ name: `svc${i}`, serviceAccount: "bot@acme.example", inject: { type: "bearer" as const }, allowedWebsites: [`api${i}.svc.example`, `*.cdn${i}.example`], narrow: { pathPrefix: `/org${i}`, methods: "read_only" as const } });
  }
  for (let i = 0; domains.length < rules - connections.length * 2; i++) domains.push(i % 2 ? `*.d${i}.example` : `d${i}.example`);
  const doc = validatePolicyDocument({ version: 1, orgDeny: ["*.pastebin.com"], bundles: [{ name: "org", scope: { type: "organization" }, domains, connections }] });
  if (!doc.ok) throw new Error(JSON.stringify(doc.errors[0]));
  return doc.document;
}

function requests(rules: number): EgressRequest[] {
  const n = Math.max(1, Math.floor(rules / 4));
  const out: EgressRequest[] = [];
  for (let i = 0; i < 1000; i++) {
    const k = (i * 7919) % n;
    const pick = i % 5;
    const host = pick === 0 ? `api${k}.svc.example` : pick === 1 ? `a.b.cdn${k}.example` : pick === 2 ? `d${2 * k}.example` : pick === 3 ? `x.d${2 * k + 1}.example` : `unknown${i}.nowhere.test`;
    out.push({ method: "GET", scheme: "https", host, port: 443, path: `/org${k}/repo/file`, methodOverride: false });
  }
  return out;
}

function linearScan(doc: PolicyDocument, req: EgressRequest): string {
  const b = doc.bundles[0]!;
  for (const c of b.connections) for (const w of c.allowedWebsites) if (patternMatches(parseHostPattern(w), req.host, req.port, req.scheme)) return "hit";
  for (const d of b.domains) if (patternMatches(parseHostPattern(domainPattern(d)), req.host, req.port, req.scheme)) return "hit";
  return "blocked";
}

function time(fn: () => void, minMs = 300): number {
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs * 1e6) {
    fn();
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return elapsed / iterations;
}

const rows: { rules: number; compileMs: number; decideNs: number; linearNs: number | null }[] = [];
for (const rules of [10, 1_000, 100_000]) {
  const doc = buildPolicy(rules);
  const creds = new Set(doc.bundles[0]!.connections.map((c) => credentialIdentity("org", c.name)));
  const t0 = process.hrtime.bigint();
  const compiled = compilePolicy(doc, { credentialsSet: creds, now: Date.now() });
  compiled.channelIndex("T0", "C0");
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const reqs = requests(rules);
  let sink = 0;
  const batch = () => {
    for (const r of reqs) sink += compiled.decide("T0", "C0", r).outcome.length;
  };
  time(batch, 500); // warm up: let the JIT settle before measuring
  const perBatch = time(batch, 1500);
  const linearReqs = reqs.slice(0, rules >= 100_000 ? 20 : 1000);
  const linearNs = time(() => {
    for (const r of linearReqs) sink += linearScan(doc, r).length;
  }, 200) / linearReqs.length;
  if (sink < 0) console.log(sink);
  rows.push({ rules, compileMs, decideNs: perBatch / reqs.length, linearNs });
}

console.log("\npolicy decision time (1,000 mixed requests: exact, wildcard, Domains, misses)\n");
console.log("rules      compile    decide/op   linear scan/op   indexed vs linear");
for (const r of rows) {
  console.log(
    `${String(r.rules).padEnd(10)} ${(r.compileMs.toFixed(1) + " ms").padStart(8)}   ${(r.decideNs / 1000).toFixed(3).padStart(7)} µs   ${((r.linearNs ?? 0) / 1000).toFixed(1).padStart(11)} µs   ${((r.linearNs ?? 0) / r.decideNs).toFixed(0).padStart(8)}×`,
  );
}
const first = rows[0]!;
const last = rows[rows.length - 1]!;
console.log(`\nratio decide(100,000 rules) / decide(10 rules): ${(last.decideNs / first.decideNs).toFixed(2)}×`);
console.log(`ratio decide(1,000 rules) / decide(10 rules): ${(rows[1]!.decideNs / first.decideNs).toFixed(2)}×`);
console.log(`goal < 2 µs at 100,000 rules: ${last.decideNs < 2000 ? "met" : "NOT met"} (${(last.decideNs / 1000).toFixed(3)} µs)`);

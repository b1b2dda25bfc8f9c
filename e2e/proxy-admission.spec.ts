// One admission step for every way in (issue #15): the same refusal gets the same answer and the
// same audit event (outcome, rule, reason) whatever the entry shape. A table of entry shape ×
// refusal kind, each cell run through the real process; a cell that cannot occur on a shape says
// why in the table, and the table is checked to be complete.
import net from "node:net";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import { TEST_HOSTS } from "./fixtures/hosts";
import {
  api,
  auditEventsFor,
  expectNoSecretCrossed,
  gh,
  orchKey,
  ownerKey,
  proxySuite,
  requestSession,
  sandboxSaw,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

/** connections-per-session, injected so a cell reaches it with a handful of connections. */
const CAP = 4;
const WORKSPACE = "T0ADMIT";
const CREDENTIAL = "fake-admission-credential-0000";

// One proxy worker, so every connection of a session lands on one counter. Silent connections
// and tunnels are held long enough for a cell to open CAP of them.
proxySuite({
  env: {
    GATEHOUSE_PROXY_WORKERS: "1",
    GATEHOUSE_PROXY_LIMITS: `unauthenticated-per-peer=100,connections-per-session=${CAP}`,
    GATEHOUSE_PROXY_TIMEOUTS: "connect=3s,request-headers=20s,request=40s,response-headers=5s,idle=5s,client-hello=20s,tunnel-idle=60s",
    // meta.gh.test: the cloud metadata address; inside.gh.test: a private one. nx.gh.test and
    // nxi.gh.test resolve nowhere (.test is reserved).
    GATEHOUSE_RESOLVE: [...TEST_HOSTS.map((h) => `${h}=127.0.0.1`), "meta.gh.test=169.254.169.254", "inside.gh.test=10.0.0.7"].join(","),
  },
});

test.beforeAll(async () => {
  const name = `admission-${Date.now().toString(36)}`;
  await updatePolicy(ownerKey, (doc) => {
    doc.bundles.push({
      name,
      scope: { type: "workspace", workspace: WORKSPACE },
      // paste.gh.test is listed, and denied org-wide (proxySuite): the deny wins.
      domains: [
        `registry.gh.test:${up.httpPort}`,
        `registry.gh.test:${up.httpsPort}`,
        ...["meta", "nx", "paste"].flatMap((h) => [`${h}.gh.test:${up.httpPort}`, `${h}.gh.test:${up.httpsPort}`]),
      ],
      connections: [
        {
          name: "api",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: [`api.gh.test:${up.httpsPort}`, `inside.gh.test:${up.httpsPort}`, `nxi.gh.test:${up.httpsPort}`],
        },
      ],
    });
  });
  expect((await api(ownerKey).put(`/connections/${name}/api/credential`, { secret: CREDENTIAL })).status).toBe(204);
});

// ── Talking to the proxy byte for byte ─────────────────────────────────────────────────────────
type Session = { token: string; id: string; ca: string };

/** A fresh session: no cell sees another's connections, revocations or events. */
async function session(): Promise<Session> {
  const s = await requestSession(orchKey, { workspace: WORKSPACE, channel: "C0ADMIT" });
  expect(s.status, s.text).toBe(201);
  return { token: s.json.token, id: s.json.id, ca: s.json.caCertPem };
}

async function open(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((r, j) => socket.once("connect", r).once("error", j));
  socket.on("error", () => undefined);
  return socket;
}

/** One answer: its head and body (Content-Length or chunked), or what came before the close. */
function readAnswer(socket: net.Socket | tls.TLSSocket, ms = 15_000): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      sandboxSaw(text);
      resolve(text);
    };
    const timer = setTimeout(done, ms);
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = text.slice(0, end);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length !== undefined) {
        if (text.length - end - 4 >= Number(length)) done();
      } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        if (text.endsWith("\r\n0\r\n\r\n")) done();
      } else if (/^HTTP\/1\.1 (101|200) /.test(head)) done(); // a switch or an open tunnel: no body follows
    };
    socket.on("data", onData);
    socket.once("close", done);
  });
}

type Answer = { status: number; code: string | null; message: string | null; requestId: string | null; head: string; closed?: boolean };

function parse(text: string): Answer {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  let body: { error?: { code?: string; message?: string; requestId?: string } } = {};
  try {
    const raw = text.slice(end + 4);
    // A chunked body: the JSON sits between the chunk size lines.
    body = JSON.parse(
      /\r\ntransfer-encoding: *chunked/i.test(head) ? raw.slice(raw.indexOf("\r\n") + 2, raw.lastIndexOf("\r\n0\r\n")) : raw,
    );
  } catch {
    // no JSON body (a switch, an open tunnel)
  }
  const requestId = /\r\nX-Gatehouse-Request-Id: *(\S+)/i.exec(head)?.[1] ?? body.error?.requestId ?? null;
  return { status, code: body.error?.code ?? null, message: body.error?.message ?? null, requestId, head };
}

const auth = (token: string | null) => (token === null ? "" : `Proxy-Authorization: Bearer ${token}\r\n`);
const wsHeaders =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/** Writes `text` on `socket` and reads the answer. */
async function exchange(socket: net.Socket | tls.TLSSocket, text: string): Promise<Answer> {
  const reading = readAnswer(socket);
  socket.write(text);
  return parse(await reading);
}

async function connect(token: string | null, authority: string): Promise<{ socket: net.Socket; answer: Answer }> {
  const socket = await open(gh.proxyPort);
  return { socket, answer: await exchange(socket, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth(token)}\r\n`) };
}

/** CONNECT, then TLS to Gatehouse's leaf for `host`. */
async function intercepted(s: Session, host: string): Promise<tls.TLSSocket> {
  const { socket, answer } = await connect(s.token, `${host}:${up.httpsPort}`);
  expect(answer.status, answer.head).toBe(200);
  const secure = tls.connect({ socket, servername: host, ca: s.ca });
  await new Promise((r, j) => secure.once("secureConnect", r).once("error", j));
  secure.on("error", () => undefined);
  return secure;
}

const dashboardPort = () => Number(new URL(gh.baseURL).port);

// ── The entry shapes ───────────────────────────────────────────────────────────────────────────
/** A refusal kind's request: the host it is about and the token it carries. */
type Ask = { token: string | null; host: string; session: Session };

const SHAPES = {
  "absolute-form HTTP": async (a: Ask) =>
    exchange(
      await open(gh.proxyPort),
      `GET http://${a.host}:${up.httpPort}/admission HTTP/1.1\r\nHost: ${a.host}:${up.httpPort}\r\n${auth(a.token)}\r\n`,
    ),
  "CONNECT, blind": async (a: Ask) => (await connect(a.token, `${a.host}:${up.httpsPort}`)).answer,
  "CONNECT, intercepted + inner request": async (a: Ask) => {
    const { socket, answer } = await connect(a.token, `${a.host}:${up.httpsPort}`);
    if (answer.status !== 200) return answer;
    const secure = tls.connect({ socket, servername: a.host, ca: a.session.ca });
    await new Promise((r, j) => secure.once("secureConnect", r).once("error", j));
    return exchange(secure, `GET /admission HTTP/1.1\r\nHost: ${a.host}:${up.httpsPort}\r\n\r\n`);
  },
  "WebSocket upgrade": async (a: Ask) =>
    exchange(
      await open(gh.proxyPort),
      `GET ws://${a.host}:${up.httpPort}/ws HTTP/1.1\r\nHost: ${a.host}:${up.httpPort}\r\n${wsHeaders}${auth(a.token)}\r\n`,
    ),
  "WebSocket upgrade inside a tunnel": async (a: Ask) =>
    exchange(await intercepted(a.session, a.host), `GET /ws HTTP/1.1\r\nHost: ${a.host}:${up.httpsPort}\r\n${wsHeaders}\r\n`),
  "embedded route": async (a: Ask) =>
    exchange(
      await open(dashboardPort()),
      `GET /proxy/http/${a.host}:${up.httpPort}/admission HTTP/1.1\r\nHost: 127.0.0.1:${dashboardPort()}\r\n${auth(a.token)}\r\n`,
    ),
} as const;
type Shape = keyof typeof SHAPES;

// ── The refusal kinds and what each must produce, whatever the shape ──────────────────────────
/** The audit event a refusal must leave; null: none (there is no session to record it under). */
type Event = { outcome: string; rule: string | RegExp; status: number } | null;
type Cell = {
  /** What the sandbox is sent. */
  run: () => Promise<Answer>;
  status: number;
  code: string;
  event: Event;
  /** The event's reason, when it is not the answer's own message (a tunnel's refusal after its 200). */
  reason?: string;
};
type Row = Partial<Record<Shape, Cell | { na: string }>>;

const DECIDED_AT_CONNECT = "decided on the CONNECT before the transport is chosen: the same request as the blind cell";
const TOKEN_IS_THE_TUNNELS = "the request carries no token of its own: the tunnel's, checked at its CONNECT (the intercepted column)";
const NO_TUNNEL = "no tunnel: the target is the absolute-form URL, and the Host header is replaced by it";
const ROUTE = "the route's Host is the dashboard's; the target is in its path";
const ONLY_ALLOWED_TUNNELS = "a tunnel opens only to an allowed host, and a request inside it must name that host";
const COUNTED_ONCE = "the tunnel counted once against the cap, at its CONNECT (the intercepted column)";

const allowed = (s: Session, host = "registry.gh.test"): Ask => ({ token: s.token, host, session: s });
const inTunnel =
  (host: string) =>
  (s: Session): Ask => ({ token: s.token, host, session: s });
const everyShape = <T>(f: (shape: Shape) => T) =>
  Object.fromEntries((Object.keys(SHAPES) as Shape[]).map((shape) => [shape, f(shape)])) as Record<Shape, T>;

/** A cell that sends `ask(session)` through `shape`. */
function cell(shape: Shape, ask: (s: Session) => Ask | Promise<Ask>, expected: Omit<Cell, "run">): Cell {
  return { ...expected, run: async () => SHAPES[shape](await ask(await session())) };
}

const interceptHost = (shape: Shape) =>
  shape === "CONNECT, intercepted + inner request" || shape === "WebSocket upgrade inside a tunnel" ? "api.gh.test" : "registry.gh.test";

const TABLE: Record<string, Row> = {
  "no token": everyShape((shape) =>
    shape === "WebSocket upgrade inside a tunnel"
      ? { na: TOKEN_IS_THE_TUNNELS }
      : cell(shape, (s) => ({ ...allowed(s, interceptHost(shape)), token: null }), {
          status: 407,
          code: "proxy_auth_required",
          event: null,
        }),
  ),
  "bad token": everyShape((shape) =>
    shape === "WebSocket upgrade inside a tunnel"
      ? { na: TOKEN_IS_THE_TUNNELS }
      : cell(shape, (s) => ({ ...allowed(s, interceptHost(shape)), token: "gh_fake_not_a_session_token_0000000000" }), {
          status: 407,
          code: "proxy_auth_required",
          event: null,
        }),
  ),
  "revoked session": everyShape((shape) =>
    shape === "WebSocket upgrade inside a tunnel"
      ? { na: TOKEN_IS_THE_TUNNELS }
      : cell(
          shape,
          async (s) => {
            expect((await api(orchKey).delete(`/sessions/${s.id}`)).status).toBe(204);
            return allowed(s, interceptHost(shape));
          },
          { status: 407, code: "session_revoked", event: null },
        ),
  ),
  "blocked host": everyShape((shape) =>
    shape === "CONNECT, intercepted + inner request"
      ? { na: DECIDED_AT_CONNECT }
      : shape === "WebSocket upgrade inside a tunnel"
        ? { na: ONLY_ALLOWED_TUNNELS }
        : cell(shape, (s) => allowed(s, "evil.gh.test"), {
            status: 403,
            code: "host_not_allowed",
            event: { outcome: "blocked", rule: "default:block", status: 403 },
          }),
  ),
  "org deny": everyShape((shape) =>
    shape === "CONNECT, intercepted + inner request"
      ? { na: DECIDED_AT_CONNECT }
      : shape === "WebSocket upgrade inside a tunnel"
        ? { na: ONLY_ALLOWED_TUNNELS }
        : cell(shape, (s) => allowed(s, "paste.gh.test"), {
            status: 403,
            code: "org_denied",
            event: { outcome: "blocked", rule: "orgDeny:paste.gh.test", status: 403 },
          }),
  ),
  "private address (SSRF)": everyShape((shape) =>
    cell(
      shape,
      shape === "CONNECT, intercepted + inner request" || shape === "WebSocket upgrade inside a tunnel"
        ? inTunnel("inside.gh.test")
        : (s) => allowed(s, "meta.gh.test"),
      {
        status: 403,
        code: "private_address",
        event: { outcome: "blocked", rule: "ssrf:private_address", status: 403 },
      },
    ),
  ),
  // A name that does not resolve fails the request as it was decided (502): its outcome and
  // rule are the decision's. A WebSocket upgrade never carries a credential, so it is allowlisted.
  "DNS failure": everyShape((shape) =>
    shape === "CONNECT, intercepted + inner request"
      ? cell(shape, inTunnel("nxi.gh.test"), {
          status: 502,
          code: "dns_failed",
          event: { outcome: "credentialed", rule: /^credential:.*nxi\.gh\.test/, status: 502 },
        })
      : shape === "WebSocket upgrade inside a tunnel"
        ? cell(shape, inTunnel("nxi.gh.test"), {
            status: 502,
            code: "dns_failed",
            event: { outcome: "allowlisted", rule: /^credential:.*nxi\.gh\.test/, status: 502 },
          })
        : cell(shape, (s) => allowed(s, "nx.gh.test"), {
            status: 502,
            code: "dns_failed",
            event: { outcome: "allowlisted", rule: /^domain:.*nx\.gh\.test/, status: 502 },
          }),
  ),
  // The 200 is out before the ClientHello arrives: the sandbox sees the tunnel close, and the
  // event is recorded under the CONNECT's request id.
  "SNI mismatch": {
    "CONNECT, blind": {
      run: async () => sniAfterConnect(await session(), "registry.gh.test"),
      status: 200,
      code: "",
      event: { outcome: "blocked", rule: "transport:sni_mismatch", status: 403 },
      reason: "TLS SNI evil.gh.test differs from the CONNECT target registry.gh.test",
    },
    "CONNECT, intercepted + inner request": {
      run: async () => sniAfterConnect(await session(), "api.gh.test"),
      status: 200,
      code: "",
      event: { outcome: "blocked", rule: "transport:sni_mismatch", status: 403 },
      reason: "TLS SNI evil.gh.test differs from the CONNECT target api.gh.test",
    },
    "absolute-form HTTP": { na: NO_TUNNEL },
    "WebSocket upgrade": { na: NO_TUNNEL },
    "WebSocket upgrade inside a tunnel": { na: "the handshake comes before any upgrade: the intercepted column" },
    "embedded route": { na: ROUTE },
  },
  "Host mismatch inside a tunnel": {
    "CONNECT, intercepted + inner request": {
      run: async () =>
        exchange(
          await intercepted(await session(), "api.gh.test"),
          `GET /admission HTTP/1.1\r\nHost: evil.gh.test:${up.httpsPort}\r\n\r\n`,
        ),
      status: 403,
      code: "host_mismatch",
      event: { outcome: "blocked", rule: "transport:host_mismatch", status: 403 },
    },
    "WebSocket upgrade inside a tunnel": {
      run: async () =>
        exchange(
          await intercepted(await session(), "api.gh.test"),
          `GET /ws HTTP/1.1\r\nHost: evil.gh.test:${up.httpsPort}\r\n${wsHeaders}\r\n`,
        ),
      status: 403,
      code: "host_mismatch",
      event: { outcome: "blocked", rule: "transport:host_mismatch", status: 403 },
    },
    "CONNECT, blind": { na: "a blind tunnel is not read past its ClientHello (the SNI row)" },
    "absolute-form HTTP": { na: NO_TUNNEL },
    "WebSocket upgrade": { na: NO_TUNNEL },
    "embedded route": { na: ROUTE },
  },
  "connection cap": everyShape((shape) =>
    shape === "WebSocket upgrade inside a tunnel"
      ? { na: COUNTED_ONCE }
      : {
          run: async () => {
            const s = await session();
            const held = await fillCap(s, shape === "embedded route");
            try {
              return await SHAPES[shape](allowed(s, interceptHost(shape)));
            } finally {
              for (const h of held) h.destroy();
            }
          },
          status: 429,
          code: "too_many_connections",
          event: { outcome: "blocked", rule: "transport:too_many_connections", status: 429 },
        },
  ),
};

/** CONNECT to `host`, then a ClientHello naming evil.gh.test: the tunnel closes. */
async function sniAfterConnect(s: Session, host: string): Promise<Answer> {
  const { socket, answer } = await connect(s.token, `${host}:${up.httpsPort}`);
  expect(answer.status, answer.head).toBe(200);
  const secure = tls.connect({ socket, servername: "evil.gh.test", ca: s.ca });
  const failed = await new Promise<boolean>((r) =>
    secure
      .once("secureConnect", () => r(false))
      .once("error", () => r(true))
      .once("close", () => r(true)),
  );
  secure.destroy();
  return { ...answer, closed: failed };
}

/**
 * Opens CAP connections for the session and holds them: blind tunnels waiting for their
 * ClientHello on the proxy port (client-hello=20s here), kept-alive connections with an
 * answered request on the dashboard's (the embedded route counts in the main process).
 */
async function fillCap(s: Session, embedded: boolean): Promise<net.Socket[]> {
  const held: net.Socket[] = [];
  for (let i = 0; i < CAP; i++) {
    let socket: net.Socket;
    let answer: Answer;
    if (embedded) {
      socket = await open(dashboardPort());
      answer = await exchange(
        socket,
        `GET /proxy/http/registry.gh.test:${up.httpPort}/held HTTP/1.1\r\nHost: 127.0.0.1:${dashboardPort()}\r\n${auth(s.token)}\r\n`,
      );
    } else ({ socket, answer } = await connect(s.token, `registry.gh.test:${up.httpsPort}`));
    expect(answer.status, `held connection ${i + 1}: ${answer.head}`).toBe(200);
    held.push(socket);
  }
  return held;
}

/** The events of a request once the importer has moved them into the chain. */
async function eventsOf(requestId: string): Promise<Record<string, any>[]> {
  let events: Record<string, any>[] = [];
  await expect.poll(async () => (events = await auditEventsFor(requestId)).length, { timeout: 15_000 }).toBeGreaterThan(0);
  return events;
}

/**
 * That a refusal left no event: an allowed request through the same process afterwards is
 * recorded, so the importer has read past the refusal.
 */
async function expectNoEvent(requestId: string, shape: Shape): Promise<void> {
  const s = await session();
  const marker = shape === "embedded route" ? await SHAPES["embedded route"](allowed(s)) : await SHAPES["absolute-form HTTP"](allowed(s));
  expect(marker.status, marker.head).toBe(200);
  await eventsOf(marker.requestId!);
  expect(await auditEventsFor(requestId)).toEqual([]);
}

test("the table covers every entry shape × refusal kind, and says why where a cell cannot occur", () => {
  const lines: string[] = [];
  for (const [kind, row] of Object.entries(TABLE)) {
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      const c = row[shape];
      expect(c, `${kind} × ${shape}`).toBeDefined();
      if (!c) continue;
      lines.push(
        `${kind} × ${shape}: ${"na" in c ? `n/a — ${c.na}` : `${c.status} ${c.code || "(then closed)"}, event ${c.event ? `${c.event.outcome} ${String(c.event.rule)}` : "none"}`}`,
      );
    }
  }
  test.info().annotations.push({ type: "table", description: lines.join("\n") });
});

for (const [kind, row] of Object.entries(TABLE)) {
  for (const [shape, c] of Object.entries(row) as [Shape, Cell | { na: string }][]) {
    if ("na" in c) continue; // listed in the table (see the test above), with why
    test(`${kind} × ${shape}: ${c.status} ${c.code || "then closed"}, event ${c.event ? `${c.event.outcome} under ${String(c.event.rule)}` : "none"}`, async () => {
      const answer = await c.run();
      expect(answer.status, answer.head).toBe(c.status);
      if (c.code) expect(answer.code).toBe(c.code);
      if (c.status === 407) expect(answer.head).toMatch(/\r\nProxy-Authenticate: Basic realm="gatehouse"/i);
      if (answer.closed !== undefined) expect(answer.closed, "the tunnel closed").toBe(true);
      expect(answer.requestId, answer.head).toBeTruthy();
      if (!c.event) return expectNoEvent(answer.requestId!, shape);
      const events = await eventsOf(answer.requestId!);
      expect(events).toHaveLength(1);
      const event = events[0]!;
      expect(event).toMatchObject({ outcome: c.event.outcome, status: c.event.status, reason: c.reason ?? answer.message });
      expect(event.rule).toMatch(
        typeof c.event.rule === "string" ? new RegExp(`^${c.event.rule.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : c.event.rule,
      );
    });
  }
}

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});

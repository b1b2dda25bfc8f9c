import http from "node:http";
import type { ServiceContext } from "../services/context";

export type ProxyHandle = {
  listen(): Promise<void>;
  port(): number;
  handleEmbedded(req: http.IncomingMessage, res: http.ServerResponse): void;
  serveCaCertificate(req: http.IncomingMessage, res: http.ServerResponse): void;
  close(): Promise<void>;
};

function send407(res: http.ServerResponse): void {
  res.writeHead(407, { "Proxy-Authenticate": 'Basic realm="gatehouse"', "Content-Type": "application/json", "X-Gatehouse-Outcome": "blocked" });
  res.end(JSON.stringify({ error: { code: "proxy_auth_required", message: "a Gatehouse session token is required" } }));
}

export async function startProxy(ctx: ServiceContext): Promise<ProxyHandle> {
  const server = http.createServer((_req, res) => send407(res));
  server.on("connect", (_req, socket) => {
    socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="gatehouse"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(ctx.env.proxyPort, ctx.env.proxyHost, () => resolve());
      }),
    port: () => (server.address() as { port: number }).port,
    handleEmbedded: (_req, res) => send407(res),
    serveCaCertificate: (_req, res) => {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "not_found", message: "no CA yet" } }));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

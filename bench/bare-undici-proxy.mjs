// The ceiling for Gatehouse's own design: the same relay it uses (Node's HTTP server in front,
// undici's Agent.dispatch behind, the response handed over chunk by chunk) with no rules, no
// auth and no audit. Plain HTTP only; the difference to Gatehouse is Gatehouse's own work.
import http from "node:http";
import { Agent } from "undici";

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256 });
const server = http.createServer((req, res) => {
  const url = new URL(req.url);
  const headers = { ...req.headers, host: url.host };
  delete headers["proxy-authorization"];
  delete headers.connection;
  const origin = `http://${url.hostname === "bench.test" ? "127.0.0.1" : url.hostname}:${url.port || 80}`;
  agent.dispatch(
    { origin, path: url.pathname + url.search, method: req.method, headers },
    {
      onRequestStart() {},
      onResponseStart(_controller, status, upstreamHeaders) {
        res.writeHead(status, upstreamHeaders);
      },
      onResponseData(_controller, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        res.destroy();
      },
    },
  );
  req.resume();
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));

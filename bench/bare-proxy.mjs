// The ceiling for a Node design: a forward proxy with no rules, no auth, no audit.
import http from "node:http";
import net from "node:net";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const server = http.createServer((req, res) => {
  const url = new URL(req.url);
  const up = http.request(
    {
      host: url.hostname === "bench.test" ? "127.0.0.1" : url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: req.method,
      headers: { ...req.headers, host: url.host },
      agent,
    },
    (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    },
  );
  up.on("error", () => res.destroy());
  req.pipe(up);
});
server.on("connect", (req, socket, head) => {
  const [host, port] = req.url.split(":");
  const up = net.connect(Number(port), host.endsWith(".test") ? "127.0.0.1" : host, () => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) up.write(head);
    socket.pipe(up);
    up.pipe(socket);
  });
  up.on("error", () => socket.destroy());
  socket.on("error", () => up.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));

// Benchmark upstream: small fixed responses over HTTP and HTTPS, keep-alive. Prints its ports.
import fs from "node:fs";
import http from "node:http";
import https from "node:https";

const [certFile, keyFile] = process.argv.slice(2);
const body = Buffer.from(JSON.stringify({ ok: true, pad: "x".repeat(200) }));
const handler = (req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
};
const plain = http.createServer({ keepAliveTimeout: 60_000 }, handler);
const secure = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), keepAliveTimeout: 60_000 }, handler);
plain.listen(0, "127.0.0.1", () =>
  secure.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ http: plain.address().port, https: secure.address().port }))),
);

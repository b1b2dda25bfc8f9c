#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, from anywhere (npx, a global link, a script).
const path = require("node:path");
const { register } = require("tsx/cjs/api");
register();
const { run } = require(path.join(__dirname, "..", "lib", "cli", "main.ts"));
const { processIo } = require(path.join(__dirname, "..", "lib", "cli", "io.ts"));
// Standard output carries what a script captures (a new key); any log line goes to standard error.
require(path.join(__dirname, "..", "lib", "log", "index.ts")).logToStandardError();
run(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`gatehouse: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

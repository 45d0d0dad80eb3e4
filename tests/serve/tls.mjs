// Native TLS: `khive serve` with [server] tls_cert_file and tls_key_file (a self-signed
// certificate `openssl` makes here) answers HTTPS, verified against that certificate, and
// refuses plain HTTP on the same port.
//   node tls.mjs KHIVE_BINARY sqlite
import assert from "node:assert/strict";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { backendArgs, createToken, startServer, tmpDir, writeConfig } from "./harness.mjs";

const [khive, kind] = process.argv.slice(2);
const dir = tmpDir(`tls-${kind}`);
const backend = backendArgs(kind, dir, "tls");
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
  "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "pipe" });
const config = writeConfig(dir, "", `${backend.server}\ntls_cert_file = "cert.pem"\ntls_key_file = "key.pem"\n`);
const a = createToken(khive, config, ["--actor", "alice", "--write", "team-a"]);
const server = await startServer(khive, config, backend);
const ca = fs.readFileSync(path.join(dir, "cert.pem"));
const agent = new https.Agent({ ca, keepAlive: true });

function get(p, { token, body, method = body ? "POST" : "GET", options = {} } = {}) {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    if (body) headers["content-type"] = "application/json";
    const req = https.request({ host: "127.0.0.1", port: server.port, path: p, method, agent, headers, ...options }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

try {
  assert.ok(server.url.startsWith("https://"), server.log());
  assert.deepEqual(await get("/healthz"), { status: 200, body: { status: "ok" } });
  let r = await get("/v1/entities", { token: a.token, body: { kind: "concept", name: "over TLS" } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await get(`/v1/records/${r.body.id}`, { token: a.token });
  assert.equal(r.body.name, "over TLS");
  // An unknown certificate authority: the client refuses the server.
  await assert.rejects(get("/healthz", { options: { agent: new https.Agent({}) } }), /self[- ]signed|certificate/i);
  // Plain HTTP on the TLS port gets no HTTP answer.
  const plain = await fetch(`http://127.0.0.1:${server.port}/healthz`).then((x) => x.status, (e) => e);
  assert.ok(plain instanceof Error || plain === 400, `plain HTTP: ${plain}`);
} finally {
  agent.destroy();
  var exit = await server.stop();
  if (backend.drop) backend.drop();
}
assert.equal(exit.code, 0, server.log());
console.log(`serve tls (${kind}) ok`);

// JWT access tokens and RFC 9728 metadata, with keys `openssl` generates here:
//   node jwt.mjs KHIVE_BINARY sqlite|postgres
// RS256 and ES256 tokens from the JWKS file are accepted with the grants of their claims;
// another issuer, audience, an expired token, a key outside the JWKS, a forged signature,
// alg none or HS256, a token without namespaces: 401 with WWW-Authenticate naming the
// metadata. Claims map to actor and namespaces: no write claim is read-only (403), another
// namespace's record is 404.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { backendArgs, createToken, request, startServer, tmpDir, writeConfig } from "./harness.mjs";

const [khive, kind] = process.argv.slice(2);
const dir = tmpDir(`jwt-${kind}`);
const backend = backendArgs(kind, dir, "jwt");
const openssl = (...args) => execFileSync("openssl", args, { stdio: "pipe" });
openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path.join(dir, "rsa.pem"));
openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path.join(dir, "ec.pem"));
openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path.join(dir, "other.pem"));
const rsa = crypto.createPrivateKey(fs.readFileSync(path.join(dir, "rsa.pem")));
const ec = crypto.createPrivateKey(fs.readFileSync(path.join(dir, "ec.pem")));
const other = crypto.createPrivateKey(fs.readFileSync(path.join(dir, "other.pem")));
const jwk = (key, kid) => ({ ...crypto.createPublicKey(key).export({ format: "jwk" }), kid, use: "sig" });
fs.writeFileSync(path.join(dir, "jwks.json"), JSON.stringify({ keys: [jwk(rsa, "r1"), jwk(ec, "e1")] }));

const issuer = "https://auth.example.test";
const audience = "https://khive.example.test";
const b64 = (x) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
function sign(claims, { alg = "RS256", kid = alg === "ES256" ? "e1" : "r1", key = alg === "ES256" ? ec : rsa } = {}) {
  const input = `${b64({ alg, kid, typ: "JWT" })}.${b64({ iss: issuer, aud: audience, exp: now + 600, ...claims })}`;
  const sig = crypto.sign("sha256", Buffer.from(input), alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key);
  return `${input}.${sig.toString("base64url")}`;
}

const config = writeConfig(
  dir,
  "",
  `${backend.server}\n[server.jwt]\nissuer = "${issuer}"\naudience = "${audience}"\njwks_file = "jwks.json"\n`,
);
const khiveToken = createToken(khive, config, ["--actor", "carol", "--write", "team-c"]);
const server = await startServer(khive, config, backend);
const alice = sign({ sub: "alice", khive_write: ["team-a"], khive_read: "shared" });
try {
  // RFC 9728 metadata.
  let r = await request(server, "GET", "/.well-known/oauth-protected-resource");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.authorization_servers, [issuer]);
  assert.equal(r.body.resource, `http://127.0.0.1:${server.port}`);

  r = await request(server, "POST", "/v1/entities", { token: alice, body: { kind: "concept", name: "Alpha" } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.namespace, "team-a");
  const alpha = r.body.id;
  const bob = sign({ sub: "bob", khive_write: ["team-b"] }, { alg: "ES256" });
  r = await request(server, "POST", "/v1/entities", { token: bob, body: { kind: "concept", name: "Bob's" } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.namespace, "team-b");
  assert.equal((await request(server, "GET", `/v1/records/${alpha}`, { token: bob })).status, 404, "another tenant's record");
  const events = (await request(server, "GET", "/v1/records?type=event&kinds=create", { token: alice })).body.items;
  assert.ok(events.some((e) => e.actor === "alice"), JSON.stringify(events));

  const reader = sign({ sub: "rita", khive_read: ["team-a"] });
  assert.equal((await request(server, "GET", `/v1/records/${alpha}`, { token: reader })).status, 200);
  r = await request(server, "POST", "/v1/entities", { token: reader, body: { kind: "concept", name: "no" } });
  assert.equal(r.status, 403, "no write claim: read-only");
  // khive's own tokens still work next to JWTs.
  assert.equal((await request(server, "GET", "/v1/stats", { token: khiveToken.token })).status, 200);

  const refused = {
    "another issuer": sign({ sub: "x", khive_write: ["team-a"], iss: "https://evil.test" }),
    "another audience": sign({ sub: "x", khive_write: ["team-a"], aud: ["https://other.test"] }),
    expired: sign({ sub: "x", khive_write: ["team-a"], exp: now - 3600 }),
    "not yet valid": sign({ sub: "x", khive_write: ["team-a"], nbf: now + 3600 }),
    "no expiry": sign({ sub: "x", khive_write: ["team-a"], exp: undefined }),
    "expiry not a date": sign({ sub: "x", khive_write: ["team-a"], exp: 1e300 }),
    "expiry as text": sign({ sub: "x", khive_write: ["team-a"], exp: String(now + 600) }),
    "key outside the JWKS": sign({ sub: "x", khive_write: ["team-a"] }, { key: other }),
    "no namespaces": sign({ sub: "x" }),
    "no actor": sign({ khive_write: ["team-a"] }),
    "bad namespace": sign({ sub: "x", khive_write: ["team a/../"] }),
    "alg none": `${b64({ alg: "none" })}.${b64({ iss: issuer, aud: audience, exp: now + 600, sub: "x", khive_write: ["team-a"] })}.`,
    "HS256": (() => {
      const input = `${b64({ alg: "HS256", kid: "r1" })}.${b64({ iss: issuer, aud: audience, exp: now + 600, sub: "x", khive_write: ["team-a"] })}`;
      return `${input}.${crypto.createHmac("sha256", "secret").update(input).digest("base64url")}`;
    })(),
    "forged claims": (() => {
      const [h, , s] = alice.split(".");
      return `${h}.${b64({ iss: issuer, aud: audience, exp: now + 600, sub: "alice", khive_write: ["team-b"] })}.${s}`;
    })(),
  };
  for (const [why, token] of Object.entries(refused)) {
    r = await request(server, "GET", "/v1/stats", { token });
    assert.equal(r.status, 401, `${why}: ${JSON.stringify(r.body)}`);
    const challenge = r.headers.get("www-authenticate");
    assert.match(challenge, /^Bearer realm="khive", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource", error="invalid_token"/, why);
  }
  r = await request(server, "GET", "/v1/stats");
  assert.match(r.headers.get("www-authenticate"), /resource_metadata=/);
  assert.equal((await request(server, "GET", "/v1/stats", { token: bob })).body.entities, 1, "nothing written by refused tokens");
} finally {
  var exit = await server.stop();
  if (backend.drop) backend.drop();
}
assert.equal(exit.code, 0, server.log());
assert.ok(!server.log().includes(alice.split(".")[2]), "no token in the log");
console.log(`serve jwt (${kind}) ok`);

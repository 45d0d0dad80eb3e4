// A deterministic OpenAI-compatible embeddings server for tests (Node's built-in http only).
//
//   node embed_server.mjs          binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout,
//                                  serves until stdin closes or it is killed.
//
// POST /v1/embeddings {"model": M, "input": [..] | ".."} answers
// {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}], "model": M}.
// The vector of a text is the sum of one pseudo-random unit vector per lower-case word (seeded by
// the word), so texts sharing words are close. The model name steers the behaviour:
//   "hash-<d>"          d-dimensional vectors (e.g. hash-16)
//   "max<b>-hash-<d>"   as hash-<d>, but HTTP 400 when a request holds more than b inputs
//   "fail-500"          HTTP 500 with a JSON error body
//   "wrong-dim"         the second input of a request gets a vector of another dimension
//   "slow"              answers after 5 s
import http from "node:http";

function wordVector(word, dims) {
  let h = 2166136261;
  for (const ch of word) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
  const v = [];
  for (let i = 0; i < dims; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    v.push(h / 4294967296 - 0.5);
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

function embed(text, dims) {
  const out = new Array(dims).fill(0);
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)) {
    const v = wordVector(w, dims);
    for (let i = 0; i < dims; i++) out[i] += v[i];
  }
  return out.map((x) => Math.round(x * 1e6) / 1e6);
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  let raw = "";
  req.on("data", (c) => (raw += c));
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/embeddings") return send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, { error: { message: "body is not JSON" } });
    }
    const model = String(body.model ?? "");
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    if (inputs.some((t) => typeof t !== "string" || t.length === 0)) return send(res, 400, { error: { message: "input must be non-empty strings" } });
    if (model === "fail-500") return send(res, 500, { error: { message: "model crashed: out of memory", type: "server_error" } });
    const answer = (dims, wrongAt) =>
      send(res, 200, {
        object: "list",
        model,
        data: inputs.map((t, i) => ({ object: "embedding", index: i, embedding: embed(t, i === wrongAt ? dims + 3 : dims) })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      });
    if (model === "wrong-dim") return answer(8, 1);
    if (model === "slow") return setTimeout(() => answer(8, -1), 5000);
    const m = /^(?:max(\d+)-)?hash-(\d+)$/.exec(model);
    if (!m) return send(res, 404, { error: { message: `model '${model}' not found` } });
    if (m[1] && inputs.length > Number(m[1])) return send(res, 400, { error: { message: `batch of ${inputs.length} exceeds ${m[1]}` } });
    return answer(Number(m[2]), -1);
  });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

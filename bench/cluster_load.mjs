// Mixed read/write load through HAProxy in front of several `khive serve` processes
// (scripts/cluster.sh starts it all). Each client has a token of its own and sends it as its
// bearer token; HAProxy balances on that header, so a client stays on one server and gets that
// server's read-your-writes. A client writes an entity (POST /v1/entities), and on its reads
// fetches one of its own acknowledged entities (GET /v1/entities/{id}); a 404 there is a
// read-your-writes miss. Every acknowledged id is written to --acked, one a line, for the
// script to look up in the database afterwards.
//
//   node bench/cluster_load.mjs --url http://127.0.0.1:PORT --tokens FILE --seconds 20 \
//     --clients 16 --write-ratio 0.3 --acked FILE [--stop-after S --stop-cmd CMD]
//
// With --stop-cmd, CMD runs (through sh) S seconds in; the summary then reports the time from
// the command's start to the first write acknowledged among those sent after it returned
// (failover: the command stops the primary).
// Prints one JSON summary line.
import http from "node:http";
import fs from "node:fs";
import { execSync } from "node:child_process";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const url = new URL(args.url);
const tokens = fs.readFileSync(args.tokens, "utf8").split("\n").filter(Boolean);
const seconds = Number(args.seconds ?? 20);
const clients = Number(args.clients ?? 16);
const writeRatio = Number(args["write-ratio"] ?? 0.3);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients * 2 });

function request(method, path, token, body) {
  return new Promise((resolve) => {
    const data = body ? JSON.stringify(body) : undefined;
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {}),
        },
        timeout: 30000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, text }));
        res.on("error", () => resolve({ status: 0, text: "" }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, text: String(e) }));
    if (data) req.write(data);
    req.end();
  });
}

const acked = [];
const stats = { writes: 0, writeErrors: 0, reads: 0, readErrors: 0, readMisses: 0, statuses: {} };
const latency = { read: [], write: [] };
let stopStartAt = null;
let stopDoneAt = null;
let firstWriteAfterStop = null;
const start = Date.now();
const end = start + seconds * 1000;

async function client(c) {
  const token = tokens[c % tokens.length];
  const mine = [];
  let n = 0;
  while (Date.now() < end) {
    const write = mine.length === 0 || Math.random() < writeRatio;
    const t0 = Date.now();
    if (write) {
      const r = await request("POST", "/v1/entities", token, { kind: "concept", name: `c${c}-${n++}-${t0}` });
      const t1 = Date.now();
      stats.statuses[r.status] = (stats.statuses[r.status] ?? 0) + 1;
      if (r.status === 201) {
        const id = JSON.parse(r.text).id;
        mine.push(id);
        acked.push(id);
        stats.writes++;
        latency.write.push(t1 - t0);
        if (stopDoneAt !== null && t0 >= stopDoneAt && firstWriteAfterStop === null) firstWriteAfterStop = t1;
      } else {
        stats.writeErrors++;
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      const id = mine[Math.floor(Math.random() * mine.length)];
      const r = await request("GET", `/v1/entities/${id}`, token);
      const t1 = Date.now();
      stats.statuses[r.status] = (stats.statuses[r.status] ?? 0) + 1;
      if (r.status === 200) {
        stats.reads++;
        latency.read.push(t1 - t0);
      } else if (r.status === 404) {
        stats.readMisses++;
      } else {
        stats.readErrors++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let stopper = null;
if (args["stop-cmd"]) {
  stopper = new Promise((resolve) =>
    setTimeout(() => {
      stopStartAt = Date.now();
      execSync(args["stop-cmd"], { stdio: "inherit", shell: "/bin/sh" });
      stopDoneAt = Date.now();
      resolve(stopDoneAt - stopStartAt);
    }, Number(args["stop-after"] ?? seconds / 3) * 1000),
  );
}
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const stopTook = stopper ? await stopper : null;
fs.writeFileSync(args.acked, acked.join("\n") + (acked.length ? "\n" : ""));
const took = (Date.now() - start) / 1000;
console.log(
  JSON.stringify({
    seconds: took,
    clients,
    acknowledged_writes: stats.writes,
    failed_writes: stats.writeErrors,
    reads: stats.reads,
    read_your_writes_misses: stats.readMisses,
    failed_reads: stats.readErrors,
    writes_per_s: Math.round(stats.writes / took),
    reads_per_s: Math.round(stats.reads / took),
    median_write_ms: median(latency.write),
    median_read_ms: median(latency.read),
    statuses: stats.statuses,
    ...(stopper
      ? {
          stop_command_ms: stopTook,
          stop_to_first_write_ms: firstWriteAfterStop === null ? null : firstWriteAfterStop - stopStartAt,
        }
      : {}),
  }),
);
process.exit(0);

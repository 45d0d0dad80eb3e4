// Shared by the `khive serve` tests: tokens through the CLI, a server on a free port over a
// SQLite file or a fresh PostgreSQL database, JSON requests, the request log.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";

// The backend of a test: "sqlite" or "postgres" (needs KHIVE_PG_URL, a superuser URL of the
// test services; each call makes a fresh database the server reaches as the application role).
export function backendArgs(kind, dir, name) {
  if (kind === "sqlite") return { args: ["--db", path.join(dir, `${name}.db`)], server: "" };
  const url = process.env.KHIVE_PG_URL;
  if (!url) {
    if (process.env.KHIVE_REQUIRE_SERVICES === "1") throw new Error("KHIVE_PG_URL is not set but services are required");
    console.log(`SKIP: KHIVE_PG_URL not set (run through scripts/test.sh)`);
    process.exit(77);
  }
  const db = `khive_serve_${name}_${process.pid}`.toLowerCase();
  execFileSync("psql", [url, "-qc", `DROP DATABASE IF EXISTS ${db}`], { stdio: "pipe" });
  execFileSync("psql", [url, "-qc", `CREATE DATABASE ${db}`], { stdio: "pipe" });
  const u = new URL(url);
  u.pathname = `/${db}`;
  return {
    args: ["--backend", u.toString()],
    server: `postgres_admin_url = "${u.toString()}"\npostgres_user = "khive_app"\n`,
    drop: () => execFileSync("psql", [url, "-qc", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { stdio: "pipe" }),
  };
}

export function writeConfig(dir, extra = "", serverExtra = "") {
  const file = path.join(dir, "khive.toml");
  fs.writeFileSync(file, `[server]\nport = 0\nworkers = 8\n${serverExtra}\n${extra}\n`);
  return file;
}

// Creates a token with `khive token create`; returns { token, id, ... }.
export function createToken(khive, config, args) {
  const out = execFileSync(khive, ["--json", "--config", config, "token", "create", ...args], { encoding: "utf8" });
  return JSON.parse(out);
}

export function khiveCli(khive, args) {
  return execFileSync(khive, args, { encoding: "utf8" });
}

// Starts `khive serve`; resolves once it listens.
export async function startServer(khive, config, backend, extraArgs = []) {
  const proc = spawn(khive, ["--config", config, ...backend.args, "serve", ...extraArgs], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  let scheme = "http";
  proc.stderr.setEncoding("utf8");
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`khive serve did not start:\n${log}`)), 60000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = /listening on (https?):\/\/[^ ]*:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        scheme = m[1];
        resolve(Number(m[2]));
      }
    });
    proc.on("exit", (code) => reject(new Error(`khive serve exited (${code}):\n${log}`)));
  });
  const exited = new Promise((resolve) => proc.on("close", (code, signal) => resolve({ code, signal })));
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    proc,
    log: () => log,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return exited;
    },
    exited,
  };
}

// One request; returns { status, headers, body (parsed JSON or text) }.
export async function request(server, method, p, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const res = await fetch(server.url + p, { method, headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed };
}

// Every record of a type the token sees (`extra`: more query parameters), page by page.
export async function listAll(server, token, type, extra = "") {
  const items = [];
  for (let offset = 0; offset !== null && offset !== undefined; ) {
    const r = await request(server, "GET", `/v1/records?type=${type}&limit=10000&offset=${offset}${extra}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.items);
    offset = r.body.next_offset;
  }
  return items;
}

// Every record a token sees and its successful events: what "changes nothing" compares.
export async function snapshot(server, token) {
  const out = {};
  for (const type of ["entity", "note", "edge"]) out[type] = (await listAll(server, token, type)).map((x) => JSON.stringify(x)).sort();
  out.successEvents = (await listAll(server, token, "event")).filter((e) => e.outcome === "success").map((e) => e.id).sort();
  return out;
}

export function tmpDir(name) {
  const base = process.env.KHIVE_SERVE_WORK || path.join(process.cwd(), "serve-work");
  const dir = path.join(base, `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

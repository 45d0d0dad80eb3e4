// The explorer page of khive serve (docs/explorer.md). Everything it shows comes from the /v1
// JSON API, called with the bearer token the user signs in with; the token stays in this
// tab's session storage and is never put in a URL.
import { Graph, FORCE_LAYOUT_MAX, COSE } from "./graph.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "khive.token";
const NEIGHBOR_LIMIT = 100;      // neighbours fetched per node
const NEIGHBOURHOOD_MAX = 1500;  // nodes an opened neighbourhood stops growing at
const FETCHES_AT_ONCE = 6;
const TABLE_ROWS = 500;          // rows of a query result drawn in the table (all go on the graph)

const state = {
  token: null,
  namespaces: [],
  expanded: new Set(),  // nodes whose neighbours are on the graph
  relations: [],        // every relation the vocabulary has
  selected: null,       // { id, group }
  lastExpandMs: null,
  pending: 0,           // requests of the graph in flight
  notice: "",           // what the graph's status line says when none is
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  let data = null;
  try {
    data = await res.json();
  } catch {}
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? "http_error", data?.error?.message ?? `${res.status} ${res.statusText}`);
    if (res.status === 401) signOut(`Signed out: ${err.message}`);
    throw err;
  }
  return data;
}

// Runs `fn` over `items`, at most `width` at a time.
async function pool(items, width, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

// The graph's status line: "loading…" while requests are pending, then the last notice.
function busy(delta) {
  state.pending += delta;
  $("graph-status").textContent = state.pending > 0 ? "loading…" : state.notice;
}

function notice(text) {
  state.notice = text;
  if (state.pending === 0) $("graph-status").textContent = text;
}

// ---- sign in -------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  const stats = await api("GET", "/v1/stats");
  sessionStorage.setItem(TOKEN_KEY, token);
  state.namespaces = stats.namespaces ?? [];
  const list = $("namespaces");
  list.replaceChildren(...state.namespaces.map((ns) => {
    const s = document.createElement("span");
    s.className = "ns";
    s.textContent = ns;
    return s;
  }));
  $("scope").textContent = `${stats.entities} entities · ${stats.edges} edges · ${stats.notes} notes`;
  $("signin").hidden = true;
  $("who").hidden = false;
  $("app").hidden = false;
  graph.cy.resize();
  await loadRelations();
  $("search-text").focus();
}

function signOut(message = "") {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  graph.clear();
  state.expanded.clear();
  $("hits").replaceChildren();
  $("search-status").textContent = "";
  $("results").hidden = true;
  showRecord(null);
  $("app").hidden = true;
  $("who").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").value = "";
  updateCounts();
}

// The vocabulary's relations, from the OpenAPI document (the `relations` argument's enum).
async function loadRelations() {
  const found = new Set();
  try {
    const doc = await (await fetch("/v1/openapi.json", { cache: "no-store" })).json();
    const walk = (x) => {
      if (!x || typeof x !== "object") return;
      if (x.name === "relations" && Array.isArray(x.schema?.items?.enum)) x.schema.items.enum.forEach((r) => found.add(r));
      Object.values(x).forEach(walk);
    };
    walk(doc.paths);
  } catch {}
  state.relations = [...found].sort();
  renderRelations();
}

function renderRelations() {
  const all = [...new Set([...state.relations, ...graph.relations()])].sort();
  const box = $("relations-list");
  if ([...box.querySelectorAll("input")].map((i) => i.value).join("\n") === all.join("\n")) return;
  const unchecked = new Set([...box.querySelectorAll("input:not(:checked)")].map((i) => i.value));
  box.replaceChildren(...all.map((r) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = r;
    input.checked = !unchecked.has(r);
    input.addEventListener("change", relationsChanged);
    label.append(input, ` ${r}`);
    return label;
  }));
  relationsChanged();
}

// The relations to fetch: null for all.
function chosenRelations() {
  const inputs = [...$("relations-list").querySelectorAll("input")];
  const on = inputs.filter((i) => i.checked).map((i) => i.value);
  return on.length === inputs.length ? null : on;
}

function relationsChanged() {
  const inputs = [...$("relations-list").querySelectorAll("input")];
  const off = inputs.filter((i) => !i.checked).map((i) => i.value);
  $("relations-summary").textContent = off.length === 0 ? "all" : `${inputs.length - off.length} of ${inputs.length}`;
  graph.setHiddenRelations(new Set(off));
  updateCounts();
}

// ---- graph ---------------------------------------------------------------------------------

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function updateCounts() {
  const c = graph.counts();
  $("counts").textContent = `${plural(c.nodes, "node")} · ${plural(c.edges, "edge")}`;
  $("graph-empty").hidden = graph.cy.nodes().nonempty();
}

// The neighbours of a node as graph nodes and edges (direction both).
async function neighbors(id) {
  const rel = chosenRelations();
  let path = `/v1/records/${encodeURIComponent(id)}/neighbors?direction=both&limit=${NEIGHBOR_LIMIT}`;
  if (rel) {
    if (rel.length === 0) return { nodes: [], edges: [] };
    path += `&relations=${rel.map(encodeURIComponent).join(",")}`;
  }
  const r = await api("GET", path);
  const nodes = [];
  const edges = [];
  for (const n of r.neighbors) {
    nodes.push({ id: n.id, name: n.name, kind: n.kind, type: n.type });
    edges.push({ id: n.edge_id, relation: n.relation, weight: n.weight,
                 source: n.direction === "in" ? n.id : id, target: n.direction === "in" ? id : n.id });
  }
  return { nodes, edges };
}

// Replaces the graph with the neighbourhood of `id` up to the chosen depth.
async function openNeighbourhood(id) {
  const depth = Number($("depth").value);
  notice("");
  busy(+1);
  try {
    const root = await api("GET", `/v1/records/${encodeURIComponent(id)}`);
    if (root.type === "edge") return openEdge(root);
    graph.clear();
    state.expanded.clear();
    graph.add([{ id: root.id, name: root.name ?? root.id, kind: root.kind, type: root.type, depth: 0 }], []);
    graph.markRoot(root.id);
    const seen = new Set([root.id]);
    let frontier = [root.id];
    let capped = false;
    for (let d = 1; d <= depth && frontier.length > 0; d++) {
      const next = [];
      const nodes = [];
      const edges = [];
      await pool(frontier, FETCHES_AT_ONCE, async (nid) => {
        const r = await neighbors(nid);
        state.expanded.add(nid);
        edges.push(...r.edges);
        for (const n of r.nodes) {
          if (seen.has(n.id)) continue;
          if (seen.size >= NEIGHBOURHOOD_MAX) { capped = true; continue; }
          seen.add(n.id);
          n.depth = d;
          nodes.push(n);
          next.push(n.id);
        }
      });
      graph.add(nodes, edges.filter((e) => seen.has(e.source) && seen.has(e.target)));
      graph.cy.batch(() => frontier.forEach((nid) => graph.cy.getElementById(nid).addClass("expanded")));
      frontier = next;
    }
    graph.layout();
    renderRelations();
    updateCounts();
    if (capped) notice(`stopped at ${NEIGHBOURHOOD_MAX} nodes`);
    select(root.id, "node", root);
  } catch (e) {
    reportGraphError(e);
  } finally {
    busy(-1);
  }
}

// An edge record: its two ends and the edge.
async function openEdge(edge) {
  graph.clear();
  state.expanded.clear();
  const ends = await Promise.all([edge.source_id, edge.target_id].map((id) => api("GET", `/v1/records/${id}`)));
  graph.add(ends.map((r) => ({ id: r.id, name: r.name ?? r.id, kind: r.kind, type: r.type })),
            [{ id: edge.id, source: edge.source_id, target: edge.target_id, relation: edge.relation, weight: edge.weight }]);
  graph.layout();
  updateCounts();
  select(edge.id, "edge", edge);
}

// Adds the neighbours of `id` next to it; the time until the browser has painted them is
// kept in state.lastExpandMs (bench/explorer_bench.sh reads it).
async function expand(id, started = performance.now()) {
  if (state.expanded.has(id)) return;
  state.expanded.add(id);
  busy(+1);
  try {
    const r = await neighbors(id);
    const added = graph.add(r.nodes, r.edges);
    graph.cy.getElementById(id).addClass("expanded");
    graph.placeAround(id, added);
    if (graph.cy.nodes().length <= FORCE_LAYOUT_MAX && added.length > 0) {
      // Small graphs are laid out again from where the nodes are, and kept in view.
      graph.cy.layout({ ...COSE, randomize: false, numIter: 400, fit: false }).run();
      graph.fit();
    }
    renderRelations();
    updateCounts();
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    state.lastExpandMs = performance.now() - started;
  } catch (e) {
    state.expanded.delete(id);
    reportGraphError(e);
  } finally {
    busy(-1);
  }
}

function reportGraphError(e) {
  notice(e.status === 404 ? "not found (or outside this token's namespaces)" : `error: ${e.message}`);
}

function select(id, group, record) {
  graph.pick(id);
  state.selected = { id, group };
  loadRecord(id, record);
}

// ---- record panel --------------------------------------------------------------------------

const FIELD_ORDER = ["type", "name", "kind", "namespace", "id", "description", "content", "entity_type", "relation",
                     "source_id", "target_id", "weight", "status", "salience", "tags", "created_at", "updated_at"];

function formatValue(key, v) {
  if (v === null || v === undefined) return null;
  if ((key.endsWith("_at")) && typeof v === "number") return new Date(v / 1000).toISOString();
  if (Array.isArray(v) && v.every((x) => typeof x !== "object")) return v.length ? v.join(", ") : null;
  if (typeof v === "object") return JSON.stringify(v, null, 2);
  return String(v);
}

function kvRows(table, entries) {
  table.replaceChildren(...entries.map(([k, v]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = k;
    const td = document.createElement("td");
    if (v.includes("\n")) {
      const pre = document.createElement("pre");
      pre.textContent = v;
      td.append(pre);
    } else {
      td.textContent = v;
    }
    td.dataset.field = k;
    tr.append(th, td);
    return tr;
  }));
}

async function loadRecord(id, given) {
  try {
    const r = given?.created_at !== undefined ? given : await api("GET", `/v1/records/${encodeURIComponent(id)}`);
    if (state.selected?.id !== id) return;
    showRecord(r);
    // A placeholder node gets its name once its record is read.
    if (r.type !== "edge") graph.add([{ id: r.id, name: r.name ?? r.id, kind: r.kind, type: r.type }], []);
  } catch (e) {
    showRecord(null, e.status === 404 ? "Not found in this token's namespaces." : e.message);
  }
}

function showRecord(r, message) {
  $("record").hidden = !r;
  $("panel-empty").hidden = !!r;
  $("panel-empty").textContent = message ?? "Click a node or an edge to see its record.";
  if (!r) return;
  $("record").dataset.id = r.id;
  $("record-title").textContent = r.type === "edge" ? `${r.relation}` : r.name ?? r.id;
  const fields = [];
  const keys = [...FIELD_ORDER, ...Object.keys(r).filter((k) => !FIELD_ORDER.includes(k) && k !== "properties").sort()];
  for (const k of keys) {
    if (!(k in r)) continue;
    const v = formatValue(k, r[k]);
    if (v !== null && v !== "") fields.push([k, v]);
  }
  if (r.type === "edge") {
    for (const [k, end] of [["source", r.source_id], ["target", r.target_id]]) {
      const n = graph.cy.getElementById(end);
      if (n.nonempty() && n.data("name")) fields.splice(2, 0, [k, n.data("name")]);
    }
  }
  kvRows($("record-fields"), fields);
  const props = Object.entries(r.properties ?? {}).map(([k, v]) => [k, formatValue(k, v) ?? "null"]);
  kvRows($("record-properties"), props);
  $("record-expand").hidden = r.type === "edge";
  $("record-root").hidden = false;
}

// ---- search --------------------------------------------------------------------------------

// Text with **marked** spans (the search snippets) as DOM nodes.
function marked(text) {
  const out = [];
  text.split("**").forEach((part, i) => {
    if (!part) return;
    if (i % 2) {
      const m = document.createElement("mark");
      m.textContent = part;
      out.push(m);
    } else {
      out.push(document.createTextNode(part));
    }
  });
  return out;
}

async function search(text) {
  $("search-status").textContent = "searching…";
  try {
    const r = await api("POST", "/v1/search", { text, limit: 25 });
    $("search-status").textContent = `${plural(r.hits.length, "hit")} · ${r.mode} search${r.engine ? ` (${r.engine})` : ""}`;
    $("hits").replaceChildren(...r.hits.map((h) => {
      const li = document.createElement("li");
      li.dataset.id = h.id;
      const name = document.createElement("div");
      name.className = "name";
      name.textContent = h.name ?? h.id;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = `${h.kind} · ${h.namespace} · ${h.type} · ${h.score.toFixed(3)}`;
      li.append(name, meta);
      if (h.snippet) {
        const sn = document.createElement("div");
        sn.className = "snippet";
        sn.append(...marked(h.snippet));
        li.append(sn);
      }
      li.addEventListener("click", () => {
        $("hits").querySelectorAll("li.active").forEach((x) => x.classList.remove("active"));
        li.classList.add("active");
        openNeighbourhood(h.id);
      });
      return li;
    }));
  } catch (e) {
    $("search-status").textContent = `error: ${e.message}`;
  }
}

// ---- query ---------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The node and edge variables of a result: columns v_id + v_kind + v_name are a node,
// v_id + v_relation + v_source_id + v_target_id an edge.
function graphColumns(columns) {
  const at = new Map(columns.map((c, i) => [c, i]));
  const nodes = [];
  const edges = [];
  for (const c of columns) {
    if (!c.endsWith("_id")) continue;
    const v = c.slice(0, -3);
    if (at.has(`${v}_relation`) && at.has(`${v}_source_id`) && at.has(`${v}_target_id`))
      edges.push({ id: at.get(c), relation: at.get(`${v}_relation`), source: at.get(`${v}_source_id`), target: at.get(`${v}_target_id`),
                   weight: at.get(`${v}_weight`) });
    else if (at.has(`${v}_kind`) && at.has(`${v}_name`))
      nodes.push({ id: at.get(c), kind: at.get(`${v}_kind`), name: at.get(`${v}_name`), type: at.get(`${v}_substrate`) });
  }
  return { nodes, edges };
}

async function runQuery() {
  const text = $("query-text").value.trim();
  if (!text) return;
  const body = { text, explain: $("query-explain").checked, cap: Number($("query-cap").value) || 500 };
  if ($("query-language").value) body.language = $("query-language").value;
  $("query-status").textContent = "running…";
  const started = performance.now();
  try {
    const r = await api("POST", "/v1/query", body);
    const ms = performance.now() - started;
    $("query-status").textContent = `${plural(r.rows.length, "row")}${r.truncated ? " (truncated)" : ""} · ${ms.toFixed(0)} ms`;
    showResults(r);
  } catch (e) {
    $("query-status").textContent = `error: ${e.message}`;
    $("query-status").classList.add("error");
    return;
  }
  $("query-status").classList.remove("error");
}

function showResults(r) {
  $("results").hidden = false;
  $("results-title").textContent = `${plural(r.rows.length, "row")}${r.truncated ? " (truncated by the row cap)" : ""}` +
    (r.rows.length > TABLE_ROWS ? `; the table shows the first ${TABLE_ROWS}` : "");
  graph.cy.resize();
  const ex = $("explain");
  ex.hidden = !r.explain;
  if (r.explain) {
    const parts = [];
    if (Array.isArray(r.explain.plan)) parts.push("plan:\n  " + r.explain.plan.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join("\n  "));
    if (r.explain.sql) parts.push(`sql:\n  ${r.explain.sql}`);
    if (r.explain.parameters) parts.push(`parameters: ${JSON.stringify(r.explain.parameters)}`);
    const rest = Object.fromEntries(Object.entries(r.explain).filter(([k]) => !["plan", "sql", "parameters"].includes(k)));
    if (Object.keys(rest).length) parts.push(JSON.stringify(rest, null, 2));
    ex.textContent = parts.join("\n\n");
  }
  const table = $("result-table");
  const head = document.createElement("tr");
  head.append(...r.columns.map((c) => {
    const th = document.createElement("th");
    th.textContent = c;
    return th;
  }));
  const rows = r.rows.slice(0, TABLE_ROWS).map((row) => {
    const tr = document.createElement("tr");
    tr.append(...row.map((v) => {
      const td = document.createElement("td");
      if (typeof v === "string" && UUID.test(v)) {
        const a = document.createElement("a");
        a.textContent = v;
        a.title = "open its neighbourhood";
        a.addEventListener("click", () => openNeighbourhood(v));
        td.append(a);
      } else {
        td.textContent = v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
      }
      return td;
    }));
    return tr;
  });
  table.replaceChildren(head, ...rows);

  const cols = graphColumns(r.columns);
  if (cols.nodes.length === 0 && cols.edges.length === 0) return;
  const nodes = new Map();
  const edges = new Map();
  for (const row of r.rows) {
    for (const n of cols.nodes)
      if (row[n.id]) nodes.set(row[n.id], { id: row[n.id], kind: row[n.kind], name: row[n.name], type: n.type === undefined ? undefined : row[n.type] });
    for (const e of cols.edges)
      if (row[e.id]) edges.set(row[e.id], { id: row[e.id], relation: row[e.relation], source: row[e.source], target: row[e.target],
                                            weight: e.weight === undefined ? 1 : row[e.weight] });
  }
  graph.clear();
  state.expanded.clear();
  notice("");
  graph.add([...nodes.values()], [...edges.values()]);
  graph.layout();
  if (state.selected && graph.cy.getElementById(state.selected.id).empty()) {
    state.selected = null;
    showRecord(null);
  }
  renderRelations();
  updateCounts();
}

// ---- wiring --------------------------------------------------------------------------------

const graph = new Graph($("graph"), $("legend"), {
  onSelect: (id, group) => {
    const started = performance.now();
    select(id, group);
    if (group === "node" && $("click-expands").checked) expand(id, started);
  },
  onExpand: (id) => expand(id),
});

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("signin-error").textContent = "";
  try {
    await signIn($("token").value.trim());
  } catch (err) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("signin-error").textContent = err.status === 401 ? `The token was refused: ${err.message}` : `Cannot sign in: ${err.message}`;
  }
});
$("signout").addEventListener("click", () => signOut());
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  search($("search-text").value.trim());
});
$("query-form").addEventListener("submit", (e) => {
  e.preventDefault();
  runQuery();
});
$("query-text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    runQuery();
  }
});
for (const b of document.querySelectorAll(".tabs button"))
  b.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((x) => x.classList.toggle("active", x === b));
    $("tab-search").hidden = b.dataset.tab !== "search";
    $("tab-query").hidden = b.dataset.tab !== "query";
  });
$("relayout").addEventListener("click", () => graph.layout());
$("fit").addEventListener("click", () => graph.fit());
$("clear").addEventListener("click", () => {
  graph.clear();
  state.expanded.clear();
  showRecord(null);
  updateCounts();
});
$("results-close").addEventListener("click", () => {
  $("results").hidden = true;
  graph.cy.resize();
});
$("record-expand").addEventListener("click", () => state.selected && expand(state.selected.id));
$("record-root").addEventListener("click", () => state.selected && openNeighbourhood(state.selected.id));
$("record-hide").addEventListener("click", () => {
  if (!state.selected) return;
  graph.remove(state.selected.id);
  state.expanded.delete(state.selected.id);
  showRecord(null);
  updateCounts();
});

// The page's state for the browser tests and the bench (read-only use).
window.khiveExplorer = { graph, state, counts: () => graph.counts(), openNeighbourhood, expand };

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(() => signOut());

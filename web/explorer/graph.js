// The graph view of the explorer over cytoscape.js (loaded by index.html as the global
// `cytoscape`): nodes coloured by kind with a legend, edges labelled by relation with weight as
// width, a cheap layout for big graphs, and expansion that places only the new nodes.

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#8cd17d", "#499894", "#d37295", "#a0cbe8", "#bab0ac"];
// Up to this many nodes the whole graph is laid out with cose (force-directed, good pictures);
// above, with rings around hubs (linear time), and expansions only place the new nodes.
export const FORCE_LAYOUT_MAX = 300;
export const COSE = { name: "cose", animate: false, idealEdgeLength: () => 130, nodeRepulsion: () => 20000, nodeOverlap: 20,
                      gravity: 0.25, nodeDimensionsIncludeLabels: true };

export class Graph {
  constructor(container, legend, { onSelect, onExpand }) {
    this.legend = legend;
    this.kindColors = new Map();
    this.hiddenRelations = new Set();
    this.filtered = false;             // some element has the class "filtered"
    this.kindCounts = new Map();       // kind -> nodes on the graph (the legend)
    this.relationSet = new Set();      // relations of the edges on the graph
    this.cy = cytoscape({
      container,
      minZoom: 0.05,
      maxZoom: 4,
      wheelSensitivity: 0.3,
      textureOnViewport: true,
      hideEdgesOnViewport: true,
      motionBlur: false,
      boxSelectionEnabled: false,
      // The picked element is marked by pick(): cytoscape's own selection unselects by scanning
      // every element on each tap.
      autounselectify: true,
      style: [
        { selector: "node", style: {
          "background-color": "data(color)", label: "data(label)", width: 16, height: 16,
          "font-size": 11, color: "#1d2430", "text-valign": "bottom", "text-margin-y": 3,
          "text-outline-color": "#fbfcfd", "text-outline-width": 2, "min-zoomed-font-size": 7,
          "border-width": 1, "border-color": "#ffffff" } },
        { selector: "node.expanded", style: { "border-width": 2, "border-color": "#44505f" } },
        { selector: "node.root", style: { width: 26, height: 26, "font-size": 13, "font-weight": "bold", "border-width": 3, "border-color": "#1d2a3a" } },
        { selector: "node.picked", style: { "border-width": 4, "border-color": "#ff8c00" } },
        { selector: "edge", style: {
          width: "mapData(weight, 0, 1, 0.8, 5)", "line-color": "#a3adba", "curve-style": "straight",
          "target-arrow-shape": "triangle", "target-arrow-color": "#a3adba", "arrow-scale": 0.7,
          label: "data(relation)", "font-size": 9, color: "#5b6575", "text-rotation": "autorotate",
          "text-background-color": "#fbfcfd", "text-background-opacity": 0.85, "text-background-padding": 1,
          "min-zoomed-font-size": 8 } },
        { selector: "edge.picked", style: { "line-color": "#ff8c00", "target-arrow-color": "#ff8c00" } },
        { selector: ".filtered", style: { display: "none" } },
      ],
    });
    this.cy.on("tap", "node", (e) => onSelect(e.target.id(), "node"));
    this.cy.on("tap", "edge", (e) => onSelect(e.target.id(), "edge"));
    this.cy.on("dbltap", "node", (e) => onExpand(e.target.id()));
  }

  colorOf(kind) {
    if (!this.kindColors.has(kind)) this.kindColors.set(kind, PALETTE[this.kindColors.size % PALETTE.length]);
    return this.kindColors.get(kind);
  }

  // Adds what is not there yet; returns the ids of the nodes added.
  add(nodes, edges) {
    const cy = this.cy;
    const elements = [];
    const added = [];
    for (const n of nodes) {
      const existing = cy.getElementById(n.id);
      if (existing.nonempty()) {
        // A placeholder (an edge endpoint seen before its record) gets its name and kind.
        if (n.name && existing.data("placeholder")) {
          this.countKind("?", -1);
          this.countKind(n.kind, +1);
          existing.data({ label: n.name, name: n.name, kind: n.kind, color: this.colorOf(n.kind), placeholder: false });
        }
        continue;
      }
      const kind = n.kind || "?";
      this.countKind(kind, +1);
      elements.push({ group: "nodes", data: { id: n.id, label: n.name ?? n.id.slice(0, 8), name: n.name, kind, type: n.type,
                                              color: this.colorOf(kind), placeholder: !!n.placeholder, depth: n.depth } });
      added.push(n.id);
    }
    const have = new Set(added);
    for (const e of edges) {
      if (cy.getElementById(e.id).nonempty()) continue;
      for (const end of [e.source, e.target])
        if (!have.has(end) && cy.getElementById(end).empty()) {
          elements.push({ group: "nodes", data: { id: end, label: end.slice(0, 8), kind: "?", color: this.colorOf("?"), placeholder: true } });
          this.countKind("?", +1);
          have.add(end);
          added.push(end);
        }
      this.relationSet.add(e.relation);
      elements.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target, relation: e.relation,
                                              weight: typeof e.weight === "number" ? e.weight : 1 } });
    }
    if (elements.length) cy.add(elements);
    this.applyFilter();
    this.renderLegend();
    return added;
  }

  countKind(kind, delta) {
    const n = (this.kindCounts.get(kind) || 0) + delta;
    if (n > 0) this.kindCounts.set(kind, n);
    else this.kindCounts.delete(kind);
  }

  clear() {
    this.cy.elements().remove();
    this.kindColors.clear();
    this.kindCounts.clear();
    this.relationSet.clear();
    this.filtered = false;
    this.renderLegend();
  }

  // Removes a node and its edges from the picture.
  remove(id) {
    const node = this.cy.getElementById(id);
    if (node.empty()) return;
    this.countKind(node.data("kind"), -1);
    node.remove();
    this.relationSet = new Set(this.cy.edges().map((e) => e.data("relation")));
    this.renderLegend();
  }

  // Marks the element the record panel shows.
  pick(id) {
    if (this.picked) this.picked.removeClass("picked");
    this.picked = this.cy.getElementById(id);
    this.picked.addClass("picked");
  }

  markRoot(id) {
    this.cy.nodes(".root").removeClass("root");
    this.cy.getElementById(id).addClass("root");
  }

  // The whole graph: cose for small graphs, rings (ringLayout) for big ones.
  layout() {
    const cy = this.cy;
    const n = cy.nodes().length;
    if (n === 0) return;
    if (n <= FORCE_LAYOUT_MAX) {
      cy.layout({ ...COSE, randomize: true, numIter: 1500, componentSpacing: 80, padding: 30 }).run();
    } else {
      this.ringLayout();
    }
    this.fit();
  }

  // The layout of big graphs, linear in nodes and edges: each connected component as rings
  // around its hub (the root, else its node of highest degree) by hop count, the components
  // packed in rows, biggest first. Works on plain arrays and sets the positions in one batch.
  ringLayout() {
    const cy = this.cy;
    const nodes = cy.nodes();
    const index = new Map();
    nodes.forEach((n, i) => index.set(n.id(), i));
    const adj = nodes.map(() => []);
    cy.edges().forEach((e) => {
      const s = index.get(e.data("source"));
      const t = index.get(e.data("target"));
      if (s !== t) { adj[s].push(t); adj[t].push(s); }
    });
    const byDegree = [...adj.keys()].sort((a, b) => adj[b].length - adj[a].length);
    const starts = [...nodes.filter(".root").map((n) => index.get(n.id())), ...byDegree];
    const seen = new Uint8Array(adj.length);
    const comps = [];
    for (const start of starts) {
      if (seen[start]) continue;
      seen[start] = 1;
      const rings = [[start]];
      for (let i = 0; i < rings.length; i++) {
        const next = [];
        for (const v of rings[i]) for (const w of adj[v]) if (!seen[w]) { seen[w] = 1; next.push(w); }
        if (next.length) rings.push(next);
      }
      const local = [{ v: start, x: 0, y: 0 }];
      let radius = 12;
      for (let i = 1; i < rings.length; i++) {
        radius = Math.max(radius + 70, (rings[i].length * 22) / (2 * Math.PI));
        rings[i].forEach((v, k) => {
          const a = (2 * Math.PI * k) / rings[i].length + i * 0.4;
          local.push({ v, x: radius * Math.cos(a), y: radius * Math.sin(a) });
        });
      }
      comps.push({ local, size: 2 * radius + 60 });
    }
    comps.sort((a, b) => b.size - a.size);
    const total = comps.reduce((sum, c) => sum + c.size * c.size, 0);
    const rowWidth = Math.max(comps[0].size, Math.sqrt(total) * 1.2);
    const pos = new Array(adj.length);
    let x = 0, y = 0, rowHeight = 0;
    for (const c of comps) {
      if (x > 0 && x + c.size > rowWidth) { x = 0; y += rowHeight; rowHeight = 0; }
      for (const p of c.local) pos[p.v] = { x: x + c.size / 2 + p.x, y: y + c.size / 2 + p.y };
      x += c.size;
      rowHeight = Math.max(rowHeight, c.size);
    }
    cy.batch(() => nodes.positions((n, i) => pos[i]));
  }

  // Fits the nodes' centres into view. Computed from the positions alone: cytoscape's own fit
  // measures every node's style and label, which is slow on big graphs.
  fit() {
    const cy = this.cy;
    if (cy.nodes().empty()) return;
    const bb = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    cy.nodes().forEach((n) => {
      const p = n.position();
      bb.x1 = Math.min(bb.x1, p.x); bb.x2 = Math.max(bb.x2, p.x);
      bb.y1 = Math.min(bb.y1, p.y); bb.y2 = Math.max(bb.y2, p.y);
    });
    bb.w = bb.x2 - bb.x1;
    bb.h = bb.y2 - bb.y1;
    const pad = 50;
    const w = cy.width(), h = cy.height();
    const zoom = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), 1.6, (w - 2 * pad) / Math.max(bb.w, 1), (h - 2 * pad) / Math.max(bb.h, 1)));
    cy.viewport({ zoom, pan: { x: (w - zoom * (bb.x1 + bb.x2)) / 2, y: (h - zoom * (bb.y1 + bb.y2)) / 2 } });
  }

  // Places `ids` (new neighbours of `centerId`) on an arc around it, away from the rest.
  placeAround(centerId, ids) {
    const cy = this.cy;
    const center = cy.getElementById(centerId);
    if (center.empty() || ids.length === 0) return;
    const c = center.position();
    const fresh = new Set(ids);
    // Away from the centroid of the neighbours already placed.
    const old = center.neighborhood("node").filter((n) => !fresh.has(n.id()));
    let dir = Math.random() * 2 * Math.PI;
    let spread = 2 * Math.PI;
    if (old.nonempty()) {
      let x = 0, y = 0;
      old.forEach((n) => { x += n.position("x"); y += n.position("y"); });
      x /= old.length; y /= old.length;
      if (Math.hypot(c.x - x, c.y - y) > 1) {
        dir = Math.atan2(c.y - y, c.x - x);
        spread = Math.min(2 * Math.PI, Math.max(Math.PI * 0.9, ids.length * 0.3));
      }
    }
    const radius = Math.max(110, (ids.length * 34) / spread);
    cy.batch(() => {
      ids.forEach((id, i) => {
        const t = ids.length === 1 ? 0 : spread === 2 * Math.PI ? i / ids.length : i / (ids.length - 1) - 0.5;
        const a = dir + t * spread;
        const r = radius + (ids.length > 40 ? (i % 3) * 26 : 0);
        cy.getElementById(id).position({ x: c.x + r * Math.cos(a), y: c.y + r * Math.sin(a) });
      });
    });
  }

  setHiddenRelations(set) {
    this.hiddenRelations = set;
    this.applyFilter();
  }

  // Edges of a hidden relation are not drawn, nor nodes left without a drawn edge (roots and
  // nodes that never had an edge stay).
  applyFilter() {
    const cy = this.cy;
    if (this.hiddenRelations.size === 0 && !this.filtered) return;
    cy.batch(() => {
      cy.elements(".filtered").removeClass("filtered");
      this.filtered = this.hiddenRelations.size > 0;
      if (!this.filtered) return;
      cy.edges().forEach((e) => { if (this.hiddenRelations.has(e.data("relation"))) e.addClass("filtered"); });
      cy.nodes().forEach((n) => {
        const edges = n.connectedEdges();
        if (!n.hasClass("root") && edges.nonempty() && edges.every((e) => e.hasClass("filtered"))) n.addClass("filtered");
      });
    });
  }

  relations() {
    return [...this.relationSet].sort();
  }

  counts() {
    if (!this.filtered) return { nodes: this.cy.nodes().length, edges: this.cy.edges().length };
    return { nodes: this.cy.nodes().not(".filtered").length, edges: this.cy.edges().not(".filtered").length };
  }

  renderLegend() {
    const legend = this.legend;
    legend.replaceChildren();
    const byKind = this.kindCounts;
    if (byKind.size === 0) return;
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = "kind";
    legend.append(title);
    for (const [kind, count] of [...byKind].sort((a, b) => b[1] - a[1])) {
      const item = document.createElement("div");
      item.className = "item";
      item.dataset.kind = kind;
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = this.colorOf(kind);
      const label = document.createElement("span");
      label.textContent = `${kind === "?" ? "not loaded" : kind} (${count})`;
      item.append(sw, label);
      legend.append(item);
    }
    const note = document.createElement("div");
    note.className = "item hint";
    const line = document.createElement("span");
    line.className = "line";
    const text = document.createElement("span");
    text.textContent = "edge: relation, width = weight";
    note.append(line, text);
    legend.append(note);
  }
}

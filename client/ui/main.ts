/// <reference lib="dom" />
/**
 * The web page at /ui/: the reachability matrix for the picked namespaces,
 * protocol and port, grouped into pods alike; a click on a cell explains it;
 * the what-if editor marks the cells a change would flip.
 */
import { explainError, type GroupMatrix, matrix, PROTOCOLS, type Protocol, token, type WhatIf } from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { ExplainView } from "./explain-view.js";
import { Grid, groupKey, namespaceOf, type Unit } from "./grid.js";
import { renderTable } from "./matrix-view.js";
import { WhatIfView } from "./whatif-view.js";

/** Rows and columns the table shows at most; the rest wait for a narrower question. */
const LIMIT = 120;

const el = {
  message: byId("message", HTMLElement),
  generation: byId("generation", HTMLElement),
  tokenForm: byId("token-form", HTMLFormElement),
  token: byId("token", HTMLInputElement),
  controls: byId("controls", HTMLFormElement),
  nsSummary: byId("ns-summary", HTMLElement),
  nsFilter: byId("ns-filter", HTMLInputElement),
  nsList: byId("ns-list", HTMLElement),
  protocol: byId("protocol", HTMLSelectElement),
  port: byId("port", HTMLInputElement),
  selector: byId("selector", HTMLInputElement),
  filter: byId("filter", HTMLInputElement),
  expandAll: byId("expand-all", HTMLButtonElement),
  matrix: byId("matrix", HTMLElement),
  summary: byId("matrix-summary", HTMLElement),
};

const state = {
  /** Every namespace a matrix named; picked ones stay listed. */
  namespaces: new Set<string>(),
  picked: new Set<string>(),
  expanded: new Set<string>(),
  expandAll: false,
  data: undefined as GroupMatrix | undefined,
  whatIf: undefined as WhatIf | undefined,
  selected: undefined as { src: string; dst: string; pairs: number } | undefined,
  loads: 0,
};

const explain = new ExplainView();
const whatIf = new WhatIfView({
  changed(answer) {
    state.whatIf = answer;
    // A what-if of a newer model than the table shows: the table first, then the what-if again.
    if (answer !== undefined && state.data !== undefined && answer.generation > state.data.generation) void load();
    else draw();
  },
  traffic,
});

function traffic(): { protocol: Protocol; port: number } {
  return { protocol: el.protocol.value as Protocol, port: Number(el.port.value) };
}

function say(text: string | undefined): void {
  el.message.hidden = text === undefined;
  el.message.textContent = text ?? "";
}

async function load(): Promise<void> {
  const n = ++state.loads;
  const { protocol, port } = traffic();
  if (!el.port.checkValidity() || !Number.isInteger(port)) {
    say("The port must be a whole number from 1 to 65535.");
    return;
  }
  el.matrix.dataset["state"] = "loading";
  try {
    const m = await matrix({ protocol, port, namespaces: [...state.picked].sort(), pods: el.selector.value.trim() });
    if (n !== state.loads) return;
    say(undefined);
    state.data = m;
    for (const g of m.groups) for (const p of g) state.namespaces.add(namespaceOf(p));
    el.generation.textContent = `generation ${m.generation}`;
    el.matrix.dataset["query"] = `${m.protocol}/${m.port}`;
    el.matrix.dataset["generation"] = String(m.generation);
    listNamespaces();
    if (whatIf.active) await whatIf.run();
    draw();
    // An explanation follows the picked protocol and port.
    const s = state.selected;
    if (s !== undefined && explain.pair !== `${s.src} ${s.dst} ${m.protocol}/${m.port}`) void explain.show(s, m.protocol, m.port);
    el.matrix.dataset["state"] = "ready";
  } catch (e) {
    if (n !== state.loads) return;
    say(explainError(e));
    el.matrix.dataset["state"] = "error";
  }
}

/** The table from the last matrix, with the expanded groups, the Find filter and the what-if's marks. */
function draw(): void {
  const m = state.data;
  if (m === undefined) return;
  const grid = new Grid(m, (key) => state.expandAll || state.expanded.has(key), el.filter.value, LIMIT);
  const placed = state.whatIf !== undefined ? grid.place(state.whatIf.cells) : undefined;
  const table = renderTable(grid, { cell: (c) => select(c.src, c.dst, c.pairs), toggle }, placed, state.selected);
  const groups = m.groups.length;
  const parts = [`${m.protocol}/${m.port}`, `${grid.pods} ${grid.pods === 1 ? "pod" : "pods"} in ${groups} ${groups === 1 ? "group" : "groups"} of pods alike`];
  if (grid.matching < grid.units.length) parts.push(`${grid.matching} of ${grid.units.length} rows match “${el.filter.value.trim()}”`);
  if (grid.shown.length < grid.matching) parts.push(`showing the first ${grid.shown.length}: narrow with Namespaces, Pods or Find`);
  if (placed !== undefined && placed.outside.length > 0) parts.push(`${placed.outside.length} what-if changes are outside this table`);
  el.summary.textContent = parts.join(" · ");
  replaceChildren(el.matrix, grid.shown.length > 0 ? table : h("p", { class: "muted empty" }, "No pods match."));
  el.expandAll.textContent = state.expandAll ? "Collapse all" : "Expand all";
}

function toggle(u: Unit): void {
  const key = groupKey(state.data?.groups[u.group] ?? u.pods);
  if (state.expandAll) {
    state.expandAll = false;
    for (const g of state.data?.groups ?? []) if (g.length > 1) state.expanded.add(groupKey(g));
  }
  if (!state.expanded.delete(key)) state.expanded.add(key);
  draw();
}

function select(src: string, dst: string, pairs: number): void {
  state.selected = { src, dst, pairs };
  showTab("explain");
  el.matrix.querySelectorAll("td.selected").forEach((td) => {
    td.classList.remove("selected");
  });
  el.matrix.querySelector(`td[data-src="${CSS.escape(src)}"][data-dst="${CSS.escape(dst)}"]`)?.classList.add("selected");
  const { protocol, port } = traffic();
  void explain.show(state.selected, protocol, port);
}

function listNamespaces(): void {
  const find = el.nsFilter.value.trim().toLowerCase();
  const names = [...new Set([...state.namespaces, ...state.picked])].sort().filter((n) => n.includes(find));
  replaceChildren(
    el.nsList,
    ...names.map((ns) => {
      const box = h("input", { type: "checkbox", value: ns, checked: state.picked.has(ns) });
      box.addEventListener("change", () => {
        if (box.checked) state.picked.add(ns);
        else state.picked.delete(ns);
        summarizeNamespaces();
        void load();
      });
      return h("label", {}, box, ns);
    }),
  );
  summarizeNamespaces();
}

function summarizeNamespaces(): void {
  const picked = [...state.picked].sort();
  el.nsSummary.textContent = picked.length === 0 ? "all" : picked.length <= 3 ? picked.join(", ") : `${picked.length} picked`;
}

function showTab(name: "explain" | "whatif"): void {
  for (const t of ["explain", "whatif"] as const) {
    byId(`tab-${t}`, HTMLButtonElement).setAttribute("aria-selected", String(t === name));
    byId(`panel-${t}`, HTMLElement).hidden = t !== name;
  }
}

function start(): void {
  for (const p of PROTOCOLS) el.protocol.append(h("option", { value: p }, p));
  el.token.value = token.get();
  el.tokenForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    token.set(el.token.value.trim());
    void load();
  });
  el.controls.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load();
  });
  for (const input of [el.protocol, el.port, el.selector]) input.addEventListener("change", () => void load());
  el.filter.addEventListener("input", draw);
  el.nsFilter.addEventListener("input", listNamespaces);
  byId("ns-all", HTMLButtonElement).addEventListener("click", () => {
    state.picked.clear();
    listNamespaces();
    void load();
  });
  el.expandAll.addEventListener("click", () => {
    state.expandAll = !state.expandAll;
    state.expanded.clear();
    draw();
  });
  for (const t of ["explain", "whatif"] as const) byId(`tab-${t}`, HTMLButtonElement).addEventListener("click", () => showTab(t));
  explain.clear();
  whatIf.clear();
  void load();
}

start();

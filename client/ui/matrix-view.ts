/// <reference lib="dom" />
/**
 * The matrix as an HTML table: rows are sources, columns destinations. A
 * group's header is a button that expands it to its pods (and collapses it
 * again); a cell is a button that asks for its explanation. Cells a what-if
 * changes are marked with their before → after.
 */
import type { CellChange } from "./api.js";
import { h } from "./dom.js";
import type { Cell, Grid, Unit } from "./grid.js";

export interface MatrixEvents {
  cell(cell: Cell): void;
  toggle(unit: Unit): void;
}

/** What a what-if changes, placed on this grid's cells. */
export type Placed = ReturnType<Grid["place"]>;

/** A verdict; null where a what-if adds or deletes the pod. */
const SYMBOL = (allowed: boolean | null) => (allowed === null ? "–" : allowed ? "✓" : "✕");
const WORD = (allowed: boolean | null) => (allowed === null ? "no pod" : allowed ? "allowed" : "denied");

export function renderTable(grid: Grid, events: MatrixEvents, placed?: Placed, selected?: { src: string; dst: string }): HTMLTableElement {
  const units = grid.shown;
  const cells: Cell[][] = [];
  const head = h("tr", {}, h("th", { class: "corner", scope: "col" }, h("span", {}, "from ↓"), h("span", {}, "to →")));
  for (const u of units) head.append(h("th", { class: unitClass(u, "col"), scope: "col" }, unitLabel(u, events, "col")));
  const body = h("tbody");
  units.forEach((row, r) => {
    const tr = h("tr", {}, h("th", { class: unitClass(row, "row"), scope: "row" }, unitLabel(row, events, "row")));
    const rowCells: Cell[] = [];
    units.forEach((col, c) => {
      const cell = grid.cell(row, col);
      rowCells.push(cell);
      const changes = placed?.cells.get(row)?.get(col);
      tr.append(cellElement(cell, { r, c, row: row.pods[0]!, col: col.pods[0]! }, changes, selected));
    });
    cells.push(rowCells);
    body.append(tr);
  });
  const table = h("table", { class: "matrix" }, h("thead", {}, head), body);
  const cellAt = (target: EventTarget | null) => {
    const td = target instanceof Element ? target.closest("td") : null;
    return td === null ? undefined : cells[Number(td.dataset["r"])]?.[Number(td.dataset["c"])];
  };
  table.addEventListener("click", (ev) => {
    const cell = cellAt(ev.target);
    if (cell !== undefined) events.cell(cell);
  });
  table.addEventListener("keydown", (ev) => {
    const cell = ev.key === "Enter" || ev.key === " " ? cellAt(ev.target) : undefined;
    if (cell === undefined) return;
    ev.preventDefault();
    events.cell(cell);
  });
  return table;
}

/** Where a cell is: its indices, and the first pods of its row and column (which name a group). */
interface At {
  readonly r: number;
  readonly c: number;
  readonly row: string;
  readonly col: string;
}

function cellElement(cell: Cell, at: At, changes: readonly CellChange[] | undefined, selected?: { src: string; dst: string }): HTMLTableCellElement {
  const alike = cell.pairs > 1 ? `\n${cell.pairs} pairs of pods decide alike; a click explains this one.` : "";
  let title = `${cell.src} → ${cell.dst}: ${WORD(cell.allowed)}${alike}`;
  let text = SYMBOL(cell.allowed);
  const classes = ["cell", cell.allowed ? "allowed" : "denied"];
  if (changes !== undefined && changes.length > 0) {
    const after = changes[0]!.after;
    classes.push("changed");
    if (changes.length < cell.pairs) classes.push("partial");
    text = `${SYMBOL(cell.allowed)}→${SYMBOL(after)}`;
    title += `\nwhat-if: ${changes.length} of ${cell.pairs} pair${cell.pairs === 1 ? "" : "s"} ${WORD(cell.allowed)} → ${WORD(after)}`;
  }
  if (selected !== undefined && selected.src === cell.src && selected.dst === cell.dst) classes.push("selected");
  return h(
    "td",
    {
      class: classes.join(" "),
      title,
      tabindex: 0,
      role: "button",
      "aria-label": title.replaceAll("\n", " "),
      "data-r": at.r,
      "data-c": at.c,
      "data-row": at.row,
      "data-col": at.col,
      "data-src": cell.src,
      "data-dst": cell.dst,
      "data-allowed": String(cell.allowed),
      "data-pairs": cell.pairs,
      ...(changes !== undefined ? { "data-changes": changes.length, "data-after": String(changes[0]!.after) } : {}),
    },
    text,
  );
}

function unitClass(u: Unit, axis: "row" | "col"): string {
  return [axis, u.expanded ? "member" : "", u.expanded && u.first ? "first" : ""].filter((c) => c !== "").join(" ");
}

/** A pod's name; a collapsed group: its first pod and how many more, a button that expands it; an expanded group's first pod: a button that collapses it. */
function unitLabel(u: Unit, events: MatrixEvents, axis: "row" | "col"): Node {
  const name = u.pods[0]!;
  if (u.size === 1) return h("span", { class: "pod", title: name }, name);
  if (u.expanded) {
    if (!u.first) return h("span", { class: "pod", title: `${name}: one of ${u.size} alike` }, name);
    return button(
      h("button", { type: "button", class: "group open", title: `collapse the ${u.size} pods alike`, "aria-expanded": "true", "data-group": name }, axis === "row" && "▾ ", name),
      u,
      events,
    );
  }
  const title = `${u.size} pods with identical rows and columns: ${u.pods.slice(0, 20).join(", ")}${u.size > 20 ? ", …" : ""}`;
  return button(
    h(
      "button",
      { type: "button", class: "group", title, "aria-expanded": "false", "data-group": name },
      axis === "row" && "▸ ",
      name,
      " ",
      h("span", { class: "count" }, `+${u.size - 1}`),
    ),
    u,
    events,
  );
}

function button(b: HTMLButtonElement, u: Unit, events: MatrixEvents): HTMLButtonElement {
  b.addEventListener("click", () => events.toggle(u));
  return b;
}

/// <reference lib="dom" />
/**
 * The what-if editor: manifests to apply and objects to delete, sent with the
 * picked protocol and port; the answer's changed cells go to the matrix, and
 * are listed here. Invalid manifests list every error with its field path.
 */
import { ApiError, type CellChange, explainError, type FieldError, type Protocol, type WhatIf, type WhatIfRequest, whatIf } from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";

/** Changes listed; the matrix marks them all. */
const LISTED = 200;

export interface WhatIfEvents {
  /** The answer for the picked port, or undefined when cleared or failed. */
  changed(answer: WhatIf | undefined): void;
  /** The protocol and port the matrix shows. */
  traffic(): { protocol: Protocol; port: number };
}

export class WhatIfView {
  private readonly form = byId("whatif-form", HTMLFormElement);
  private readonly apply = byId("whatif-apply", HTMLTextAreaElement);
  private readonly remove = byId("whatif-delete", HTMLTextAreaElement);
  private readonly result = byId("whatif-result", HTMLElement);
  private asked = 0;
  /** Whether the matrix shows a what-if: then a new port asks it again. */
  active = false;

  constructor(private readonly events: WhatIfEvents) {
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.run();
    });
    byId("whatif-clear", HTMLButtonElement).addEventListener("click", () => {
      this.apply.value = "";
      this.remove.value = "";
      this.clear();
    });
  }

  clear(): void {
    this.asked++;
    this.active = false;
    this.result.dataset["state"] = "empty";
    this.result.replaceChildren();
    this.events.changed(undefined);
  }

  async run(): Promise<void> {
    const n = ++this.asked;
    const { protocol, port } = this.events.traffic();
    const deletes = parseDeletes(this.remove.value);
    if (typeof deletes === "string") return this.fail(n, h("p", { class: "error" }, deletes));
    if (this.apply.value.trim() === "" && deletes.length === 0) return this.fail(n, h("p", { class: "error" }, "Paste manifests to apply, or name objects to delete."));
    const body: WhatIfRequest = { apply: this.apply.value, delete: deletes, ports: [`${protocol}/${port}`] };
    this.result.dataset["state"] = "loading";
    try {
      const answer = await whatIf(body);
      if (n !== this.asked) return;
      this.active = true;
      this.show(answer, `${protocol}/${port}`);
      this.events.changed(answer);
    } catch (e) {
      if (n !== this.asked) return;
      this.fail(n, ...errorView(e));
    }
  }

  private fail(n: number, ...content: Node[]): void {
    if (n !== this.asked) return;
    this.active = false;
    this.result.dataset["state"] = "error";
    replaceChildren(this.result, ...content);
    this.events.changed(undefined);
  }

  private show(a: WhatIf, traffic: string): void {
    const cells = a.cells.length;
    const all = a.cellsChanged ?? cells;
    const summary = all === 0 ? `No cell changes on ${traffic}.` : `${all} ${all === 1 ? "cell changes" : "cells change"} on ${traffic}, marked in the matrix:`;
    const list = h("ul", { id: "whatif-changes", class: "changes" }, ...a.cells.slice(0, LISTED).map(changeItem));
    const more = all > LISTED ? h("p", { class: "muted" }, `and ${all - Math.min(cells, LISTED)} more${all > cells ? ` (the server lists the first ${cells})` : ""}`) : undefined;
    const nodes = a.nodes.map((n) => n.node);
    replaceChildren(
      this.result,
      h("p", { class: "summary" }, summary),
      cells > 0 && list,
      more,
      ...(a.warnings ?? []).map((w) => h("p", { class: "warning" }, `Warning: ${w}`)),
      h("p", { class: "muted" }, nodes.length === 0 ? "No node's ruleset changes." : `Rulesets that change: ${nodes.join(", ")}.`),
      h("p", { class: "muted" }, `Against model generation ${a.generation}; nothing was changed.`),
    );
    this.result.dataset["state"] = "ready";
  }
}

function changeItem(c: CellChange): HTMLLIElement {
  const word = (allowed: boolean | null) =>
    allowed === null ? h("span", { class: "absent" }, "no pod") : h("span", { class: allowed ? "allowed" : "denied" }, allowed ? "allowed" : "denied");
  return h("li", { "data-src": c.src, "data-dst": c.dst }, h("span", { class: "pair" }, `${c.src} → ${c.dst}`), " ", word(c.before), " → ", word(c.after));
}

/** An error answer; for invalid manifests, each error with its object and field path. */
function errorView(e: unknown): Node[] {
  if (!(e instanceof ApiError) || e.errors.length === 0) return [h("p", { class: "error" }, explainError(e))];
  const title = e.status === 422 ? "The manifests are invalid; nothing was evaluated:" : explainError(e);
  return [h("p", { class: "error" }, title), h("ul", { id: "whatif-errors", class: "errors" }, ...e.errors.map(fieldErrorItem))];
}

function fieldErrorItem(f: FieldError): HTMLLIElement {
  return h(
    "li",
    {},
    f.object !== undefined && h("span", { class: "object" }, f.object),
    f.object !== undefined && " ",
    f.field !== undefined && f.field !== "" && h("code", { class: "field" }, f.field),
    ": ",
    f.detail ?? f.type ?? "",
  );
}

/** Lines `Kind namespace/name` (or `Kind name` for a Namespace or Node); a message for a line that is neither. */
export function parseDeletes(text: string): WhatIfRequest["delete"] | string {
  const out: { kind: string; namespace: string; name: string }[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^(\S+)\s+(?:([^/\s]+)\/)?([^/\s]+)$/.exec(line);
    if (m === null) return `Line ${i + 1} of the objects to delete: "${line}" is not "Kind namespace/name" or "Kind name".`;
    out.push({ kind: m[1]!, namespace: m[2] ?? "", name: m[3]! });
  }
  return out;
}

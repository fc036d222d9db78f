/// <reference lib="dom" />
/**
 * A cell's explanation: the decision for its pair, asked with explain=true
 * and printed by the CLI's own renderDecision, so the page shows exactly what
 * `podwall check SRC DST PROTO/PORT --explain` prints.
 */
import { renderDecision } from "../render.js";
import { check, explainError, type Protocol } from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import type { Cell } from "./grid.js";

export class ExplainView {
  private readonly panel = byId("panel-explain", HTMLElement);
  private readonly title = byId("explain-title", HTMLElement);
  private readonly text = byId("explanation", HTMLPreElement);
  private readonly command = byId("explain-command", HTMLElement);
  private readonly hint = byId("explain-hint", HTMLElement);
  /** The latest question: an older answer that comes later is dropped. */
  private asked = 0;

  /** The pair and traffic shown (or being asked for). */
  get pair(): string | undefined {
    return this.panel.dataset["pair"];
  }

  async show(cell: Pick<Cell, "src" | "dst" | "pairs">, protocol: Protocol, port: number): Promise<void> {
    const n = ++this.asked;
    const pair = `${cell.src} ${cell.dst} ${protocol}/${port}`;
    this.panel.dataset["state"] = "loading";
    this.panel.dataset["pair"] = pair;
    this.hint.hidden = true;
    replaceChildren(this.title, `${cell.src} → ${cell.dst}`, " ", `${protocol}/${port}`);
    this.command.textContent = `podwall check ${pair} --explain${cell.pairs > 1 ? `  ·  one of ${cell.pairs} pairs in this cell, all decided alike` : ""}`;
    this.text.textContent = "…";
    this.text.classList.remove("error");
    try {
      const d = await check(cell.src, cell.dst, protocol, port);
      if (n !== this.asked) return;
      showLines(this.text, renderDecision(d));
      this.text.classList.toggle("denied", !d.allowed);
      this.panel.dataset["state"] = "ready";
    } catch (e) {
      if (n !== this.asked) return;
      this.text.textContent = explainError(e);
      this.text.classList.add("error");
      this.panel.dataset["state"] = "error";
    }
  }

  clear(): void {
    this.asked++;
    this.panel.dataset["state"] = "empty";
    delete this.panel.dataset["pair"];
    this.hint.hidden = false;
    this.title.textContent = "";
    this.command.textContent = "";
    this.text.textContent = "";
  }
}

/**
 * The text as it is, one block per line, so that a line too long for the
 * panel wraps under its own indentation rather than at the left edge.
 */
function showLines(pre: HTMLElement, text: string): void {
  const lines = text.split(/(?<=\n)/).map((line) => {
    const span = h("span", {}, line);
    const indent = line.length - line.trimStart().length + 2;
    span.style.paddingLeft = `${indent}ch`;
    span.style.textIndent = `-${indent}ch`;
    return span;
  });
  replaceChildren(pre, ...lines);
}

/**
 * Label selectors as kubectl's `-l` writes them (k8s.io/apimachinery
 * labels.Parse): `app=web`, `app==web`, `tier!=db`, `env in (a,b)`,
 * `env notin (a)`, `gpu`, `!legacy`, joined by commas.
 */
import type { Operator, Requirement, Selector } from "../model/types.js";
import { EVERYTHING } from "./selector.js";
import { isQualifiedName, isValidLabelValue } from "./validate-leaf.js";

/** The selector, or why the text is not one. */
export function parseSelectorText(text: string): Selector | { readonly error: string } {
  const requirements: Requirement[] = [];
  for (const part of splitTop(text)) {
    const t = part.trim();
    if (t === "") {
      if (text.trim() === "") continue;
      return { error: "an empty requirement between commas" };
    }
    const r = requirement(t);
    if ("error" in r) return r;
    requirements.push(r);
  }
  if (requirements.length === 0) return EVERYTHING;
  return { kind: "match", requirements };
}

/** Splits at commas outside parentheses. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

const SET = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQUALITY = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/;

function requirement(t: string): Requirement | { error: string } {
  let key: string;
  let operator: Operator;
  let values: string[];
  const set = SET.exec(t);
  const eq = set ? null : EQUALITY.exec(t);
  if (set) {
    key = set[1]!;
    operator = set[2] === "in" ? "In" : "NotIn";
    values = set[3]!.split(",").map((v) => v.trim());
    if (values.length === 1 && values[0] === "") return { error: `${JSON.stringify(t)}: a set needs at least one value` };
  } else if (eq) {
    key = eq[1]!;
    operator = eq[2] === "!=" ? "NotIn" : "In";
    values = [eq[3]!];
  } else if (t.startsWith("!")) {
    key = t.slice(1).trim();
    operator = "DoesNotExist";
    values = [];
  } else {
    key = t;
    operator = "Exists";
    values = [];
  }
  const bad = isQualifiedName(key)[0] ?? values.map((v) => isValidLabelValue(v)[0]).find((m) => m !== undefined);
  if (bad !== undefined) return { error: `${JSON.stringify(t)}: ${bad}` };
  return { key, operator, values };
}

/**
 * What an answer may echo of the input: an excerpt, never more than a few
 * hundred characters of one value, so that a rejected request is answered in
 * about the size it came in (the API server likewise cuts long values it
 * quotes in errors).
 */

/** The most characters of one value an error quotes. */
export const EXCERPT_CHARS = 256;

/** The text, cut to `max` characters (not inside a surrogate pair) and marked as cut. */
export function excerptText(s: string, max = EXCERPT_CHARS): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}...(${s.length - end} more characters)`;
}

/**
 * A value as an error may quote it: a number, boolean or null as it is; a
 * string cut as excerptText cuts it; an object or array as it is when its JSON
 * is short, else the start of its JSON, marked as cut.
 */
export function excerptValue(v: unknown, max = EXCERPT_CHARS): unknown {
  if (typeof v === "string") return excerptText(v, max);
  if (typeof v !== "object" || v === null) return v;
  const json = boundedJson(v, max);
  return json.length <= max ? v : `${json.slice(0, max)}...(truncated)`;
}

/** JSON of the value, written only until it is longer than `budget` (then cut anywhere), and never deeper than 64 levels. */
export function boundedJson(v: unknown, budget: number): string {
  let out = "";
  const full = () => out.length > budget;
  const write = (x: unknown, depth: number): void => {
    if (full()) return;
    if (typeof x === "string") {
      out += JSON.stringify(x.length > budget ? x.slice(0, budget + 1) : x);
      return;
    }
    if (typeof x !== "object" || x === null) {
      out += JSON.stringify(x) ?? "null";
      return;
    }
    if (depth >= 64) {
      out += "...";
      return;
    }
    if (Array.isArray(x)) {
      out += "[";
      for (let i = 0; i < x.length && !full(); i++) {
        if (i > 0) out += ",";
        write(x[i], depth + 1);
      }
      out += "]";
      return;
    }
    out += "{";
    let first = true;
    for (const k in x) {
      if (full()) break;
      if (!Object.hasOwn(x, k)) continue;
      out += `${first ? "" : ","}${JSON.stringify(k.length > budget ? k.slice(0, budget + 1) : k)}:`;
      first = false;
      write((x as Record<string, unknown>)[k], depth + 1);
    }
    out += "}";
  };
  write(v, 0);
  return out;
}

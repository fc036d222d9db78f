/**
 * A matrix as the front doors send it, in pieces of about a megabyte, so that
 * 10,000 × 10,000 cells are streamed rather than held as one string: JSON
 * (rows of booleans), or a text table ('.' allowed, 'X' denied). The rows'
 * pieces are written into one buffer, again and again: a piece is valid until
 * the next is asked for, so a writer waits until each is written (see
 * `writeAll`) and a matrix of any size leaves no garbage behind.
 */
import type { Matrix } from "./matrix.js";

/** A computed matrix with what it answers: all of it, or its groups of equivalent pods. */
export interface MatrixAnswer {
  readonly generation: number;
  readonly protocol: string;
  readonly port: number;
  readonly matrix: Matrix;
  /** Set when the answer is over groups of pods: each group's indexes in `matrix.pods`. */
  readonly groups?: readonly (readonly number[])[];
}

const CHUNK = 1 << 20;

/** `{"generation","protocol","port","pods"|"groups","allowed":[[...],...]}`. */
export function* matrixJson(a: MatrixAnswer, onRow?: RowCallback): Generator<Buffer> {
  const m = a.matrix;
  const head = { generation: a.generation, protocol: a.protocol, port: a.port };
  const names = a.groups ? { groups: a.groups.map((g) => g.map((i) => m.pods[i]!.key)) } : { pods: m.pods.map((p) => p.key) };
  const start = JSON.stringify({ ...head, ...names });
  yield Buffer.from(`${start.slice(0, -1)},"allowed":[`);
  const width = a.groups ? a.groups.length : m.pods.length;
  // The longest row: "[" + width × "false," + "],"
  const rowBytes = 3 + width * 6;
  const buf = Buffer.allocUnsafe(Math.max(CHUNK, rowBytes));
  let at = 0;
  for (const row of rows(a, onRow)) {
    if (at + rowBytes > buf.length) {
      yield buf.subarray(0, at);
      at = 0;
    }
    if (row.index > 0) buf[at++] = 0x2c;
    buf[at++] = 0x5b;
    at = writeRow(buf, at, row.cells);
    buf[at++] = 0x5d;
  }
  yield buf.subarray(0, at);
  yield Buffer.from("]}\n");
}

/** `true,false,...` from `at`: byte by byte, the hottest loop of a matrix of 100M cells. */
function writeRow(buf: Buffer, at: number, cells: Uint8Array): number {
  for (let j = 0; j < cells.length; j++) {
    if (j > 0) buf[at++] = 0x2c;
    if (cells[j]) {
      buf[at] = 0x74; // t
      buf[at + 1] = 0x72; // r
      buf[at + 2] = 0x75; // u
      buf[at + 3] = 0x65; // e
      at += 4;
    } else {
      buf[at] = 0x66; // f
      buf[at + 1] = 0x61; // a
      buf[at + 2] = 0x6c; // l
      buf[at + 3] = 0x73; // s
      buf[at + 4] = 0x65; // e
      at += 5;
    }
  }
  return at;
}

/**
 * The table: a legend numbering the columns and the column numbers written
 * downwards, or (wide) the columns' names written downwards; then one line
 * per row, its name and a character per cell.
 */
export function* matrixTable(a: MatrixAnswer, onRow?: RowCallback, wide = false): Generator<Buffer> {
  const m = a.matrix;
  const names = a.groups ? a.groups.map((g) => (g.length > 1 ? `${m.pods[g[0]!]!.key} (+${g.length - 1})` : m.pods[g[0]!]!.key)) : m.pods.map((p) => p.key);
  const labelWidth = Math.max(...names.map((n) => n.length), 1) + 2;
  const lines: string[] = [`${a.protocol}/${a.port} at generation ${a.generation}: rows are sources, columns destinations ('.' allowed, 'X' denied)`];
  const heads = wide ? names : names.map((_, i) => String(i + 1));
  if (!wide) {
    lines.push(a.groups ? "columns (groups of pods whose rows and columns are equal, by their first pod):" : "columns:");
    const digits = String(names.length).length;
    names.forEach((n, i) => {
      lines.push(`${String(i + 1).padStart(digits + 2)}  ${n}`);
    });
  }
  const height = Math.max(...heads.map((h) => h.length), 1);
  for (let d = 0; d < height; d++) {
    let line = "".padEnd(labelWidth);
    // Numbers end on the last line, names start on the first.
    for (const h of heads) line += (wide ? h[d] : h.padStart(height)[d]) ?? " ";
    lines.push(line.trimEnd());
  }
  yield Buffer.from(`${lines.join("\n")}\n`);
  let buf = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  for (const row of rows(a, onRow)) {
    const label = names[row.index]!.padEnd(labelWidth);
    const need = Buffer.byteLength(label) + row.cells.length + 1;
    if (at + need > buf.length) {
      yield buf.subarray(0, at);
      if (need > buf.length) buf = Buffer.allocUnsafe(need);
      at = 0;
    }
    at += buf.write(label, at);
    const cells = row.cells;
    for (let j = 0; j < cells.length; j++) buf[at++] = cells[j] ? 0x2e : 0x58;
    buf[at++] = 0x0a;
  }
  yield buf.subarray(0, at);
}

/** Told of each row made: how many of how many. */
export type RowCallback = (done: number, total: number) => void;

/** Each row's cells, 1 allowed; the array is reused from row to row. */
export function* rows(a: MatrixAnswer, onRow?: RowCallback): Generator<{ index: number; cells: Uint8Array }> {
  const m = a.matrix;
  if (!a.groups) {
    const cells = new Uint8Array(m.pods.length);
    for (let i = 0; i < m.pods.length; i++) {
      m.row(i, cells);
      onRow?.(i + 1, m.pods.length);
      yield { index: i, cells };
    }
    return;
  }
  const groups = a.groups;
  const cells = new Uint8Array(groups.length);
  for (let g = 0; g < groups.length; g++) {
    for (let h = 0; h < groups.length; h++) cells[h] = m.groupAllowed(groups[g]!, groups[h]!) ? 1 : 0;
    onRow?.(g + 1, groups.length);
    yield { index: g, cells };
  }
}

/**
 * Writes the pieces to `out`, each once the one before is written (so that
 * the pieces' one buffer is never overwritten while a write holds it); stops
 * when `gone` says the reader went away.
 */
export async function writeAll(out: NodeJS.WritableStream, pieces: Iterable<Buffer>, gone: () => boolean = () => false): Promise<void> {
  for (const piece of pieces) {
    if (gone()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.removeListener("close", done);
        resolve();
      };
      out.once("close", done);
      out.write(piece, done);
    });
  }
}

/**
 * A progress line for long offline work: one line on a terminal, rewritten in
 * place (`\r`) at most ten times a second and cleared when the work is done,
 * so that what the command prints after it starts on a clean line. Where the
 * stream is not a terminal (a pipe, a file, CI logs) nothing is written at all.
 *
 *     const p = Progress.start("computing the matrix");
 *     for (let i = 0; i < rows; i++) { ...; p.update(i + 1, rows); }
 *     p.done();
 */

/** Where the line goes: process.stderr, or anything that writes text and says whether it is a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** The terminal's width: a longer line would wrap, and `\r` would rewrite only its last row. */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Standard error by default. */
  readonly stream?: ProgressStream;
  /** Milliseconds, from any origin; `performance.now` by default. */
  readonly now?: () => number;
  /** The least time between two lines written by `update`, in milliseconds: 100 by default. */
  readonly intervalMs?: number;
}

export class Progress {
  /** Characters of the line on screen now: what the next line or the clear must cover. */
  private shown = 0;
  private last = Number.NEGATIVE_INFINITY;
  private finished = false;

  private constructor(
    private readonly label: string,
    /** Undefined when the stream is not a terminal: the instance then writes nothing. */
    private readonly stream: ProgressStream | undefined,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {}

  /** Shows the label at once (on a terminal), until the first update replaces it. */
  static start(label: string, opts: ProgressOptions = {}): Progress {
    const stream = opts.stream ?? process.stderr;
    const p = new Progress(label, stream.isTTY === true ? stream : undefined, opts.now ?? (() => performance.now()), opts.intervalMs ?? 100);
    p.draw(label);
    return p;
  }

  /** `label: 120/400 (30%), detail`, or `label: 120, detail` without a total; skipped when the last line is too recent. */
  update(done: number, total?: number, detail?: string): void {
    if (this.stream === undefined || this.finished || this.now() - this.last < this.intervalMs) return;
    const share = total === undefined ? `${done}` : `${done}/${total}${total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : ""}`;
    this.draw(`${this.label}: ${share}${detail ? `, ${detail}` : ""}`);
  }

  /** Clears the line. Later updates write nothing. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream !== undefined && this.shown > 0) this.stream.write(`\r${" ".repeat(this.shown)}\r`);
    this.shown = 0;
  }

  private draw(text: string): void {
    if (this.stream === undefined) return;
    const width = this.stream.columns;
    const line = width !== undefined && width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
    // Spaces cover what is left of a longer line before: no terminal escape codes needed.
    this.stream.write(`\r${line}${" ".repeat(Math.max(0, this.shown - line.length))}`);
    this.shown = line.length;
    this.last = this.now();
  }
}

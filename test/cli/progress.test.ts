/**
 * The progress line: on a terminal one line rewritten in place at most ten
 * times a second and cleared at the end; anywhere else nothing at all. The
 * clock is the test's own, so nothing waits; the CLI is run with standard
 * error piped, and under a pseudo-terminal (`script`) where util-linux has one.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Progress } from "../../client/cli/progress.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A stream that records what is written, and a clock the test moves. */
function fake(isTTY: boolean | undefined, columns?: number) {
  const writes: string[] = [];
  const clock = { t: 1000 };
  const stream = { isTTY, ...(columns !== undefined ? { columns } : {}), write: (s: string) => writes.push(s) };
  return { writes, clock, opts: { stream, now: () => clock.t } };
}

/** What a terminal shows of one line after these writes: `\r` returns to its start, characters overwrite. */
function screen(writes: readonly string[]): string {
  const line: string[] = [];
  let col = 0;
  for (const ch of writes.join("")) {
    if (ch === "\r") col = 0;
    else line[col++] = ch;
  }
  return line.join("");
}

describe("Progress on a terminal", () => {
  it("shows the label at once, then at most one update per 100 ms, and clears the line at the end", () => {
    const { writes, clock, opts } = fake(true);
    const p = Progress.start("reading manifests", opts);
    assert.deepEqual(writes, ["\rreading manifests"]);
    p.update(1, 40, "3 objects");
    clock.t += 99;
    p.update(2, 40, "6 objects");
    assert.equal(writes.length, 1, "within 100 ms of the last line nothing is written");
    clock.t += 1;
    p.update(3, 40, "9 objects");
    assert.deepEqual(writes.slice(1), ["\rreading manifests: 3/40 (7%), 9 objects"]);
    assert.equal(screen(writes), "reading manifests: 3/40 (7%), 9 objects");
    clock.t += 100;
    p.update(12);
    assert.deepEqual(writes.slice(2), [`\rreading manifests: 12${" ".repeat(18)}`]);
    assert.equal(screen(writes).trimEnd(), "reading manifests: 12");
    p.done();
    assert.deepEqual(writes.slice(3), [`\r${" ".repeat(21)}\r`]);
    assert.equal(screen(writes).trim(), "", "nothing of the line is left");
    clock.t += 1000;
    p.update(40, 40);
    p.done();
    assert.equal(writes.length, 4, "after done, nothing more");
  });

  it("a line longer than the terminal is cut, so that it never wraps", () => {
    const { writes, clock, opts } = fake(true, 20);
    const p = Progress.start("computing the matrix", opts);
    clock.t += 100;
    p.update(5, 10);
    assert.deepEqual(writes, ["\rcomputing the matri", "\rcomputing the matri"]);
    p.done();
    assert.equal(writes.at(-1), `\r${" ".repeat(19)}\r`);
  });

  it("a total of 0 has no percentage", () => {
    const { writes, clock, opts } = fake(true);
    const p = Progress.start("rows", opts);
    clock.t += 100;
    p.update(0, 0);
    assert.equal(writes.at(-1), "\rrows: 0/0");
  });
});

describe("Progress elsewhere", () => {
  for (const isTTY of [false, undefined]) {
    it(`writes nothing at all when isTTY is ${isTTY}`, () => {
      const { writes, clock, opts } = fake(isTTY);
      const p = Progress.start("reading manifests", opts);
      for (let i = 1; i <= 5; i++) {
        clock.t += 1000;
        p.update(i, 5, `${i} objects`);
      }
      p.done();
      assert.deepEqual(writes, []);
    });
  }

  it("the CLI with standard error piped writes no progress line", async () => {
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "client/cli/main.ts", "check", "x/a", "y/b", "80", "--manifests", "examples/cluster", "test/fixtures/workloads/shop"],
        { cwd: ROOT, timeout: 60_000 },
        (err, _stdout, stderr) => (err && typeof err.code !== "number" ? reject(err) : resolve(stderr)),
      );
    });
    assert.ok(!stderr.includes("\r"), JSON.stringify(stderr));
    assert.ok(!stderr.includes("reading manifests"), JSON.stringify(stderr));
    assert.match(stderr, /^note: /);
  });
});

/** util-linux `script`, which runs a command under a pseudo-terminal. */
function hasScript(): boolean {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("Progress under a pseudo-terminal", { skip: hasScript() ? false : "util-linux script is not installed" }, () => {
  it("the CLI shows each phase's line and clears it before the notes and the decision", async () => {
    const cmd = `${JSON.stringify(process.execPath)} --import tsx client/cli/main.ts check shop/web shop/api 8080 --manifests test/fixtures/workloads/shop`;
    const out = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      // -e: the command's exit code; the terminal's output (stdout and stderr alike) is script's stdout.
      execFile("script", ["-qec", cmd, "/dev/null"], { cwd: ROOT, timeout: 60_000 }, (err, stdout) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: err ? (err.code as number) : 0, text: stdout });
      });
    });
    assert.equal(out.code, 0, out.text);
    const reading = out.text.indexOf("\rreading manifests");
    const note = out.text.indexOf("note: ");
    const loading = out.text.indexOf("\rloading 16 objects");
    const decision = out.text.indexOf("shop/web (198.18.0.8) -> shop/api (198.18.0.3) TCP/8080: ALLOWED");
    assert.ok(reading === 0 && reading < note && note < loading && loading < decision, JSON.stringify(out.text));
    // Each line is cleared (spaces over it, back to the start) before what follows it is written:
    // a slow file read may have drawn a longer line with counts in between.
    for (const line of [out.text.slice(reading, note), out.text.slice(loading, decision)]) {
      assert.match(line, /\r {17,}\r$/);
      assert.equal(screen([line]).trim(), "", JSON.stringify(line));
    }
  });
});

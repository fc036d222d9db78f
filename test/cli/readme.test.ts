/**
 * The README's offline examples say what the command prints: every
 * `$ npm run -s podwall -- ... --manifests ...` line of a console block is
 * run, and its output (and, after `; echo $?`, its exit code) must be the
 * lines that follow it, up to the next command or the end of the block.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, podwall } from "../helpers/cli.js";

interface Example {
  readonly args: string[];
  readonly echoCode: boolean;
  readonly output: string;
}

const PROMPT = "$ npm run -s podwall -- ";

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  for (const block of markdown
    .split(/^```console\n/m)
    .slice(1)
    .map((b) => b.slice(0, b.indexOf("```")))) {
    const lines = block.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith(PROMPT) || !line.includes("--manifests")) continue;
      let command = line.slice(PROMPT.length);
      const echoCode = command.endsWith("; echo $?");
      if (echoCode) command = command.slice(0, -"; echo $?".length);
      const output: string[] = [];
      for (let j = i + 1; j < lines.length && !lines[j]!.startsWith("$ "); j++) output.push(lines[j]!);
      while (output.length > 0 && output[output.length - 1] === "") output.pop();
      out.push({ args: command.split(" "), echoCode, output: output.join("\n") });
    }
  }
  return out;
}

describe("the README's examples", () => {
  const found = examples(readFileSync(join(ROOT, "README.md"), "utf8"));

  it("are found: the worked example's and the policy tiers'", () => {
    assert.ok(
      found.some((e) => e.args.includes("examples/tiers")),
      "the tiers' example",
    );
    assert.ok(found.length >= 6, `${found.length} examples`);
  });

  for (const e of found) {
    it(`podwall ${e.args.join(" ")}`, async () => {
      const run = await podwall(e.args);
      const printed = run.stdout.trimEnd() + (e.echoCode ? `\n${run.code}` : "");
      assert.equal(printed, e.output);
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
    });
  }
});

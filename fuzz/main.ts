/**
 * `npm run fuzz -- [--count N] [--seed S] [--index I,...] [--target TEXT]`:
 * drives generated bad inputs through every REST route and gRPC method of a
 * `podwall serve --in-memory` process and checks that none is answered 5xx,
 * UNKNOWN or INTERNAL, none crashes or hangs the server, every 4xx is a JSON
 * error, an input whose fields decide the status gets that status, and no
 * rejected request (nor any what-if) changes the model, a ruleset or an
 * answer. Exit 1 on any failure; every failure is also written to
 * fuzz/findings.json, and the slowest answers are printed.
 *
 * With authentication: `--serve-arg=--auth --serve-arg=FILE --token T` (an
 * admin token of FILE): the fuzzer's own requests and most inputs carry T,
 * one input in twenty a bad token.
 */
import { parseArgs } from "node:util";
import { formatSummary, writeFindings } from "./findings.js";
import { randomSeed } from "./random.js";
import { DEFAULT_MANIFESTS, runFuzz } from "./run.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    seed: { type: "string" },
    index: { type: "string", multiple: true },
    target: { type: "string" },
    "limit-ms": { type: "string", default: "5000" },
    "sample-every": { type: "string", default: "20" },
    manifests: { type: "string", multiple: true },
    "serve-arg": { type: "string", multiple: true },
    token: { type: "string" },
    out: { type: "string", default: new URL("findings.json", import.meta.url).pathname },
  },
});

const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};

const seed = values.seed !== undefined ? int("seed", values.seed) >>> 0 : randomSeed();
const indices = values.index?.flatMap((v) => v.split(",")).map((v) => int("index", v));
console.log(`fuzz: seed ${seed} (run it again with --seed ${seed})`);

const result = await runFuzz({
  seed,
  count: int("count", values.count),
  ...(indices ? { indices } : {}),
  ...(values.target !== undefined ? { target: values.target } : {}),
  limitMs: int("limit-ms", values["limit-ms"]),
  sampleEvery: Math.max(1, int("sample-every", values["sample-every"])),
  manifests: values.manifests ?? DEFAULT_MANIFESTS,
  serveArgs: values["serve-arg"] ?? [],
  ...(values.token !== undefined ? { token: values.token } : {}),
  log: (line) => console.log(line),
});

writeFindings(values.out, result.seed, result.executed, result.ms, result.findings);
console.log(formatSummary(result.seed, result.executed, result.ms, result.findings));
console.log(`fuzz: slowest answers: ${result.slowest.map((s) => `#${s.index} ${s.target} (${s.tag}) ${s.ms} ms`).join("; ")}`);
console.log(`fuzz: findings written to ${values.out}`);
process.exit(result.findings.length > 0 ? 1 : 0);

/**
 * Crash durability of `podwall serve --data-dir` with real processes: a
 * writer drives acknowledged writes while the server is killed with SIGKILL
 * at random points, one write in flight each time. After every restart each
 * acknowledged write is there, the model is exactly a replay of them (plus
 * the write in flight, wholly or not at all), and the generation has not gone
 * back.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { rng } from "../../bench/generate.js";
import { type ServeProcess, spawnServe, untilReady } from "../helpers/process.js";

const NS = "crash";
/** Pods in the write that is in flight at each kill: a large write gives the kill room to land inside it. */
const IN_FLIGHT_PODS = 40;
const MIN_ACKNOWLEDGED = 200;
const MIN_KILLS = 10;

function podYaml(name: string, version: number, ip: string): string {
  return `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${NS}, labels: {v: "${version}"}}\nstatus: {phase: Running, podIP: ${ip}}\n`;
}

async function write(url: string, method: string, path: string, body?: string): Promise<number> {
  const res = await fetch(`${url}${path}`, { method, ...(body !== undefined ? { body, headers: { "content-type": "application/yaml" } } : {}) });
  const json = (await res.json()) as { generation?: number; message?: string };
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${json.message}`);
  return json.generation!;
}

/** The pods of the test namespace, name → label v, and the generation. */
async function stored(url: string): Promise<{ pods: Map<string, string>; generation: number; namespaces: string[] }> {
  const res = await fetch(`${url}/v1/model`);
  const list = (await res.json()) as {
    metadata: { generation: number };
    items: { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } }[];
  };
  const pods = new Map<string, string>();
  for (const o of list.items) if (o.kind === "Pod" && o.metadata.namespace === NS) pods.set(o.metadata.name, o.metadata.labels?.["v"] ?? "");
  return { pods, generation: list.metadata.generation, namespaces: list.items.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name) };
}

describe("serve --data-dir under kill -9", () => {
  const dir = mkdtempSync(join(tmpdir(), "podwall-crash-"));
  let server: ServeProcess | undefined;
  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write over ${MIN_KILLS}+ kills and ${MIN_ACKNOWLEDGED}+ writes`, { timeout: 600_000 }, async (t) => {
    const seed = Number(process.env["PODWALL_CRASH_SEED"] ?? 20261129);
    const rand = rng(seed);
    const expected = new Map<string, string>();
    let acknowledged = 0;
    let kills = 0;
    let lastGeneration = 0;
    let counter = 0;
    let nsCreated = false;
    let inFlight: { names: string[]; version: string; answered: boolean } | undefined;
    const outcomes = { answered: 0, "unanswered, there": 0, "unanswered, absent": 0 };
    const data = join(dir, "data");

    for (;;) {
      server = await spawnServe(["--data-dir", data]);
      await untilReady(server);
      const url = server.url;
      const now = await stored(url);
      const context = `seed ${seed}, after kill ${kills}, ${acknowledged} writes acknowledged`;
      assert.ok(now.generation >= lastGeneration, `${context}: generation went back from ${lastGeneration} to ${now.generation}`);
      if (inFlight) {
        const present = inFlight.names.filter((n) => now.pods.get(n) === inFlight!.version).length;
        if (inFlight.answered) assert.equal(present, inFlight.names.length, `${context}: the answered write in flight is lost`);
        assert.ok(present === 0 || present === inFlight.names.length, `${context}: the write in flight is there in part: ${present} of ${inFlight.names.length} pods`);
        if (present > 0) for (const n of inFlight.names) expected.set(n, inFlight.version);
        outcomes[inFlight.answered ? "answered" : present > 0 ? "unanswered, there" : "unanswered, absent"]++;
        inFlight = undefined;
      }
      assert.deepEqual(new Map([...now.pods].sort()), new Map([...expected].sort()), `${context}: the model is not the replay of the acknowledged writes`);
      if (nsCreated) assert.ok(now.namespaces.includes(NS), `${context}: namespace ${NS} lost`);
      lastGeneration = now.generation;
      if (acknowledged >= MIN_ACKNOWLEDGED && kills >= MIN_KILLS) break;

      if (!nsCreated) {
        lastGeneration = await write(url, "POST", "/v1/apply", `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}\n`);
        nsCreated = true;
        acknowledged++;
      }
      // Acknowledged writes: applies of one to three pods, updates of earlier ones, deletes.
      const steps = 5 + Math.floor(rand() * 25);
      for (let i = 0; i < steps; i++) {
        const names = [...expected.keys()];
        if (names.length > 0 && rand() < 0.25) {
          const victim = names[Math.floor(rand() * names.length)]!;
          lastGeneration = await write(url, "DELETE", `/v1/namespaces/${NS}/pods/${victim}`);
          expected.delete(victim);
        } else {
          const version = String(++counter);
          const batch: string[] = [];
          const n = 1 + Math.floor(rand() * 3);
          for (let j = 0; j < n; j++) batch.push(names.length > 0 && rand() < 0.3 ? names[Math.floor(rand() * names.length)]! : `p${counter}-${j}`);
          const unique = [...new Set(batch)];
          const body = unique.map((name) => podYaml(name, Number(version), ipOf(name))).join("");
          lastGeneration = await write(url, "POST", "/v1/apply", body);
          for (const name of unique) expected.set(name, version);
        }
        acknowledged++;
      }
      // One more write in flight, and the kill somewhere in or around it.
      const version = String(++counter);
      const names = Array.from({ length: IN_FLIGHT_PODS }, (_, j) => `f${counter}-${j}`);
      const flight = { names, version, answered: false };
      inFlight = flight;
      const sent = write(url, "POST", "/v1/apply", names.map((n) => podYaml(n, Number(version), ipOf(n))).join("")).then(
        (g) => {
          flight.answered = true;
          lastGeneration = g;
        },
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 150)));
      await server.kill();
      await sent;
      if (flight.answered) acknowledged++;
      kills++;
    }
    await server.kill();
    server = undefined;
    t.diagnostic(`seed ${seed}: ${acknowledged} writes acknowledged, ${kills} kills; writes in flight at a kill: ${JSON.stringify(outcomes)}`);
  });
});

/** A distinct address per pod name. */
const addresses = new Map<string, string>();
function ipOf(name: string): string {
  let ip = addresses.get(name);
  if (!ip) {
    const n = addresses.size + 1;
    addresses.set(name, (ip = `10.77.${n >> 8}.${n & 255}`));
  }
  return ip;
}

/** `npm run gen -- --profile NAME [--seed N] [--format yaml|json] [--out FILE]`: writes a generated cluster. */
import { writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import { stringifyManifests } from "../server/manifests/yaml-out.js";
import { PROFILES, allObjects, generate } from "./generate.js";

const o = new Command("gen")
  .addOption(new Option("--profile <name>", "cluster size").choices(Object.keys(PROFILES)).default("small"))
  .option("--seed <n>", "seed of the generator", "1")
  .addOption(new Option("--format <format>", "output format").choices(["yaml", "json"]).default("yaml"))
  .option("--out <file>", "write here instead of stdout")
  .parse()
  .opts<{ profile: string; seed: string; format: string; out?: string }>();

const list = { apiVersion: "v1", kind: "List", items: allObjects(generate(PROFILES[o.profile]!, Number(o.seed))) };
const text = o.format === "json" ? `${JSON.stringify(list)}\n` : stringifyManifests(list);
if (o.out) writeFileSync(o.out, text);
else process.stdout.write(text);

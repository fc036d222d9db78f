/** Auth files and identities for the authentication and authorization tests. */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TWO_NODES } from "../rules/support.js";

export interface Identity {
  readonly name: string;
  readonly role: "admin" | "reader" | "agent";
  readonly node?: string;
  readonly token: string;
}

export function identity(name: string, role: Identity["role"], node?: string): Identity {
  return { name, role, ...(node ? { node } : {}), token: randomBytes(24).toString("base64url") };
}

export const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");

/** The YAML of an auth file with these token identities and certificate identities. */
export function authYaml(tokens: readonly Identity[], certificates: readonly { commonName: string; role: string; node?: string }[] = []): string {
  const t = tokens.map((i) => `  - {name: ${i.name}, sha256: ${sha256(i.token)}, role: ${i.role}${i.node ? `, node: ${i.node}` : ""}}`);
  const c = certificates.map((x) => `  - {commonName: "${x.commonName}", role: ${x.role}${x.node ? `, node: ${x.node}` : ""}}`);
  return `tokens:\n${t.join("\n")}\n${c.length > 0 ? `certificates:\n${c.join("\n")}\n` : ""}`;
}

/** A temp dir with the two-node model and an auth file; `rewrite` replaces the auth file as a secret volume does (a new file renamed over it). */
export function authFiles(yaml: string): { dir: string; auth: string; model: string; rewrite(yaml: string): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "podwall-auth-"));
  const auth = join(dir, "auth.yaml");
  const model = join(dir, "model.yaml");
  writeFileSync(auth, yaml);
  writeFileSync(model, TWO_NODES);
  let n = 0;
  return {
    dir,
    auth,
    model,
    rewrite(text: string) {
      const next = join(dir, `auth.yaml.${++n}`);
      writeFileSync(next, text);
      renameSync(next, auth);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The store a server is told to use, by its command-line spec. */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { EtcdStore } from "./etcd.js";
import { KubernetesSource } from "./kubernetes.js";
import { LmdbStore } from "./lmdb.js";
import { MemoryStore } from "./memory.js";
import type { Store } from "./types.js";

export type StoreSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "lmdb"; readonly dir: string }
  | { readonly kind: "etcd"; readonly endpoints: readonly string[]; readonly prefix?: string }
  | { readonly kind: "kubernetes"; readonly kubeconfig?: string; readonly context?: string };

/** Opens what can be opened at once (a data directory is locked and checked here); throws StoreOpenError. */
export function createStore(spec: StoreSpec, env: { readonly logger?: Logger; readonly registry?: Registry } = {}): Store {
  switch (spec.kind) {
    case "memory":
      return new MemoryStore();
    case "lmdb":
      return LmdbStore.open(spec.dir);
    case "etcd":
      return new EtcdStore({ endpoints: [...spec.endpoints], ...(spec.prefix !== undefined ? { prefix: spec.prefix } : {}) });
    case "kubernetes":
      return new KubernetesSource({ ...spec, ...env });
  }
}

export { EtcdStore } from "./etcd.js";
export { KubernetesSource } from "./kubernetes.js";
export { LmdbStore } from "./lmdb.js";
export { MemoryStore } from "./memory.js";
export { type StoreSpec, createStore } from "./create.js";
export * from "./types.js";

export { EtcdStore } from "./etcd.js";
export { LmdbStore } from "./lmdb.js";
export { MemoryStore } from "./memory.js";
export { type StoreSpec, createStore } from "./create.js";
export * from "./types.js";

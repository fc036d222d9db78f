export { Cluster, type ClusterObserver } from "./cluster.js";
export { LabelIndex } from "./label-index.js";
export * from "./types.js";

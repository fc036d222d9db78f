export { Cluster } from "./cluster.js";
export { LabelIndex } from "./label-index.js";
export * from "./types.js";

export { ALLOW_MARK, CompileCache, FAMILIES, compileNode, localPods, portGroupKey } from "./compile.js";
export { PREFIX, TEMP_SUFFIX, TOP_CHAIN } from "./names.js";
export type { ChainPlan, Hook, Origin, RulePlan, RulesetPlan, SetPlan, SetSource } from "./plan.js";
export { type Ruleset, comment, render, renderIpset, renderTables } from "./render.js";
export { type SetUse, type Touched, touchedBy } from "./dependencies.js";

export { ALLOW_MARK, FAMILIES, compileNode, localPods } from "./compile.js";
export { ACCEPTED_MARK, PASSED_MARK } from "./tiers.js";
export { CompileCache, materialize, portGroupKey, updateMembers } from "./sets.js";
export { PREFIX, TEMP_SUFFIX, TOP_CHAIN, inputChainName, ownNodeChainName } from "./names.js";
export type { ChainPlan, Hook, Origin, RulePlan, RulesetPlan, SetPlan, SetSource, SetSpec } from "./plan.js";
export { type Ruleset, comment, render, renderIpset, renderTables } from "./render.js";
export { type Dependencies, type SetUse, type Touched, touchedBy } from "./dependencies.js";
export { type Removal, type RulesetDelta, diff, isDelta, planSize } from "./delta.js";
export { position } from "./members.js";

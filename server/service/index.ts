export { type CheckInput, type CheckQuery, parseCheckQuery } from "./check-query.js";
export { ANONYMOUS, ANONYMOUS_REQUEST, type Principal, type RequestContext, SYSTEM } from "./context.js";
export type { Decision, DirectionView, EndpointView } from "./decision.js";
export { type ErrorCode, PodwallError, toPodwallError } from "./errors.js";
export { Metrics } from "./metrics.js";
export type { WriteResult } from "./model-writer.js";
export { PodwallService, type Readiness, type ServiceOptions } from "./service.js";
export { type AppliedStatus, type NodeStatus, RulesService } from "./rules-service.js";

/**
 * What a truth-table scenario is: steps that change the model through the
 * API, each followed by the expected table for every protocol/port it is
 * about, and optionally single cells whose ends are addresses.
 */
import { ALL_PODS } from "./cluster.js";
import type { Cell, ClusterApi, Protocol } from "./cluster-api.js";
import type { Reachability } from "./reachability.js";

type Manifest = Record<string, unknown>;

export interface PortProto {
  readonly protocol: Protocol;
  readonly port: number;
}

export const TCP80: PortProto = { protocol: "TCP", port: 80 };
export const TCP81: PortProto = { protocol: "TCP", port: 81 };
export const UDP80: PortProto = { protocol: "UDP", port: 80 };
export const UDP81: PortProto = { protocol: "UDP", port: 81 };
export const SCTP80: PortProto = { protocol: "SCTP", port: 80 };
export const SCTP81: PortProto = { protocol: "SCTP", port: 81 };

/** One truth table: start from all-allowed, `expect` marks the scenario's denies; the diagonal stays allowed. */
export interface PortCase extends PortProto {
  readonly expect: (r: Reachability) => void;
}

/** A decision about addresses (outside hosts, nodes) that the pod-by-pod table cannot hold. */
export interface AddressCell extends Cell {
  readonly allowed: boolean;
}

export interface Step {
  readonly name: string;
  /** The model change of this step (after the reset to the base cluster). */
  readonly act?: (api: ClusterApi) => Promise<void>;
  /** The pods of the table; all nine unless the step deleted one. */
  readonly pods?: readonly string[];
  /** Pods that must be unknown to the server (404) at this step. */
  readonly unknownPods?: readonly string[];
  readonly cases: readonly PortCase[];
  readonly cells?: readonly AddressCell[];
}

export interface Scenario {
  readonly name: string;
  /** The Kubernetes documentation's sentence the expectations follow. */
  readonly doc: string;
  readonly steps: readonly Step[];
}

/** The same expectation for several protocol/ports. */
export function on(ports: readonly PortProto[], expect: (r: Reachability) => void): PortCase[] {
  return ports.map((p) => ({ ...p, expect }));
}

/** No restriction at all on these protocol/ports. */
export function allAllowed(...ports: PortProto[]): PortCase[] {
  return on(ports, () => {});
}

export function applying(objects: readonly Manifest[]): (api: ClusterApi) => Promise<void> {
  return (api) => api.apply(objects);
}

/** The common shape: apply some objects to the base cluster, then assert tables (and cells). */
export function scenario(name: string, doc: string, objects: readonly Manifest[], cases: readonly PortCase[], cells: readonly AddressCell[] = []): Scenario {
  return { name, doc, steps: [{ name: "applied", act: applying(objects), cases, cells }] };
}

export function podsWithout(...gone: string[]): string[] {
  return ALL_PODS.filter((p) => !gone.includes(p));
}

export function cell(src: string, dst: string, pp: PortProto, allowed: boolean): AddressCell {
  return { src, dst, protocol: pp.protocol, port: pp.port, allowed };
}

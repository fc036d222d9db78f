/** Prometheus metrics of one service instance, on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: "podwall_decisions_total",
    help: "Connectivity decisions made, by outcome and whether the cache answered",
    labelNames: ["allowed", "cached"] as const,
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: "podwall_model_writes_total",
    help: "Model writes, by operation and outcome",
    labelNames: ["op", "outcome"] as const,
    registers: [this.registry],
  });
  readonly unreadable = new Counter({
    name: "podwall_store_unreadable_objects_total",
    help: "Objects of the store (or the cluster followed) left out of the model because they cannot be read",
    registers: [this.registry],
  });
  readonly ready = new Gauge({ name: "podwall_ready", help: "1 once the model is loaded from the store and served", registers: [this.registry] });
  readonly generation = new Gauge({ name: "podwall_model_generation", help: "The model's generation", registers: [this.registry] });
  readonly objects = new Gauge({
    name: "podwall_model_objects",
    help: "Objects in the model, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly writeSeconds = new Histogram({
    name: "podwall_model_write_seconds",
    help: "Time to validate and commit a model write",
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [this.registry],
  });

  readonly compileSeconds = new Histogram({
    name: "podwall_ruleset_compile_seconds",
    help: "Time to compile and render one node's ruleset",
    buckets: [0.0005, 0.002, 0.01, 0.05, 0.2, 1],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({ name: "podwall_ruleset_watchers", help: "Long polls and watch streams waiting for a new ruleset", registers: [this.registry] });

  /** The decision counters, bound once: labelling on every call would cost more than a decision. */
  private readonly decisionCounters = [
    [this.decisions.labels("false", "false"), this.decisions.labels("false", "true")],
    [this.decisions.labels("true", "false"), this.decisions.labels("true", "true")],
  ] as const;

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  decided(allowed: boolean, cached: boolean): void {
    this.decisionCounters[allowed ? 1 : 0][cached ? 1 : 0].inc();
  }
}

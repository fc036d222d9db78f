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
  readonly rejected = new Counter({
    name: "podwall_requests_rejected_total",
    help: "Requests refused because a limit was reached, by limit (body, batch, watches)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: "podwall_requests_total",
    help: "Requests answered, by front door, route (REST) or method (gRPC), and status code",
    labelNames: ["door", "route", "code"] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: "podwall_request_duration_seconds",
    help: "Time to answer a request (long polls and watch streams included: see the route), by front door and route",
    labelNames: ["door", "route"] as const,
    buckets: [0.0001, 0.0005, 0.002, 0.01, 0.05, 0.25, 1, 5, 30, 300],
    registers: [this.registry],
  });
  readonly longPolls = new Gauge({ name: "podwall_long_polls_open", help: "REST long polls of node rulesets waiting for a change", registers: [this.registry] });
  readonly watchStreams = new Gauge({ name: "podwall_watch_streams_open", help: "gRPC WatchRules streams open", registers: [this.registry] });
  readonly decisionLog = new Counter({
    name: "podwall_decision_log_entries_total",
    help: "Decision log entries, by outcome: written, or dropped because the log's buffer was full",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly authReloads = new Counter({
    name: "podwall_auth_reloads_total",
    help: "Re-reads of the auth file and of the TLS files, by what and outcome",
    labelNames: ["file", "outcome"] as const,
    registers: [this.registry],
  });

  /** The decision counters, bound once: labelling on every call would cost more than a decision. */
  private readonly decisionCounters = [
    [this.decisions.labels("false", "false"), this.decisions.labels("false", "true")],
    [this.decisions.labels("true", "false"), this.decisions.labels("true", "true")],
  ] as const;

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  /** A request answered: counted by door, route and code, and timed. The labelled series are bound once each. */
  answered(door: "rest" | "grpc", route: string, code: string, seconds: number): void {
    const key = `${door}\u0000${route}\u0000${code}`;
    let s = this.requestSeries.get(key);
    if (s === undefined) {
      s = { count: this.requests.labels(door, route, code), time: this.requestSeconds.labels(door, route) };
      this.requestSeries.set(key, s);
    }
    s.count.inc();
    s.time.observe(seconds);
  }

  private readonly requestSeries = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  decided(allowed: boolean, cached: boolean): void {
    this.decisionCounters[allowed ? 1 : 0][cached ? 1 : 0].inc();
  }
}

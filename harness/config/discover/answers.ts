import type { JaegerTrace } from "../../backends/trace-store";

/**
 * What `npm run init` read from a running mesh's Prometheus and Jaeger, as their HTTP APIs answered it. Everything
 * init guesses is a pure function of this value, so a recorded one (test/fixtures/discover/) replays a discovery.
 */
export interface MeshAnswers {
  prometheus: PrometheusAnswers;
  jaeger: JaegerAnswers;
}

export interface PrometheusAnswers {
  /** The base URL it was read at. */
  url: string;
  /** `/api/v1/targets?state=active`: the active targets. */
  targets: ActiveTarget[];
  /** `/api/v1/targets/metadata`: each metric family of each target that maps to a service, with its type. */
  metadata: TargetMetadata[];
  /** `/api/v1/series`: the counter and histogram (`_count`) series of those targets, with all their labels. */
  series: Record<string, string>[];
}

/** One entry of `/api/v1/targets` activeTargets (the fields init reads). */
export interface ActiveTarget {
  /** Target labels after relabelling: job, instance and any the scrape config adds (service, app...). */
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
}

/** One entry of `/api/v1/targets/metadata`. */
export interface TargetMetadata {
  target: Record<string, string>;
  metric: string;
  type: string;
}

export interface JaegerAnswers {
  /** The base URL of its query API. */
  url: string;
  /** `/api/services`. */
  services: string[];
  /** `/api/operations?service=S` per service: span names with their kind ("server", "client", ...). */
  operations: Record<string, { name: string; spanKind: string }[]>;
  /** `/api/dependencies`: caller -> callee with the number of calls seen. */
  dependencies: { parent: string; child: string; callCount: number }[];
  /** `/api/traces?service=S&operation=OP` for each server operation, deduplicated by trace id. */
  traces: JaegerTrace[];
}

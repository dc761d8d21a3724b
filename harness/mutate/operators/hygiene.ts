import type { MetricSample } from "../../../assertions/evidence";
import type { MutationOperator } from "../../../assertions/mutation";
import { counters, histograms, risenSeries, sameSeries, withSamples } from "../../../assertions/mutation-support";

// Hygiene operators: metric names, units, buckets and labels that break Prometheus conventions or the contract.

/** Multiplies the rise of one histogram's _sum by 1000. */
export const histogramSumUnits: MutationOperator = {
  name: "histogram-sum-units",
  family: "hygiene",
  models: "durations observed in milliseconds into a _seconds histogram",
  killedBy: "hygiene.histograms",
  apply(e, rng) {
    const series = rng.pick(risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)));
    if (!series) return undefined;
    const sum = { ...series, name: series.name.replace(/_count$/, "_sum") };
    const start = e.metrics.start.find((s) => sameSeries(s, sum))?.value ?? 0;
    return {
      evidence: withSamples(e, "end", (samples) =>
        samples.map((s) => (sameSeries(s, sum) ? { ...s, value: start + (s.value - start) * 1000 } : s)),
      ),
      change: `${sum.name}${JSON.stringify(sum.labels)} rose 1000x`,
    };
  },
};

/** Multiplies the finite bucket bounds (le) of one histogram by 1000. */
export const histogramBucketsInMs: MutationOperator = {
  name: "histogram-buckets-in-ms",
  family: "hygiene",
  models: "bucket bounds written in milliseconds for a histogram observed in seconds",
  killedBy: "hygiene.histograms",
  apply(e, rng) {
    const series = rng.pick(risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)));
    if (!series) return undefined;
    const bucketName = series.name.replace(/_count$/, "_bucket");
    const { ...base } = series.labels;
    const ofSeries = (s: MetricSample) =>
      s.name === bucketName && Object.entries(base).every(([k, v]) => s.labels[k] === v);
    const relabel = (samples: MetricSample[]) =>
      samples.map((s) =>
        ofSeries(s) && s.labels.le !== "+Inf"
          ? { ...s, labels: { ...s.labels, le: String(Number(s.labels.le) * 1000) } }
          : s,
      );
    return {
      evidence: withSamples(withSamples(e, "start", relabel), "end", relabel),
      change: `bucket bounds of ${bucketName}${JSON.stringify(base)} x1000`,
    };
  },
};

/** Renames one gauge in a service's exposition text with a _total suffix. */
export const gaugeNamedTotal: MutationOperator = {
  name: "gauge-named-total",
  family: "hygiene",
  models: "a gauge named like a counter",
  killedBy: "hygiene.naming",
  apply(e, rng) {
    const service = rng.pick(Object.keys(e.metrics.exposition));
    const text = service && e.metrics.exposition[service];
    const gauge = text && /^# TYPE (\w+) gauge$/m.exec(text)?.[1];
    if (!service || !text || !gauge) return undefined;
    const renamed = text.replace(new RegExp(`\\b${gauge}\\b`, "g"), `${gauge}_total`);
    return {
      evidence: { ...e, metrics: { ...e.metrics, exposition: { ...e.metrics.exposition, [service]: renamed } } },
      change: `${service} gauge ${gauge} renamed ${gauge}_total`,
    };
  },
};

/** Replaces the route template label of one edge series with a raw path. */
export const rawPathRoute: MutationOperator = {
  name: "raw-path-route",
  family: "hygiene",
  models: "requests labelled with the raw URL path instead of the route template",
  killedBy: "hygiene.route-labels",
  apply(e, rng) {
    const edge = e.services.find((s) => s.role === "edge");
    const series = edge && rng.pick(risenSeries(e, (s) => (s === edge ? [s.contract.httpServerRequests.name] : [])));
    if (!edge || !series) return undefined;
    const key = edge.contract.labels.httpRoute;
    const raw = series.labels[key]!.replace(/:\w+/g, "x-1");
    if (raw === series.labels[key]) return undefined;
    const relabel = (samples: MetricSample[]) =>
      samples.map((s) => (sameSeries(s, series) ? { ...s, labels: { ...s.labels, [key]: raw } } : s));
    return {
      evidence: withSamples(withSamples(e, "start", relabel), "end", relabel),
      change: `${series.name} labelled route="${raw}"`,
    };
  },
};

/** Adds a copy of one counter series with a request_id label. */
export const requestIdLabel: MutationOperator = {
  name: "request-id-label",
  family: "hygiene",
  models: "a request id used as a metric label (unbounded cardinality)",
  killedBy: "hygiene.cardinality",
  apply(e, rng) {
    const series = rng.pick(risenSeries(e, counters));
    const request = rng.pick(e.requests);
    if (!series || !request) return undefined;
    return {
      evidence: withSamples(e, "end", (samples) => [
        ...samples,
        { ...series, labels: { ...series.labels, request_id: request.id } },
      ]),
      change: `${series.name} got a request_id="${request.id}" series`,
    };
  },
};

/** Removes the buckets of one service's server-duration histogram. */
export const dropContractMetric: MutationOperator = {
  name: "drop-contract-metric",
  family: "hygiene",
  models: "a metric the contract names that the service never registers",
  killedBy: "hygiene.contract-series",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const name = `${(service.protocol === "grpc" ? service.contract.grpcServerHandling : service.contract.httpServerDuration).name}_bucket`;
    const mine = (s: MetricSample) =>
      s.name === name && s.labels[service.contract.labels.instance] === service.instance;
    const drop = (samples: MetricSample[]) => samples.filter((s) => !mine(s));
    return {
      evidence: withSamples(withSamples(e, "start", drop), "end", drop),
      change: `${service.name} exposes no ${name}`,
    };
  },
};

/** Removes the status-code label from one risen RED counter series (at the start and the end). */
export const dropContractLabel: MutationOperator = {
  name: "drop-contract-label",
  family: "hygiene",
  models: "a series registered without a label its contract declares (a code recorded only on some paths)",
  killedBy: "hygiene.contract-labels",
  apply(e, rng) {
    const series = rng.pick(risenSeries(e, counters));
    const service = series && e.services.find((s) => series.labels[s.contract.labels.instance] === s.instance);
    if (!series || !service) return undefined;
    const l = service.contract.labels;
    const key = series.labels[l.grpcCode] !== undefined ? l.grpcCode : l.httpStatusCode;
    const drop = (samples: MetricSample[]) =>
      samples.map((s) => {
        if (!sameSeries(s, series)) return s;
        const { [key]: _dropped, ...labels } = s.labels;
        return { ...s, labels };
      });
    return {
      evidence: withSamples(withSamples(e, "start", drop), "end", drop),
      change: `${series.name}${JSON.stringify(series.labels)} lost its ${key} label`,
    };
  },
};

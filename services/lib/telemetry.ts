/**
 * The tracing preload: `node --require dist/services/lib/telemetry.js dist/services/<name>/main.js`.
 * It must run before anything else loads: a module (http, @grpc/grpc-js, ioredis) required before the SDK starts
 * is never patched. Metrics do not go through OTel here (prom-client owns /metrics), so no metric reader is set.
 *
 * Env: MESHPROOF_SERVICE_NAME, MESHPROOF_OTLP_URL, MESHPROOF_SAMPLING_RATIO, MESHPROOF_INSTANCE_ID (see config.ts);
 * OTEL_SDK_DISABLED=true leaves tracing off (the modules are still patched, which is what the benchmark measures).
 * The kit's own settings are defaults: the standard OTEL_BSP_*, OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER(_ARG) and
 * OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT win when set, as the OpenTelemetry SDK specification says.
 * OTEL_TRACES_EXPORTER=zipkin sends spans to a Zipkin server instead (OTEL_EXPORTER_ZIPKIN_ENDPOINT, its v2 JSON
 * intake), through OpenTelemetry's Zipkin exporter; otlp (the default) is the only other value taken.
 */
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { ZipkinExporter } from "@opentelemetry/exporter-zipkin";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { ExportResult } from "@opentelemetry/core";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { EnvReader, ServiceConfigError } from "./config";
import { isUntracedRequest, registerTelemetry, type SpanCounts } from "./telemetry-handle";

const SERVICE_VERSION = "0.1.0";

/** The value of an OTEL_* variable when set (and not empty). */
function otel(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

function otelNumber(name: string, fallback: number): number {
  const value = Number(otel(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Counts the spans the SDK starts and ends: the created side of the pipeline accounting. */
class CountingProcessor implements SpanProcessor {
  constructor(private readonly counts: SpanCounts) {}
  onStart(): void {
    this.counts.started++;
  }
  onEnd(): void {
    this.counts.ended++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Counts the spans the exporter delivered (or failed to): the exported side of the pipeline accounting. */
class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly counts: SpanCounts,
  ) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === 0) this.counts.exported += spans.length;
      else this.counts.exportFailures += spans.length;
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Zipkin takes whole microseconds (its JSON reader refuses 1796631539756885.2 with a 400), but OpenTelemetry's Zipkin
 * exporter rounds only a span's duration: a start time given with sub-microsecond digits (the gRPC server span's,
 * taken when the call arrived) made the whole batch fail. Each span goes out with its start rounded to the microsecond.
 */
class WholeMicrosecondExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const whole = (span: ReadableSpan): ReadableSpan => {
      const [seconds, nanos] = span.startTime;
      const rounded = Math.round(nanos / 1_000) * 1_000;
      if (rounded === nanos) return span;
      const startTime: [number, number] = rounded >= 1e9 ? [seconds + 1, rounded - 1e9] : [seconds, rounded];
      return Object.create(span, { startTime: { value: startTime } }) as ReadableSpan;
    };
    this.inner.export(spans.map(whole), done);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

function start(): void {
  const reader = new EnvReader();
  const serviceName = reader.required("MESHPROOF_SERVICE_NAME");
  const disabled = /^true$/i.test(process.env.OTEL_SDK_DISABLED ?? "");
  const exporterName = otel("OTEL_TRACES_EXPORTER") ?? "otlp";
  if (exporterName !== "otlp" && exporterName !== "zipkin")
    throw new ServiceConfigError(`OTEL_TRACES_EXPORTER must be otlp or zipkin (got "${exporterName}")`);
  const zipkin = exporterName === "zipkin";
  const endpointFromEnv = zipkin
    ? otel("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
    : (otel("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? otel("OTEL_EXPORTER_OTLP_ENDPOINT"));
  if (zipkin && !endpointFromEnv)
    throw new ServiceConfigError(
      "OTEL_TRACES_EXPORTER=zipkin needs OTEL_EXPORTER_ZIPKIN_ENDPOINT (its /api/v2/spans URL)",
    );
  const otlpUrl = disabled || endpointFromEnv ? "http://127.0.0.1:4318" : reader.required("MESHPROOF_OTLP_URL");
  const ratio = reader.optional("MESHPROOF_SAMPLING_RATIO", 1);
  const instanceId = reader.optional("MESHPROOF_INSTANCE_ID", `${serviceName}-${process.pid}`);

  const counts: SpanCounts = { started: 0, ended: 0, exported: 0, exportFailures: 0 };
  // Large, infrequent batches: fewer exports cost less CPU per span, and the harness flushes at quiesce anyway.
  const batch = {
    scheduledDelayMillis: otelNumber("OTEL_BSP_SCHEDULE_DELAY", 1_000),
    maxExportBatchSize: otelNumber("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 4_096),
    maxQueueSize: otelNumber("OTEL_BSP_MAX_QUEUE_SIZE", 32_768),
    exportTimeoutMillis: otelNumber("OTEL_BSP_EXPORT_TIMEOUT", 30_000),
  };
  // Without a URL the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (or OTEL_EXPORTER_ZIPKIN_ENDPOINT) itself.
  const exporter = zipkin
    ? new WholeMicrosecondExporter(new ZipkinExporter())
    : new OTLPTraceExporter(endpointFromEnv ? {} : { url: `${otlpUrl.replace(/\/$/, "")}/v1/traces` });
  const processor = new BatchSpanProcessor({
    exporter: new CountingExporter(exporter, counts),
    ...batch,
    maxExportBatchSize: Math.min(batch.maxExportBatchSize, batch.maxQueueSize),
  });
  const config = {
    ...batch,
    propagators: otel("OTEL_PROPAGATORS") ?? "tracecontext,baggage",
    sampler: otel("OTEL_TRACES_SAMPLER")
      ? `${otel("OTEL_TRACES_SAMPLER")}${otel("OTEL_TRACES_SAMPLER_ARG") ? `(${otel("OTEL_TRACES_SAMPLER_ARG")})` : ""}`
      : `parentbased_traceidratio(${ratio})`,
    endpoint: endpointFromEnv ?? `${otlpUrl}/v1/traces`,
  };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
      "service.instance.id": instanceId,
    }),
    autoDetectResources: false,
    // Left to the SDK (which reads OTEL_PROPAGATORS / OTEL_TRACES_SAMPLER) when the standard variables are set.
    ...(otel("OTEL_PROPAGATORS")
      ? {}
      : {
          textMapPropagator: new CompositePropagator({
            propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
          }),
        }),
    ...(otel("OTEL_TRACES_SAMPLER")
      ? {}
      : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) }),
    spanProcessors: [new CountingProcessor(counts), processor],
    metricReaders: [],
    // Only what the mesh uses: every extra instrumentation costs CPU on the hot path. gRPC spans are made by the
    // kit's own interceptor and handler wrapper (grpc-kit.ts), at a fraction of instrumentation-grpc's cost.
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: isUntracedRequest,
        // Probe calls to a downstream (no active span) must not start root spans.
        requireParentforOutgoingSpans: true,
      }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  registerTelemetry({
    flush: () => (disabled ? Promise.resolve() : processor.forceFlush()),
    shutdown: () => sdk.shutdown(),
    stats: () => ({ config, spans: { ...counts } }),
  });
}

try {
  start();
} catch (error) {
  if (error instanceof ServiceConfigError) {
    process.stderr.write(`meshproof telemetry: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

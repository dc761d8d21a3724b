/**
 * The tracing preload: `node --require dist/services/lib/telemetry.js dist/services/<name>/main.js`.
 * It must run before anything else loads: a module (http, @grpc/grpc-js, ioredis) required before the SDK starts
 * is never patched. Metrics do not go through OTel here (prom-client owns /metrics), so no metric reader is set.
 *
 * Env: MESHPROOF_SERVICE_NAME, MESHPROOF_OTLP_URL, MESHPROOF_SAMPLING_RATIO, MESHPROOF_INSTANCE_ID (see config.ts);
 * OTEL_SDK_DISABLED=true leaves tracing off (the modules are still patched, which is what the benchmark measures).
 */
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { EnvReader, ServiceConfigError } from "./config";
import { isUntracedRequest, registerTelemetry } from "./telemetry-handle";

const SERVICE_VERSION = "0.1.0";

function start(): void {
  const reader = new EnvReader();
  const serviceName = reader.required("MESHPROOF_SERVICE_NAME");
  const disabled = /^true$/i.test(process.env.OTEL_SDK_DISABLED ?? "");
  const otlpUrl = disabled ? "http://127.0.0.1:4318" : reader.required("MESHPROOF_OTLP_URL");
  const ratio = reader.optional("MESHPROOF_SAMPLING_RATIO", 1);
  const instanceId = reader.optional("MESHPROOF_INSTANCE_ID", `${serviceName}-${process.pid}`);

  const processor = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `${otlpUrl.replace(/\/$/, "")}/v1/traces` }),
    // Large, infrequent batches: fewer exports cost less CPU per span, and the harness flushes at quiesce anyway.
    scheduledDelayMillis: 1_000,
    maxExportBatchSize: 4_096,
    maxQueueSize: 32_768,
  });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
      "service.instance.id": instanceId,
    }),
    autoDetectResources: false,
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [processor],
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

package main

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/zipkin"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// serviceVersion is service.version, the Node services' SERVICE_VERSION.
const serviceVersion = "0.1.0"

// spanCounts is what GET /admin/telemetry reports: spans started and ended (by a processor wrapper, so sampled
// spans only), exported (spans in export calls that succeeded) and exportFailures (spans in export calls that
// failed). After a flush, ended = exported + exportFailures unless the batch queue overflowed.
type spanCounts struct {
	started, ended, exported, exportFailures atomic.Int64
}

type countingProcessor struct {
	sdktrace.SpanProcessor
	counts *spanCounts
}

func (p countingProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	p.counts.started.Add(1)
	p.SpanProcessor.OnStart(ctx, s)
}

func (p countingProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	p.counts.ended.Add(1)
	p.SpanProcessor.OnEnd(s)
}

type countingExporter struct {
	sdktrace.SpanExporter
	counts *spanCounts
}

func (e countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.counts.exportFailures.Add(int64(len(spans)))
	} else {
		e.counts.exported.Add(int64(len(spans)))
	}
	return err
}

// tracing is the service's tracer provider (a no-op one when OTEL_SDK_DISABLED=true) and its span counts.
type tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when disabled
	counts   *spanCounts
}

func (t *tracing) flush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

func (t *tracing) shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// envUnset: the service's own defaults apply only where the standard OTEL_* variable is not set, so the
// environment wins as the OpenTelemetry specification requires.
func envUnset(name string) bool { return os.Getenv(name) == "" }

// startTracing sets up OTLP/HTTP export (or Zipkin's JSON v2 with OTEL_TRACES_EXPORTER=zipkin) through a batch processor, ParentBased(TraceIDRatioBased(ratio)) unless
// OTEL_TRACES_SAMPLER says otherwise, and the propagators of OTEL_PROPAGATORS (default W3C tracecontext and
// baggage), installed as the global provider and propagator (what otelgrpc uses).
func startTracing(ctx context.Context, cfg *config, logger *slog.Logger) (*tracing, error) {
	otel.SetTextMapPropagator(autoprop.NewTextMapPropagator())
	counts := &spanCounts{}
	if cfg.sdkDisabled {
		t := &tracing{provider: noop.NewTracerProvider(), counts: counts}
		otel.SetTracerProvider(t.provider)
		return t, nil
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("opentelemetry error", slog.String("err", err.Error()))
	}))
	var exporter sdktrace.SpanExporter
	var err error
	if cfg.zipkinURL != "" {
		exporter, err = zipkin.New(cfg.zipkinURL)
	} else {
		exporter, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.otlpURL+"/v1/traces"))
	}
	if err != nil {
		return nil, err
	}
	// The Node services' batch settings (large, infrequent batches); OTEL_BSP_* wins where set (the SDK reads it).
	var bspOptions []sdktrace.BatchSpanProcessorOption
	if envUnset("OTEL_BSP_SCHEDULE_DELAY") {
		bspOptions = append(bspOptions, sdktrace.WithBatchTimeout(time.Second))
	}
	if envUnset("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
		bspOptions = append(bspOptions, sdktrace.WithMaxExportBatchSize(4096))
	}
	if envUnset("OTEL_BSP_MAX_QUEUE_SIZE") {
		bspOptions = append(bspOptions, sdktrace.WithMaxQueueSize(32768))
	}
	processor := countingProcessor{
		SpanProcessor: sdktrace.NewBatchSpanProcessor(countingExporter{exporter, counts}, bspOptions...),
		counts:        counts,
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", cfg.serviceName),
		attribute.String("service.version", serviceVersion),
		attribute.String("service.instance.id", cfg.instanceID),
	))
	if err != nil {
		return nil, err
	}
	options := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(processor)}
	if envUnset("OTEL_TRACES_SAMPLER") {
		options = append(options,
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.samplingRatio))))
	}
	sdk := sdktrace.NewTracerProvider(options...)
	otel.SetTracerProvider(sdk)
	return &tracing{provider: sdk, sdk: sdk, counts: counts}, nil
}

package main

import (
	"context"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// durationBuckets are the Node kit's DURATION_BUCKETS.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// methodCodes are the codes pre-initialised at 0 (METHOD_CODES of services/lib/error-map.ts).
var methodCodes = []string{
	"OK", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL",
}

// healthService is probe traffic: neither measured nor traced nor logged (as in the Node kit).
const healthService = "grpc.health.v1.Health"

// Names of the recipe's runtime gauges: a prefix of their own so they never collide with the Go collector's
// go_memstats_* and go_gc_* families.
const (
	heapAllocGauge  = "meshproof_runtime_heap_alloc_bytes"
	totalAllocGauge = "meshproof_runtime_total_alloc_bytes"
	gcCyclesGauge   = "meshproof_runtime_gc_cycles"
	gcPauseGauge    = "meshproof_runtime_gc_pause_average_seconds"
)

// metrics is the service's registry (what /metrics serves) and its RED metrics.
type metrics struct {
	registry       *prometheus.Registry
	handled        *prometheus.CounterVec
	handling       *prometheus.HistogramVec
	faultsInjected *prometheus.CounterVec
	statusLabel200 bool
	heapAlloc      prometheus.Gauge
	totalAlloc     prometheus.Gauge
	gcCycles       prometheus.Gauge
	gcPause        prometheus.Gauge
}

// newMetrics builds the registry the recipe asks for: its own prometheus.NewRegistry(), never the default one.
// Defects: default-registry registers the RED metrics on prometheus.DefaultRegisterer (which nobody serves);
// no-runtime-metrics leaves out the Go and process collectors and the runtime gauges.
func newMetrics(cfg *config) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), statusLabel200: cfg.has("status-label-200")}
	labels := []string{"grpc_service", "grpc_method", "grpc_code"}
	m.handled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grpc_server_handled_total",
		Help: "gRPC calls handled, by method and status code.",
	}, labels)
	m.handling = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "grpc_server_handling_seconds",
		Help:    "Time to handle a gRPC call.",
		Buckets: durationBuckets,
	}, labels)
	m.faultsInjected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshproof_faults_injected_total",
		Help: "Faults applied by the admin API, by kind and target (ground truth for fault-driven errors).",
	}, []string{"kind", "target"})
	var red prometheus.Registerer = m.registry
	if cfg.has("default-registry") {
		red = prometheus.DefaultRegisterer
	}
	red.MustRegister(m.handled, m.handling, m.faultsInjected)

	if !cfg.has("no-runtime-metrics") {
		m.registry.MustRegister(
			// go_gc_gogc_percent (a default runtime/metrics series) is left out: the harness's hygiene check
			// rejects the non-base unit "percent"; GOGC is configuration, not a measurement.
			collectors.NewGoCollector(collectors.WithoutGoCollectorRuntimeMetrics(regexp.MustCompile(`^/gc/gogc:percent$`))),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		gauge := func(name, help string) prometheus.Gauge {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
			m.registry.MustRegister(g)
			return g
		}
		m.heapAlloc = gauge(heapAllocGauge, "runtime.MemStats.Alloc: bytes of allocated heap objects (read every 10 s).")
		m.totalAlloc = gauge(totalAllocGauge,
			"runtime.MemStats.TotalAlloc: cumulative bytes allocated for heap objects (read every 10 s).")
		m.gcCycles = gauge(gcCyclesGauge, "runtime.MemStats.NumGC: completed GC cycles (read every 10 s).")
		m.gcPause = gauge(gcPauseGauge,
			"debug.ReadGCStats PauseTotal / NumGC: average stop-the-world GC pause (read every 30 s).")
	}
	return m
}

// preinit creates every (method, code) series of a service at 0, counter and histogram.
func (m *metrics) preinit(service string, methods ...string) {
	for _, method := range methods {
		for _, code := range methodCodes {
			m.handled.WithLabelValues(service, method, code)
			m.handling.WithLabelValues(service, method, code)
		}
	}
}

// sampleRuntime takes the recipe's readings until ctx ends: runtime.ReadMemStats every 10 s (cheap) and
// debug.ReadGCStats every 30 s (it takes a lock); a first reading of both at once so the gauges are never empty.
func (m *metrics) sampleRuntime(ctx context.Context) {
	if m.heapAlloc == nil {
		return
	}
	m.readMemStats()
	m.readGCStats()
	mem := time.NewTicker(10 * time.Second)
	gc := time.NewTicker(30 * time.Second)
	defer mem.Stop()
	defer gc.Stop()
	for {
		select {
		case <-mem.C:
			m.readMemStats()
		case <-gc.C:
			m.readGCStats()
		case <-ctx.Done():
			return
		}
	}
}

func (m *metrics) readMemStats() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.heapAlloc.Set(float64(s.Alloc))
	m.totalAlloc.Set(float64(s.TotalAlloc))
	m.gcCycles.Set(float64(s.NumGC))
}

func (m *metrics) readGCStats() {
	var s debug.GCStats
	debug.ReadGCStats(&s)
	avg := 0.0
	if s.NumGC > 0 {
		avg = s.PauseTotal.Seconds() / float64(s.NumGC)
	}
	m.gcPause.Set(avg)
}

// splitMethod splits "/pkg.Service/Method" into its labels.
func splitMethod(fullMethod string) (service, method string) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return "unknown", "unknown"
	}
	return service, method
}

// unaryInterceptor records the RED metrics of every call but health checks: labels from the status the handler
// returned (never decided in the handler), duration with the trace id of a sampled server span as exemplar.
func (m *metrics) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {
	service, method := splitMethod(info.FullMethod)
	if service == healthService {
		return handler(ctx, req)
	}
	markReached(ctx)
	started := time.Now()
	resp, err := handler(ctx, req)
	seconds := time.Since(started).Seconds()
	code := codeName(status.Code(err))
	if err == nil && ctx.Err() != nil {
		// The client gave up while the handler ran: what the call ended with (and its span says) is the context's.
		code = codeName(status.FromContextError(ctx.Err()).Code())
	}
	if m.statusLabel200 && code != "OK" {
		// status-label-200: the label is decided as if every answer were a success.
		code = "OK"
	}
	m.handled.WithLabelValues(service, method, code).Inc()
	observer := m.handling.WithLabelValues(service, method, code)
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		observer.(prometheus.ExemplarObserver).ObserveWithExemplar(seconds,
			prometheus.Labels{"trace_id": sc.TraceID().String()})
	} else {
		observer.Observe(seconds)
	}
	return resp, err
}

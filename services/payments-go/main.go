// Command payments-go is the mesh's payments service in Go, a drop-in replacement for services/payments (Node):
// the same environment, gRPC API, probes, admin API, fault decisions and negative controls, instrumented after
// the Go monitoring recipe (prometheus/client_golang on its own registry with runtime gauges, OpenTelemetry with
// otelgrpc, /healthz local and /readyz checking the dependency).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "meshproof/payments-go/internal/paymentspb"
)

// sourceHash is set at build time (-ldflags -X main.sourceHash=...) to the hash of the sources the harness built.
var sourceHash = "dev"

const (
	// shutdownDeadline: SIGTERM ends the process within this (the harness kills after 5 s).
	shutdownDeadline = 4500 * time.Millisecond
	// drainTimeout bounds GracefulStop; calls still running then are cut.
	drainTimeout = 3 * time.Second
	loopback     = "127.0.0.1"
)

// service is what the listeners share.
type service struct {
	cfg       *config
	logger    *slog.Logger
	logSink   *logSink
	metrics   *metrics
	faults    *faultRegistry
	tracing   *tracing
	draining  atomic.Bool
	liveness  map[string]check
	readiness map[string]check
}

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Printf("payments-go %s source %s\n", serviceVersion, sourceHash)
		return 0
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshproof payments: invalid configuration: %s\n", err)
		return 2
	}
	sink, err := openLogSink(cfg.logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshproof payments: cannot open MESHPROOF_LOG_FILE %s: %s\n", cfg.logFile, err)
		return 1
	}
	s := &service{cfg: cfg, logSink: sink, logger: newLogger(sink, cfg.serviceName)}
	code := s.serve()
	sink.Flush()
	return code
}

// serve starts everything, waits for SIGTERM or SIGINT, and drains; it returns the exit code.
func (s *service) serve() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(what string, err error) int {
		s.logger.Error(what, slog.String("err", err.Error()))
		fmt.Fprintf(os.Stderr, "meshproof payments: %s: %s\n", what, err)
		return 1
	}
	var err error
	if s.tracing, err = startTracing(ctx, s.cfg, s.logger); err != nil {
		return fail("tracing did not start", err)
	}
	s.metrics = newMetrics(s.cfg)
	s.metrics.preinit(paymentsService, "Charge")
	go s.metrics.sampleRuntime(ctx)
	s.faults = newFaultRegistry(s.cfg.seed, s.cfg.serviceName, func(kind, target string) {
		s.metrics.faultsInjected.WithLabelValues(kind, target).Inc()
	})
	s.liveness = livenessChecks(s.cfg.heapLimitBytes)
	go s.logSink.flushEvery(time.Second, ctx.Done())

	listen := func(port int) (net.Listener, error) {
		return net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
	}
	grpcListener, err := listen(s.cfg.port)
	if err != nil {
		return fail("gRPC listener", err)
	}
	healthServer := health.NewServer()
	grpcServer := grpc.NewServer(
		grpc.StatsHandler(unreachedCalls{metrics: s.metrics, next: otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(s.tracing.provider),
			// Health checks are probe traffic: no spans (the Node kit traces none either).
			otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
		)}),
		// Metrics outermost, so their duration includes injected latency and their code is the call's final one.
		grpc.ChainUnaryInterceptor(s.metrics.unaryInterceptor, s.callInterceptor),
	)
	pb.RegisterPaymentsServer(grpcServer, payments{})
	healthpb.RegisterHealthServer(grpcServer, healthServer)
	go func() { _ = grpcServer.Serve(grpcListener) }()

	readyCheck, closeReadyCheck, err := grpcHealthCheck(grpcListener.Addr().String())
	if err != nil {
		return fail("readiness check client", err)
	}
	s.readiness = map[string]check{"grpc": readyCheck}

	ops := http.NewServeMux()
	ops.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	ops.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		status, body := runChecks(r.Context(), s.liveness)
		writeJSON(w, status, body)
	})
	ops.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.draining.Load() {
			status, body := runChecks(r.Context(), s.readiness)
			// Read again after the checks: shutdown sets draining before it turns health NOT_SERVING, so a probe
			// that began just before the signal and saw NOT_SERVING reports the drain, not a failing gRPC check.
			if !s.draining.Load() {
				writeJSON(w, status, body)
				return
			}
		}
		writeJSON(w, http.StatusServiceUnavailable, probeBody{Status: "fail", Checks: map[string]checkResult{
			"draining": {Status: "fail", LatencyMs: 0, Error: "shutting down"},
		}})
	})
	opsServer := &http.Server{Handler: ops, ReadHeaderTimeout: 5 * time.Second}
	adminServer := &http.Server{Handler: adminHandler(s), ReadHeaderTimeout: 5 * time.Second}
	for _, l := range []struct {
		name   string
		port   int
		server *http.Server
	}{{"ops listener", s.cfg.opsPort, opsServer}, {"admin listener", s.cfg.adminPort, adminServer}} {
		listener, err := listen(l.port)
		if err != nil {
			grpcServer.Stop()
			return fail(l.name, err)
		}
		go func() { _ = l.server.Serve(listener) }()
	}
	s.logger.Info("grpc listening", slog.Int("port", s.cfg.port), slog.Int("opsPort", s.cfg.opsPort),
		slog.Int("adminPort", s.cfg.adminPort))

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	reason := "SIGTERM"
	if <-signals == syscall.SIGINT {
		reason = "SIGINT"
	}
	return s.shutdown(reason, grpcServer, healthServer, closeReadyCheck, opsServer, adminServer)
}

// shutdown drains: /readyz answers 503 and health NOT_SERVING first (for the drain delay), then the gRPC server lets in-flight calls
// finish (bounded by drainTimeout), the HTTP listeners close, spans flush, logs flush; a hard deadline exits 1.
func (s *service) shutdown(reason string, grpcServer *grpc.Server, healthServer *health.Server,
	closeReadyCheck func() error, servers ...*http.Server) int {
	deadline := time.Now().Add(shutdownDeadline)
	// Resource faults first: held memory and a burning thread have no business in the drain.
	reverted := s.faults.revertResources()
	s.draining.Store(true)
	healthServer.Shutdown()
	s.logger.Info("shutting down", slog.String("reason", reason), slog.Int("revertedResourceFaults", reverted))
	hardStop := time.AfterFunc(shutdownDeadline, func() {
		s.logger.Error("shutdown deadline passed; exiting")
		s.logSink.Flush()
		os.Exit(1)
	})
	defer hardStop.Stop()
	_ = closeReadyCheck()
	// Callers that watch readiness stop sending before the listener stops accepting.
	time.Sleep(s.cfg.drainDelay)

	drained := make(chan struct{})
	go func() {
		grpcServer.GracefulStop()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		s.logger.Warn("calls still running after the drain timeout; cutting them",
			slog.Int64("drainTimeoutMs", drainTimeout.Milliseconds()))
		grpcServer.Stop()
		<-drained
	}

	httpCtx, cancelHTTP := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelHTTP()
	for _, server := range servers {
		if err := server.Shutdown(httpCtx); err != nil {
			_ = server.Close()
		}
	}

	spanCtx, cancelSpans := context.WithDeadline(context.Background(), deadline.Add(-300*time.Millisecond))
	defer cancelSpans()
	if err := s.tracing.shutdown(spanCtx); err != nil && !errors.Is(err, context.Canceled) {
		s.logger.Warn("flushing spans at shutdown failed", slog.String("err", err.Error()))
	}
	s.logger.Info("stopped")
	s.logSink.Flush()
	return 0
}

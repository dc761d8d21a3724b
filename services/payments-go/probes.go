package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime"
	runtimemetrics "runtime/metrics"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// checkTimeout is the per-check deadline (the recipe's 1 s, Kubernetes' default probe timeout).
const checkTimeout = time.Second

// maxGoroutines is where /healthz calls the goroutine count exploded (a leak), far above this service's ~20.
const maxGoroutines = 10_000

type check func(ctx context.Context) error

type checkResult struct {
	Status    string  `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"`
}

// probeBody is the Node kit's ProbeBody: {status, checks: {name: {status, latencyMs, error?}}}.
type probeBody struct {
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks"`
}

// runChecks runs every check concurrently with its own timeout; 503 when any fails.
func runChecks(ctx context.Context, checks map[string]check) (int, probeBody) {
	body := probeBody{Status: "ok", Checks: make(map[string]checkResult, len(checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, fn := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started := time.Now()
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- fn(cctx) }()
			var err error
			select {
			case err = <-done:
			case <-cctx.Done():
				err = fmt.Errorf("timed out after %d ms", checkTimeout.Milliseconds())
			}
			result := checkResult{Status: "ok", LatencyMs: math.Round(float64(time.Since(started).Microseconds())/10) / 100}
			if err != nil {
				result.Status, result.Error = "fail", err.Error()
			}
			mu.Lock()
			body.Checks[name] = result
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, r := range body.Checks {
		if r.Status != "ok" {
			body.Status = "fail"
			return http.StatusServiceUnavailable, body
		}
	}
	return http.StatusOK, body
}

// livenessChecks are local only (the recipe: never a dependency in /healthz): the heap is under its limit and the
// goroutine count has not exploded.
func livenessChecks(heapLimitBytes int64) map[string]check {
	return map[string]check{
		"heap": func(context.Context) error {
			// runtime/metrics instead of ReadMemStats: no stop-the-world on every probe.
			sample := []runtimemetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			runtimemetrics.Read(sample)
			used := int64(sample[0].Value.Uint64())
			if used > heapLimitBytes {
				return fmt.Errorf("heap used %d bytes > limit %d bytes", used, heapLimitBytes)
			}
			return nil
		},
		"goroutines": func(context.Context) error {
			if n := runtime.NumGoroutine(); n > maxGoroutines {
				return fmt.Errorf("%d goroutines > %d", n, maxGoroutines)
			}
			return nil
		},
	}
}

// grpcHealthCheck is readiness of a leaf gRPC service: its own listener answers grpc.health.v1 Check with
// SERVING. The client has no stats handler and no interceptor: probe traffic is neither traced nor measured.
func grpcHealthCheck(address string) (check, func() error, error) {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		response, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if response.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health of %s is %s", address, response.GetStatus())
		}
		return nil
	}, conn.Close, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

package main

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// The recipe counts calls in an interceptor, and otelgrpc traces them in a stats handler: the handler sees every
// RPC the server began, the interceptor only those that reached it. An RPC cancelled before (a frozen server that
// reads a call together with the RST_STREAM of a client that gave up on it) had a server span and no count, no
// request id: meshproof's process-freeze scenario found it. unreachedCalls wraps otelgrpc's handler and gives such
// an RPC its count, its duration and its span's request id, so metrics and traces see the same calls.

type callMarkKey struct{}

// callMark follows one RPC from TagRPC to End: whether the interceptor saw it, and the request id it came with.
type callMark struct {
	fullMethod string
	requestID  string
	reached    atomic.Bool
}

// markReached tells the stats handler that the interceptor chain took this call (it counts it there).
func markReached(ctx context.Context) {
	if mark, ok := ctx.Value(callMarkKey{}).(*callMark); ok {
		mark.reached.Store(true)
	}
}

type unreachedCalls struct {
	next    stats.Handler
	metrics *metrics
}

func (h unreachedCalls) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(h.next.TagRPC(ctx, info), callMarkKey{}, &callMark{fullMethod: info.FullMethodName})
}

func (h unreachedCalls) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if mark, ok := ctx.Value(callMarkKey{}).(*callMark); ok {
		switch event := s.(type) {
		case *stats.InHeader:
			if values := event.Header.Get("x-request-id"); len(values) > 0 && requestIDPattern.MatchString(values[0]) {
				mark.requestID = values[0]
			}
		case *stats.End:
			service, method := splitMethod(mark.fullMethod)
			if !mark.reached.Load() && service != healthService {
				code := codeName(status.Code(event.Error))
				if h.metrics.statusLabel200 {
					code = "OK" // the defect labels every call as the interceptor would
				}
				h.metrics.handled.WithLabelValues(service, method, code).Inc()
				h.metrics.handling.WithLabelValues(service, method, code).Observe(event.EndTime.Sub(event.BeginTime).Seconds())
				if mark.requestID != "" {
					trace.SpanFromContext(ctx).SetAttributes(attribute.String(requestIDAttribute, mark.requestID))
				}
			}
		}
	}
	h.next.HandleRPC(ctx, s) // otelgrpc ends the span on End: after the attribute above
}

func (h unreachedCalls) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	return h.next.TagConn(ctx, info)
}

func (h unreachedCalls) HandleConn(ctx context.Context, s stats.ConnStats) { h.next.HandleConn(ctx, s) }

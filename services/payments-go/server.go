package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "meshproof/payments-go/internal/paymentspb"
)

// declinedCard is the card the payment processor always declines (a business error, FAILED_PRECONDITION).
const declinedCard = "4000000000000002"

// paymentsService is meshproof.payments.v1.Payments, the full name its metrics and fault targets use.
const paymentsService = "meshproof.payments.v1.Payments"

// requestIDAttribute is the span attribute of the request id (DEFAULT_CONTRACT.requestIdAttribute).
const requestIDAttribute = "meshproof.request_id"

var (
	cardPattern      = regexp.MustCompile(`^\d{12,19}$`)
	requestIDPattern = regexp.MustCompile(`^[\w.:-]{1,128}$`)
)

// payments implements Charge exactly as services/payments/main.ts does; instrumentation lives in the interceptors.
type payments struct {
	pb.UnimplementedPaymentsServer
}

func (payments) Charge(_ context.Context, req *pb.ChargeRequest) (*pb.ChargeResponse, error) {
	if !cardPattern.MatchString(req.GetCard()) {
		return nil, status.Error(codes.InvalidArgument, "card must be 12-19 digits")
	}
	if req.GetAmountCents() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "amount must be > 0")
	}
	if req.GetCard() == declinedCard {
		return nil, status.Error(codes.FailedPrecondition, "card declined")
	}
	return &pb.ChargeResponse{PaymentId: uuid.NewString()}, nil
}

func codeName(c codes.Code) string {
	if int(c) < len(grpcCodeNames) {
		return grpcCodeNames[c]
	}
	return "UNKNOWN"
}

var codeByName = func() map[string]codes.Code {
	m := make(map[string]codes.Code, len(grpcCodeNames))
	for i, name := range grpcCodeNames {
		m[name] = codes.Code(i)
	}
	return m
}()

// callInterceptor is the Node kit's handler wrapper, run inside the server span otelgrpc's stats handler started:
// the request id (x-request-id metadata, else a new UUID) on the context and the span, the method's faults, ERROR
// status and the exception on the span for any non-OK code, and one log line per call. Faults run here, inside
// the traced call, so a call failed by a fault still has its server span.
func (s *service) callInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {
	service, method := splitMethod(info.FullMethod)
	if service == healthService {
		return handler(ctx, req)
	}
	requestID := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if values := md.Get("x-request-id"); len(values) > 0 && requestIDPattern.MatchString(values[0]) {
			requestID = values[0]
		}
	}
	if requestID == "" {
		requestID = uuid.NewString()
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String(requestIDAttribute, requestID))
	ctx = withRequestID(ctx, requestID)

	started := time.Now()
	decision := s.faults.decide(method, service+"/"+method)
	resp, err := s.runCall(ctx, req, handler, decision)
	code := status.Code(err)
	attrs := []any{
		slog.String("grpc_method", method),
		slog.String("grpc_code", codeName(code)),
		slog.Float64("durationMs", math.Round(float64(time.Since(started).Microseconds())/10)/100),
	}
	if decision.delayMs > 0 {
		attrs = append(attrs, slog.Int("fault_delay_ms", decision.delayMs))
	}
	if decision.err != nil {
		attrs = append(attrs, slog.String("fault_id", decision.err.ID))
	}
	if err != nil {
		message := status.Convert(err).Message()
		// Any non-OK code is an error on the server span, as in the Node kit (otelgrpc alone would leave client
		// errors such as INVALID_ARGUMENT unset); the SDK keeps ERROR when otelgrpc sets its status afterwards.
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, message)
		s.logger.WarnContext(ctx, "call failed", append(attrs, slog.String("err", message))...)
	} else {
		s.logger.InfoContext(ctx, "call completed", attrs...)
	}
	return resp, err
}

// runCall applies a fault decision (delay, then error) and otherwise calls the handler; an error that is not a
// gRPC status becomes INTERNAL.
func (s *service) runCall(ctx context.Context, req any, handler grpc.UnaryHandler,
	decision faultDecision) (any, error) {
	if decision.delayMs > 0 {
		timer := time.NewTimer(time.Duration(decision.delayMs) * time.Millisecond)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if f := decision.err; f != nil {
		code := codes.Unavailable
		if f.Code != nil {
			code = codeByName[*f.Code]
		}
		return nil, status.Error(code, fmt.Sprintf("injected fault %s", f.ID))
	}
	resp, err := handler(ctx, req)
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.Error(codes.Internal, err.Error())
		}
	}
	return resp, err
}

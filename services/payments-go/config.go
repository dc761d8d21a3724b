package main

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// defectNames are the negative controls services/lib/defects.ts defines. The harness hands every service the same
// MESHPROOF_DEFECTS, so all five are accepted; drop-context and readyz-ignores-redis change orders only, as in the
// Node payments service.
var defectNames = []string{
	"drop-context",
	"status-label-200",
	"readyz-ignores-redis",
	"no-runtime-metrics",
	"default-registry",
}

// config is the service's environment, validated as services/lib/config.ts validates it.
type config struct {
	serviceName    string
	instanceID     string
	port           int
	opsPort        int
	adminPort      int
	adminToken     string
	logFile        string
	otlpURL        string // "" when OTEL_SDK_DISABLED=true
	zipkinURL      string // OTEL_EXPORTER_ZIPKIN_ENDPOINT when OTEL_TRACES_EXPORTER=zipkin, else ""
	samplingRatio  float64
	seed           int64
	defects        map[string]bool
	heapLimitBytes int64
	// drainDelay: on SIGTERM, how long /readyz answers 503 (health NOT_SERVING) while the listeners still serve.
	drainDelay  time.Duration
	sdkDisabled bool
}

func (c *config) has(defect string) bool { return c.defects[defect] }

// configError names the variable that is wrong; main prints it and exits 2.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func invalid(name, raw, why string) error {
	return &configError{fmt.Sprintf("%s=%q is invalid: %s", name, raw, why)}
}

var (
	serviceNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	otlpURLPattern     = regexp.MustCompile(`^https?://127\.0\.0\.1:\d{1,5}/?$`)
)

type envReader func(string) string

func (env envReader) required(name, meaning string) (string, error) {
	raw := env(name)
	if raw == "" {
		return "", &configError{fmt.Sprintf("%s is required (%s)", name, meaning)}
	}
	return raw, nil
}

// number parses like JavaScript's Number() on a trimmed string (what zod's coerce does), finite only.
func number(raw string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func (env envReader) port(name, meaning string) (int, error) {
	raw, err := env.required(name, meaning)
	if err != nil {
		return 0, err
	}
	v, ok := number(raw)
	if !ok || v != math.Trunc(v) || v < 1 || v > 65535 {
		return 0, invalid(name, raw, "must be an integer port 1..65535")
	}
	return int(v), nil
}

func loadConfig(getenv func(string) string) (*config, error) {
	env := envReader(getenv)
	c := &config{defects: map[string]bool{}}
	var err error
	if c.serviceName, err = env.required("MESHPROOF_SERVICE_NAME", "service.name of spans, logs and metrics"); err != nil {
		return nil, err
	}
	if !serviceNamePattern.MatchString(c.serviceName) {
		return nil, invalid("MESHPROOF_SERVICE_NAME", c.serviceName, "must be a lower-case name")
	}
	c.instanceID = env("MESHPROOF_INSTANCE_ID")
	if c.instanceID == "" {
		c.instanceID = fmt.Sprintf("%s-%d", c.serviceName, os.Getpid())
	}
	if c.port, err = env.port("MESHPROOF_PORT", "gRPC listener"); err != nil {
		return nil, err
	}
	if c.opsPort, err = env.port("MESHPROOF_OPS_PORT", "HTTP listener for /metrics, /healthz, /readyz"); err != nil {
		return nil, err
	}
	if c.adminPort, err = env.port("MESHPROOF_ADMIN_PORT", "admin API listener on 127.0.0.1"); err != nil {
		return nil, err
	}
	if c.adminToken, err = env.required("MESHPROOF_ADMIN_TOKEN", "bearer token of the admin API"); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(c.adminToken) < 16 {
		// The token itself is never echoed.
		return nil, &configError{"MESHPROOF_ADMIN_TOKEN is invalid: must be at least 16 characters"}
	}
	if c.logFile, err = env.required("MESHPROOF_LOG_FILE", "structured JSON log lines are appended here"); err != nil {
		return nil, err
	}
	c.sdkDisabled = strings.EqualFold(env("OTEL_SDK_DISABLED"), "true")
	if !c.sdkDisabled {
		if c.otlpURL, err = env.required("MESHPROOF_OTLP_URL", "OTLP/HTTP base URL of the trace backend"); err != nil {
			return nil, err
		}
		if !otlpURLPattern.MatchString(c.otlpURL) {
			return nil, invalid("MESHPROOF_OTLP_URL", c.otlpURL, "must be http://127.0.0.1:<port>")
		}
		c.otlpURL = strings.TrimSuffix(c.otlpURL, "/")
		switch exporter := env("OTEL_TRACES_EXPORTER"); exporter {
		case "", "otlp":
		case "zipkin":
			if c.zipkinURL, err = env.required("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "Zipkin's span intake (/api/v2/spans)"); err != nil {
				return nil, err
			}
		default:
			return nil, invalid("OTEL_TRACES_EXPORTER", exporter, "must be otlp or zipkin")
		}
	}
	c.samplingRatio = 1
	if raw := env("MESHPROOF_SAMPLING_RATIO"); raw != "" {
		v, ok := number(raw)
		if !ok || v < 0 || v > 1 {
			return nil, invalid("MESHPROOF_SAMPLING_RATIO", raw, "must be a number within 0..1")
		}
		c.samplingRatio = v
	}
	c.seed = 1
	if raw := env("MESHPROOF_SEED"); raw != "" {
		v, ok := number(raw)
		if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<53-1 {
			return nil, invalid("MESHPROOF_SEED", raw, "must be an integer")
		}
		c.seed = int64(v)
	}
	for _, name := range strings.Split(env("MESHPROOF_DEFECTS"), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		known := false
		for _, d := range defectNames {
			known = known || d == name
		}
		if !known {
			return nil, &configError{fmt.Sprintf("MESHPROOF_DEFECTS: unknown defect %q; valid: %s", name,
				strings.Join(defectNames, ", "))}
		}
		c.defects[name] = true
	}
	c.heapLimitBytes = 1 << 30
	if raw := env("MESHPROOF_HEAP_LIMIT_BYTES"); raw != "" {
		v, ok := number(raw)
		if !ok || v != math.Trunc(v) || v <= 0 || v > 1<<62 {
			return nil, invalid("MESHPROOF_HEAP_LIMIT_BYTES", raw, "must be a positive integer")
		}
		c.heapLimitBytes = int64(v)
	}
	c.drainDelay = 500 * time.Millisecond
	if raw := env("MESHPROOF_DRAIN_DELAY_MS"); raw != "" {
		v, ok := number(raw)
		if !ok || v != math.Trunc(v) || v < 0 || v > 60_000 {
			return nil, invalid("MESHPROOF_DRAIN_DELAY_MS", raw, "must be an integer 0..60000")
		}
		c.drainDelay = time.Duration(v) * time.Millisecond
	}
	return c, nil
}

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// grpcCodeNames are the gRPC code names by number, the label values of grpc_code (services/lib/error-map.ts).
var grpcCodeNames = []string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
	"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// fault is one active fault, serialised as services/lib/faults.ts returns it ({...spec, id}): request faults
// (error, latency) have a target and a rate, resource faults (memory, cpu) their own parameter and no target.
type fault struct {
	Kind     string   `json:"kind"`
	Target   string   `json:"target,omitempty"`
	Rate     *float64 `json:"rate,omitempty"`
	Status   *int     `json:"status,omitempty"`
	Code     *string  `json:"code,omitempty"`
	Ms       *int     `json:"ms,omitempty"`
	JitterMs *int     `json:"jitterMs,omitempty"`
	MB       *int     `json:"mb,omitempty"`
	Fraction *float64 `json:"fraction,omitempty"`
	ID       string   `json:"id"`
	random   func() float64
	effect   resourceEffect
}

// faultDecision is what the call wrapper must do for one call.
type faultDecision struct {
	delayMs int
	err     *fault // the error fault that fires, if any
}

// seededRandom is mulberry32 exactly as services/lib/faults.ts has it: uint32 arithmetic is what Math.imul and the
// >>> 0 coercions compute, so the same seed yields the same sequence as the Node service.
func seededRandom(seed uint32) func() float64 {
	state := seed
	return func() float64 {
		state += 0x6d2b79f5
		t := state
		t = (t ^ (t >> 15)) * (t | 1)
		t ^= t + (t^(t>>7))*(t|61)
		return float64(t^(t>>14)) / 4294967296
	}
}

// faultRegistry mirrors FaultRegistry of services/lib/faults.ts: fault n gets its own generator seeded from
// (seed, n), and decisions walk the faults in insertion order. Resource faults take an id from the same sequence
// and make no decisions: their effect runs from add until remove/clear.
type faultRegistry struct {
	mu          sync.Mutex
	seed        int64
	serviceName string
	faults      []*fault
	nextID      int
	onApplied   func(kind, target string)
	startEffect func(*fault) resourceEffect
}

// newFaultRegistry: serviceName is the target label of resource faults on meshproof_faults_injected_total.
func newFaultRegistry(seed int64, serviceName string, onApplied func(kind, target string)) *faultRegistry {
	return &faultRegistry{seed: seed, serviceName: serviceName, nextID: 1, onApplied: onApplied,
		startEffect: startResourceEffect}
}

// add validates a fault body (the admin API's POST) and activates it; a resource fault's effect is in place (its
// memory held, its goroutine burning) when add returns, and is counted once.
func (r *faultRegistry) add(body []byte) (*fault, error) {
	f, err := parseFault(body)
	if err != nil {
		return nil, err
	}
	if isResourceKind(f.Kind) {
		// Outside the lock: holding a GB takes a while, and decide() must not wait for it.
		f.effect = r.startEffect(f)
		r.onApplied(f.Kind, r.serviceName)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nextID
	r.nextID++
	f.ID = fmt.Sprintf("f%d", n)
	// (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0: ToInt32 of the seed is its low 32 bits.
	f.random = seededRandom(uint32(r.seed) ^ (uint32(n) * 0x9e3779b1))
	r.faults = append(r.faults, f)
	return f, nil
}

// remove removes a fault; a resource fault's effect is undone before it returns.
func (r *faultRegistry) remove(id string) bool {
	removed := r.take(func(f *fault) bool { return f.ID == id })
	stopEffects(removed)
	return len(removed) > 0
}

func (r *faultRegistry) clear() int {
	removed := r.take(func(*fault) bool { return true })
	stopEffects(removed)
	return len(removed)
}

// revertResources removes the resource faults only (shutdown: stop burning and holding before draining).
func (r *faultRegistry) revertResources() int {
	removed := r.take(func(f *fault) bool { return f.effect != nil })
	stopEffects(removed)
	return len(removed)
}

// take removes the faults that match under the lock; their effects are stopped outside it.
func (r *faultRegistry) take(match func(*fault) bool) []*fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	var removed []*fault
	kept := r.faults[:0]
	for _, f := range r.faults {
		if match(f) {
			removed = append(removed, f)
		} else {
			kept = append(kept, f)
		}
	}
	r.faults = kept
	return removed
}

func stopEffects(faults []*fault) {
	for _, f := range faults {
		if f.effect != nil {
			f.effect.stop()
		}
	}
}

func (r *faultRegistry) list() []*fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*fault{}, r.faults...)
}

// decide is FaultRegistry.decide: names are what the call answers to ("Charge", "<service>/Charge").
func (r *faultRegistry) decide(names ...string) faultDecision {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d faultDecision
	for _, f := range r.faults {
		if f.Kind != "error" && f.Kind != "latency" {
			continue
		}
		if f.Target != "*" && !contains(names, f.Target) {
			continue
		}
		if f.Kind == "latency" {
			if f.random() >= *f.Rate {
				continue
			}
			jitter := 0.0
			if *f.JitterMs != 0 {
				jitter = (f.random()*2 - 1) * float64(*f.JitterMs)
			}
			d.delayMs += int(math.Max(0, jsRound(float64(*f.Ms)+jitter)))
			r.onApplied("latency", f.Target)
		} else if d.err == nil && f.random() < *f.Rate {
			d.err = f
			r.onApplied("error", f.Target)
		}
	}
	return d
}

// jsRound is Math.round: halves round towards +Infinity.
func jsRound(v float64) float64 { return math.Floor(v + 0.5) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// faultError is a 400 of the admin API; the message names the bad key.
type faultError struct{ msg string }

func (e *faultError) Error() string { return e.msg }

func badKey(key, format string, args ...any) error {
	return &faultError{key + ": " + fmt.Sprintf(format, args...)}
}

var faultKeys = map[string][]string{
	"error":   {"kind", "target", "rate", "status", "code"},
	"latency": {"kind", "target", "ms", "jitterMs", "rate"},
	"memory":  {"kind", "mb"},
	"cpu":     {"kind", "fraction"},
}

// parseFault validates like AdminFaultSchema (a strict discriminated union on kind): unknown keys are rejected,
// optional keys may be absent but not null, latency defaults are filled in (jitterMs 0, rate 1). A stall fault
// is refused whatever its parameters: it blocks an event loop, and the Go runtime has none.
func parseFault(body []byte) (*fault, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, &faultError{"the body must be a JSON object"}
	}
	var kind string
	kindErr := json.Unmarshal(raw["kind"], &kind)
	if kindErr == nil && kind == "stall" {
		return nil, badKey("kind", "stall is not supported by the go runtime (it has no event loop to block; "+
			"cpu and latency faults apply)")
	}
	if kindErr != nil || faultKeys[kind] == nil {
		got := string(raw["kind"])
		if got == "" {
			got = "nothing"
		}
		return nil, badKey("kind", `must be "error", "latency", "memory" or "cpu" (got %s)`, got)
	}
	var unknown []string
	for key := range raw {
		if !contains(faultKeys[kind], key) {
			unknown = append(unknown, fmt.Sprintf("%q", key))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &faultError{fmt.Sprintf("unrecognized key(s) %s for a %s fault (allowed: %s)",
			strings.Join(unknown, ", "), kind, strings.Join(faultKeys[kind], ", "))}
	}
	f := &fault{Kind: kind}
	switch kind {
	case "memory":
		mb, err := numberKey(raw, "mb", false, 0, 1, 4096, true)
		if err != nil {
			return nil, err
		}
		mbInt := int(mb)
		f.MB = &mbInt
		return f, nil
	case "cpu":
		fraction, err := numberKey(raw, "fraction", false, 0, 0.05, 1, false)
		if err != nil {
			return nil, err
		}
		f.Fraction = &fraction
		return f, nil
	}
	if err := stringKey(raw, "target", &f.Target); err != nil {
		return nil, err
	}
	rate, err := numberKey(raw, "rate", kind == "latency", 1, 0, 1, false)
	if err != nil {
		return nil, err
	}
	f.Rate = &rate
	if kind == "error" {
		if _, ok := raw["status"]; ok {
			v, err := numberKey(raw, "status", false, 0, 400, 599, true)
			if err != nil {
				return nil, err
			}
			status := int(v)
			f.Status = &status
		}
		if _, ok := raw["code"]; ok {
			var code string
			if json.Unmarshal(raw["code"], &code) != nil || code == "OK" || !contains(grpcCodeNames, code) {
				return nil, badKey("code", "must be a gRPC code name other than OK (%s)",
					strings.Join(grpcCodeNames[1:], ", "))
			}
			f.Code = &code
		}
		return f, nil
	}
	ms, err := numberKey(raw, "ms", false, 0, 0, 60_000, true)
	if err != nil {
		return nil, err
	}
	jitter, err := numberKey(raw, "jitterMs", true, 0, 0, 60_000, true)
	if err != nil {
		return nil, err
	}
	msInt, jitterInt := int(ms), int(jitter)
	f.Ms, f.JitterMs = &msInt, &jitterInt
	return f, nil
}

func stringKey(raw map[string]json.RawMessage, key string, out *string) error {
	value, ok := raw[key]
	if !ok {
		return badKey(key, "is required")
	}
	if json.Unmarshal(value, out) != nil || *out == "" {
		return badKey(key, "must be a non-empty string (got %s)", value)
	}
	return nil
}

// numberKey reads a JSON number within [min, max]; an absent optional key takes fallback.
func numberKey(raw map[string]json.RawMessage, key string, optional bool, fallback, min, max float64,
	integer bool) (float64, error) {
	value, ok := raw[key]
	if !ok {
		if optional {
			return fallback, nil
		}
		return 0, badKey(key, "is required")
	}
	var v float64
	what := "a number"
	if integer {
		what = "an integer"
	}
	// json.Unmarshal leaves v alone for null; zod's optional() does not accept null either.
	if string(value) == "null" || json.Unmarshal(value, &v) != nil || (integer && v != math.Trunc(v)) || v < min || v > max {
		return 0, badKey(key, "must be %s within %g..%g (got %s)", what, min, max, value)
	}
	return v, nil
}

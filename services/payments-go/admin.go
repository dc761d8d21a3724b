package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"
)

// flushTimeout bounds POST /admin/flush (the Node exporter's 10 s timeout).
const flushTimeout = 10 * time.Second

var faultPath = regexp.MustCompile(`^/admin/faults/([\w-]+)$`)

// adminHandler is the admin API of services/lib/admin.ts: GET/POST/DELETE /admin/faults, DELETE
// /admin/faults/:id, POST /admin/flush, plus GET /admin/telemetry (span counts). Every request, to any path,
// needs `Authorization: Bearer <token>`; else 401.
func adminHandler(s *service) http.Handler {
	expected := []byte("Bearer " + s.cfg.adminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), expected) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="meshproof-admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		path, method := r.URL.Path, r.Method
		switch {
		case path == "/admin/faults" && method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list()})
		case path == "/admin/faults" && method == http.MethodPost:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid fault: " + err.Error()})
				return
			}
			f, err := s.faults.add(body)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid fault: " + err.Error()})
				return
			}
			writeJSON(w, http.StatusCreated, f)
		case path == "/admin/faults" && method == http.MethodDelete:
			writeJSON(w, http.StatusOK, map[string]int{"removed": s.faults.clear()})
		case faultPath.MatchString(path) && method == http.MethodDelete:
			id := faultPath.FindStringSubmatch(path)[1]
			if s.faults.remove(id) {
				writeJSON(w, http.StatusOK, map[string]int{"removed": 1})
			} else {
				writeJSON(w, http.StatusNotFound, map[string]string{"error": "no fault " + id})
			}
		case path == "/admin/flush" && method == http.MethodPost:
			ctx, cancel := context.WithTimeout(r.Context(), flushTimeout)
			defer cancel()
			err := s.tracing.flush(ctx)
			s.logSink.Flush()
			if err != nil {
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "flushing spans: " + err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, map[string]bool{"flushed": true})
		case path == "/admin/telemetry" && method == http.MethodGet:
			c := s.tracing.counts
			writeJSON(w, http.StatusOK, map[string]any{"spans": map[string]int64{
				"started":        c.started.Load(),
				"ended":          c.ended.Load(),
				"exported":       c.exported.Load(),
				"exportFailures": c.exportFailures.Load(),
			}})
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no admin route %s %s", method, path)})
		}
	})
}

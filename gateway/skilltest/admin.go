package skilltest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// AdminHandler serves the admin API: GET /sim/state, /sim/endpoints,
// /sim/events[?since=N]; POST /sim/directive[?wait=10s] (a DirectiveRequest),
// /sim/accept-grant, /sim/discover, /sim/fault (a Fault).
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.State()) })
	mux.HandleFunc("GET /sim/endpoints", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Endpoints()) })
	mux.HandleFunc("GET /sim/events", func(w http.ResponseWriter, r *http.Request) {
		recs := s.Records()
		if v := r.URL.Query().Get("since"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "since must be a non-negative integer")
				return
			}
			recs = recs[min(n, len(recs)):]
		}
		if recs == nil {
			recs = []Record{}
		}
		writeJSON(w, http.StatusOK, recs)
	})
	mux.HandleFunc("POST /sim/accept-grant", func(w http.ResponseWriter, r *http.Request) {
		if err := s.AcceptGrant(r.Context()); err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "linked"})
	})
	mux.HandleFunc("POST /sim/discover", func(w http.ResponseWriter, r *http.Request) {
		eps, err := s.Discover(r.Context())
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"endpoints": eps})
	})
	mux.HandleFunc("POST /sim/directive", func(w http.ResponseWriter, r *http.Request) {
		var req DirectiveRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		wait := time.Duration(0)
		if v := r.URL.Query().Get("wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 5*time.Minute {
				writeError(w, http.StatusBadRequest, "wait must be a duration such as 10s (at most 5m)")
				return
			}
			wait = d
		}
		ctx := r.Context()
		if wait > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, wait)
			defer cancel()
		}
		res, err := s.SendDirective(ctx, req, wait > 0)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			writeJSON(w, http.StatusGatewayTimeout, res)
		case err != nil && len(res.Events) == 0:
			writeError(w, http.StatusBadGateway, err.Error())
		default:
			writeJSON(w, http.StatusOK, res)
		}
	})
	mux.HandleFunc("POST /sim/fault", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := decodeJSON(r, &f); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := s.Inject(f); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

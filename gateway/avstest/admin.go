package avstest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// IssuePath is the admin path that mints a token pair without linking.
const IssuePath = "/sim/tokens/issue"

// IssuedToken is the JSON answer of POST /sim/tokens/issue (LWA's token shape).
type IssuedToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// IssueToken mints a token pair from the LWA emulator, as if linking had completed.
func (s *Server) IssueToken() IssuedToken {
	t := s.lwa.Issue()
	return IssuedToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "bearer",
		ExpiresIn: int(time.Until(t.Expiry).Round(time.Second).Seconds())}
}

// AdminHandler serves the admin API (plain HTTP, JSON in and out):
//
//	GET  /sim/state              connection, post-connect, last ping
//	GET  /sim/endpoints          endpoints as Alexa now knows them
//	GET  /sim/events[?since=N]   events received (N: index of the first)
//	POST /sim/directive[?wait=10s]  {"namespace","name","endpointId","instance","payload"}
//	POST /sim/fault              {"kind":"goaway|drop-downchannel|expire-token|stall|status|clear",…}
//	POST /sim/tokens/issue       a token pair without linking
//
// plus the LWA emulator's /sim/cbl/approve, /sim/cbl/deny and /sim/tokens/revoke.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	lwaAdmin := s.lwa.AdminHandler()
	mux.Handle(lwatest.ApprovePath, lwaAdmin)
	mux.Handle(lwatest.DenyPath, lwaAdmin)
	mux.Handle(lwatest.RevokePath, lwaAdmin)
	mux.HandleFunc("GET /sim/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.State()) })
	mux.HandleFunc("GET /sim/endpoints", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Endpoints())
	})
	mux.HandleFunc("GET /sim/events", func(w http.ResponseWriter, r *http.Request) {
		recs := s.Events()
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
	mux.HandleFunc("POST /sim/directive", s.serveAdminDirective)
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
	mux.HandleFunc("POST "+IssuePath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.IssueToken())
	})
	return mux
}

func (s *Server) serveAdminDirective(w http.ResponseWriter, r *http.Request) {
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
	case errors.Is(err, errNoDownchannel):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusGatewayTimeout, res)
	case err != nil && res.Directive == nil:
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("bad JSON body: " + err.Error())
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

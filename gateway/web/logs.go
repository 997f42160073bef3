package web

import (
	"net/http"
	"strconv"

	"github.com/avshub/avshub/gateway/logging"
)

// LogSource is a Source that keeps its recent log records in memory (the
// hub: logging.Factory's ring) for the log view and /api/v1/logs.
type LogSource interface {
	LogRing() *logging.Ring
}

// Logs is the reply of GET /api/v1/logs: the records selected, oldest first;
// every component that has logged (for the filter); Last, the newest record's
// number, which the next poll passes as after.
type Logs struct {
	Records    []logging.Record `json:"records"`
	Components []string         `json:"components"`
	Last       uint64           `json:"last"`
}

// Bounds of one reply of /api/v1/logs.
const (
	DefaultLogLimit = 500
	MaxLogLimit     = logging.DefaultRingSize
)

func (s *Server) ring() *logging.Ring {
	if ls, ok := s.src.(LogSource); ok {
		return ls.LogRing()
	}
	return nil
}

// logs answers GET /api/v1/logs?level=&component=&after=&limit=.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	ring := s.ring()
	if ring == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this hub keeps no log in memory"})
		return
	}
	q, err := logQuery(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	last := ring.Last() // before the records: a record logged in between comes again, never goes missing
	recs := ring.Records(q)
	if recs == nil {
		recs = []logging.Record{}
	}
	writeJSON(w, http.StatusOK, Logs{Records: recs, Components: ring.Components(), Last: max(last, lastSeq(recs))})
}

func lastSeq(recs []logging.Record) uint64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

type queryError string

func (e queryError) Error() string { return string(e) }

func logQuery(r *http.Request) (logging.Query, error) {
	v := r.URL.Query()
	q := logging.Query{Component: v.Get("component"), Limit: DefaultLogLimit}
	var ok bool
	if q.Level, ok = logging.ParseLevel(v.Get("level")); !ok {
		return q, queryError("level must be debug, info, warn or error")
	}
	if a := v.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return q, queryError("after must be a record number (the last of the previous reply)")
		}
		q.After = n
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLogLimit {
			return q, queryError("limit must be 1 to " + strconv.Itoa(MaxLogLimit))
		}
		q.Limit = n
	}
	return q, nil
}

type logPage struct {
	Status     Status
	Components []string
	Level      string
	Component  string
	Levels     []string
	Available  bool
}

// logPage serves the log view: filters and the newest records, kept up to
// date by the page's script polling /api/v1/logs.
func (s *Server) logPage(w http.ResponseWriter, r *http.Request) {
	d := logPage{Status: s.src.Status(), Level: r.URL.Query().Get("level"), Component: r.URL.Query().Get("component"),
		Levels: []string{"debug", "info", "warn", "error"}}
	if _, ok := logging.ParseLevel(d.Level); !ok {
		d.Level = ""
	}
	if ring := s.ring(); ring != nil {
		d.Available = true
		d.Components = ring.Components()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl().ExecuteTemplate(w, "logs.html", d); err != nil {
		s.log.Error("log page", "err", err)
	}
}

package znpsim

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Handler returns the admin API: GET /sim/devices, POST /sim/devices/{ieee}/set
// (a JSON object of attribute names to integers), POST /sim/devices/{ieee}/offline,
// /online, /hang, /revive, /leave and /rejoin, POST /sim/unplug, /sim/replug and /sim/noise.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/devices", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Devices())
	})
	mux.HandleFunc("POST /sim/devices/{ieee}/set", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]int64
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		if err := dec.Decode(&v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be a JSON object of attribute names to integers: " + err.Error()})
			return
		}
		reply(w, s.Set(r.PathValue("ieee"), v))
	})
	for _, op := range []struct {
		name string
		fn   func(string) error
	}{
		{"offline", func(id string) error { return s.SetOnline(id, false) }},
		{"online", func(id string) error { return s.SetOnline(id, true) }},
		{"leave", s.Leave},
		{"hang", func(id string) error { return s.SetHung(id, true) }},
		{"revive", func(id string) error { return s.SetHung(id, false) }},
		{"rejoin", s.Rejoin},
	} {
		mux.HandleFunc("POST /sim/devices/{ieee}/"+op.name, func(w http.ResponseWriter, r *http.Request) {
			reply(w, op.fn(r.PathValue("ieee")))
		})
	}
	mux.HandleFunc("POST /sim/unplug", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Unplug()) })
	mux.HandleFunc("POST /sim/replug", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Replug()) })
	mux.HandleFunc("POST /sim/noise", func(w http.ResponseWriter, r *http.Request) { s.Noise(); reply(w, nil) })
	return mux
}

func reply(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case errors.Is(err, ErrUnknownDevice):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

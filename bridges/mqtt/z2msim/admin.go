package z2msim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Handler returns the admin API (plain HTTP, JSON):
//
//	GET  /sim/devices                 every device with its state and availability
//	POST /sim/devices/{name}/set      body: a JSON object of values, applied "by hand"
//	POST /sim/devices/{name}/offline  take the device offline (availability)
//	POST /sim/devices/{name}/online   bring it back
//
// {name} is the friendly name, path-escaped; it may contain "/".
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/devices", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Devices())
	})
	mux.HandleFunc("POST /sim/devices/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		rest := r.PathValue("rest")
		i := strings.LastIndexByte(rest, '/')
		if i <= 0 {
			writeError(w, http.StatusNotFound, "want /sim/devices/{name}/set|offline|online")
			return
		}
		name, action := rest[:i], rest[i+1:]
		var err error
		switch action {
		case "set":
			var values map[string]any
			body, rerr := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if rerr != nil || json.Unmarshal(body, &values) != nil || values == nil {
				writeError(w, http.StatusBadRequest, "body must be a JSON object of values")
				return
			}
			var d Device
			if d, err = s.Set(name, values); err == nil {
				writeJSON(w, http.StatusOK, d)
				return
			}
		case "offline", "online":
			if err = s.SetOnline(name, action == "online"); err == nil {
				d, _ := s.Device(name)
				writeJSON(w, http.StatusOK, d)
				return
			}
		default:
			writeError(w, http.StatusNotFound, "unknown action "+action)
			return
		}
		if errors.Is(err, ErrUnknownDevice) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeError(w, http.StatusBadRequest, err.Error())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

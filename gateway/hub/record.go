package hub

import (
	"encoding/json"
	"os"
	"sync"
)

// dashboardRecorder returns an OnPublish hook appending every dashboard
// message to dashboard.recordFile as a JSON line, or nil when it is not set.
func (h *Hub) dashboardRecorder() func(topic string, retained bool, payload []byte) {
	path := h.cfg.Dashboard.RecordFile
	if path == "" {
		return nil
	}
	var mu sync.Mutex
	return func(topic string, retained bool, payload []byte) {
		line := struct {
			Topic    string          `json:"topic"`
			Retained bool            `json:"retained"`
			Payload  json.RawMessage `json:"payload"`
		}{Topic: topic, Retained: retained, Payload: payload}
		if len(payload) == 0 || !json.Valid(payload) {
			s, _ := json.Marshal(string(payload))
			line.Payload = s
		}
		b, err := json.Marshal(line)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			h.log.Warn("dashboard record file", "err", err)
			return
		}
		_, _ = f.Write(append(b, '\n'))
		f.Close()
	}
}

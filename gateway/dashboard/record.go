package dashboard

import (
	"encoding/json"
	"io"
	"sync"
)

// RecordedMessage is one line of a dashboard message recording (e.g.
// .demo/dashboard-messages.jsonl). Payload is the message text; an empty
// payload (a cleared retained message) is "".
type RecordedMessage struct {
	Topic    string `json:"topic"`
	Retained bool   `json:"retained"`
	Payload  string `json:"payload"`
}

// Recorder returns an OnPublish function writing one JSON line per published
// message to w. Write errors are counted, not fatal; the count is returned by
// the second function.
func Recorder(w io.Writer) (onPublish func(topic string, retained bool, payload []byte), failures func() int) {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	return func(topic string, retained bool, payload []byte) {
			mu.Lock()
			defer mu.Unlock()
			if enc.Encode(RecordedMessage{Topic: topic, Retained: retained, Payload: string(payload)}) != nil {
				n++
			}
		}, func() int {
			mu.Lock()
			defer mu.Unlock()
			return n
		}
}

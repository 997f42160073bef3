package mqtt

import (
	"log/slog"
	"strconv"
	"sync"

	"github.com/avshub/avshub/discovery/model"
)

// unit is one endpoint a source bridges: the device as the hub sees it, plus
// how to command it.
type unit struct {
	dev model.Device
	// command turns one validated command into the MQTT messages to publish.
	command func(c model.Command, cur model.State) ([]outMsg, error)
	// assume, when set, marks an optimistic endpoint (no state topic): the
	// state a command should cause is taken as the device's state.
	assume func(s model.State)
}

// outMsg is one message to publish.
type outMsg struct {
	topic   string
	payload []byte
	retain  bool
}

// Skip is one device or entity the bridge saw but does not bridge, with why.
type Skip struct {
	Source string `json:"source"` // "zigbee2mqtt" or "homeassistant"
	ID     string `json:"id"`     // friendly name or discovery topic
	Reason string `json:"reason"`
}

// onceLog logs a problem once per subject: again only when the reason changes.
type onceLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[string]string
}

func newOnceLog(log *slog.Logger) *onceLog { return &onceLog{log: log, seen: map[string]string{}} }

// warn logs reason for subject unless it was the last reason logged for it.
func (o *onceLog) warn(subject, reason string, attrs ...any) {
	o.mu.Lock()
	prev, ok := o.seen[subject]
	o.seen[subject] = reason
	o.mu.Unlock()
	if ok && prev == reason {
		return
	}
	o.log.Warn("mqtt: skipping bad input", append([]any{"subject", subject, "reason", reason}, attrs...)...)
}

// clear forgets subject, so its next problem is logged again.
func (o *onceLog) clear(subject string) {
	o.mu.Lock()
	delete(o.seen, subject)
	o.mu.Unlock()
}

func strconvQuote(s string) string { return strconv.Quote(s) }

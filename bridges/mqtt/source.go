package mqtt

import (
	"hash/maphash"
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
	// failSeq and failure, when set, report commands the peer said it could
	// not carry out: failure returns the first failure of one of props
	// after the failSeq a command noted before publishing. Both run with
	// the bridge's lock held.
	failSeq func() uint64
	failure func(after uint64, props []string) *model.Error
}

// outMsg is one message to publish.
type outMsg struct {
	topic   string
	payload []byte
	retain  bool
	props   []string // the device properties it sets (zigbee2mqtt)
}

// Skip is one device or entity the bridge saw but does not bridge, with why.
type Skip struct {
	Source string `json:"source"`         // "zigbee2mqtt" or "homeassistant"
	ID     string `json:"id"`             // friendly name or discovery topic
	Part   string `json:"part,omitempty"` // the expose or entity not imported; empty: the whole device
	Reason string `json:"reason"`
}

// logSkipped logs one skip in the shape `avshub plugin check` collects:
// message "skipped" with item, part and reason.
// A big installation has tens of thousands of skips: they are remembered by
// a 64-bit hash of item and part, not by a copy of both.
func (o *onceLog) logSkipped(s Skip) {
	var h maphash.Hash
	h.SetSeed(o.seed)
	h.WriteString(s.ID)
	h.WriteByte(0)
	h.WriteString(s.Part)
	key := h.Sum64()
	o.mu.Lock()
	prev, ok := o.skipped[key]
	o.skipped[key] = s.Reason
	o.mu.Unlock()
	if ok && prev == s.Reason {
		return
	}
	o.log.Info("skipped", "item", s.ID, "part", s.Part, "reason", s.Reason, "source", s.Source)
}

// onceLog logs a problem once per subject: again only when the reason changes.
type onceLog struct {
	log     *slog.Logger
	mu      sync.Mutex
	seen    map[string]string
	skipped map[uint64]string // logSkipped's: by hash of item and part
	seed    maphash.Seed
}

func newOnceLog(log *slog.Logger) *onceLog {
	return &onceLog{log: log, seen: map[string]string{}, skipped: map[uint64]string{}, seed: maphash.MakeSeed()}
}

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

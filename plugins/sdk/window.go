package sdk

import (
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// PairingWindow reports a bridge's pairing window (open, closed when its time
// is up or early) and the steps of the devices joining during it, each with
// the window's remaining time. Its zero value is closed; Emitter must be set.
type PairingWindow struct {
	// Emitter returns where reports go (nil: nowhere, e.g. before Run).
	Emitter func() Emitter

	mu    sync.Mutex
	until time.Time
	timer *time.Timer
}

// Open opens the window until the given time (or moves its end) and reports
// it with detail; the end is reported when the time is up.
func (w *PairingWindow) Open(until time.Time, detail string) {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.until = until
	w.timer = time.AfterFunc(time.Until(until), func() {
		w.Report(model.PairingClosed, "", "the network is closed for joining", nil)
	})
	w.mu.Unlock()
	w.Report(model.PairingOpen, "", detail, nil)
}

// Close ends the window early and reports why.
func (w *PairingWindow) Close(why string) {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.until = time.Now()
	w.mu.Unlock()
	w.Report(model.PairingClosed, "", why, nil)
}

// Until is the window's end (in the past when it is closed).
func (w *PairingWindow) Until() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.until
}

// Report reports one pairing step (of the window when id is empty, else of
// the device id) with the window's remaining time.
func (w *PairingWindow) Report(stage model.PairingStage, id, detail string, ep *model.Endpoint) {
	w.mu.Lock()
	left := max(time.Until(w.until), 0).Round(time.Second)
	w.mu.Unlock()
	var em Emitter
	if w.Emitter != nil {
		em = w.Emitter()
	}
	if em == nil {
		return
	}
	em.Pairing(model.Pairing{Stage: stage, DeviceID: id, Detail: detail, Remaining: left, Endpoint: ep})
}

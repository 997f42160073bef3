package host

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// TestPairingProgressAndRemove: a bridge process that declares pairing
// progress and removing (API 1.1) has its progress passed to the Sink in
// order (the step's text cleaned) and removes a device on request.
func TestPairingProgressAndRemove(t *testing.T) {
	s, rec := startSupervisor(t, Config{Name: "joins", Path: crashBin, Env: []string{"PAIR_AND_REMOVE=1"}, Config: []byte(crashConfig)})
	eventually(t, 10*time.Second, "snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	if d := s.Description(); !d.Remove || !d.PairingProgress {
		t.Fatalf("description %+v lacks the 1.1 capabilities", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.StartPairing(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var progress []model.Pairing
	eventually(t, 10*time.Second, "the device published", func() bool {
		progress = progress[:0]
		for _, ev := range rec.snapshot() {
			if ev.Kind == model.EventPairing {
				progress = append(progress, *ev.Pairing)
			}
		}
		return len(progress) == 4
	})
	var stages []string
	for _, p := range progress {
		stages = append(stages, string(p.Stage))
	}
	if got := strings.Join(stages, ","); got != "open,announced,interviewing,published" {
		t.Errorf("stages %s", got)
	}
	if progress[0].Remaining != 30*time.Second {
		t.Errorf("window remaining %v, want 30s", progress[0].Remaining)
	}
	if d := progress[2].Detail; strings.ContainsRune(d, '\x1b') || !strings.Contains(d, "the Basic cluster") {
		t.Errorf("interview step %q: want the escape removed and the text kept", d)
	}
	if ep := progress[3].Endpoint; ep == nil || ep.Traits.Brightness == nil {
		t.Errorf("published endpoint %+v lacks its traits", ep)
	}

	if err := s.RemoveDevice(ctx, "lamp"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the Remove event", func() bool {
		for _, ev := range rec.snapshot() {
			if ev.Kind == model.EventRemove && ev.DeviceID == "lamp" {
				return true
			}
		}
		return false
	})
	if n := s.Status().Devices; n != 3 { // slow, door and the joiner
		t.Errorf("the supervisor counts %d devices after the removal, want 3", n)
	}
}

// TestRemoveOnABridgeWithoutIt: a bridge that does not declare removing (as
// every 1.0 bridge) is not asked; the error says which bridge and version.
func TestRemoveOnABridgeWithoutIt(t *testing.T) {
	s, rec := startSupervisor(t, Config{Name: "older", Path: crashBin, Config: []byte(crashConfig)})
	eventually(t, 10*time.Second, "snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	err := s.RemoveDevice(context.Background(), "lamp")
	if de := model.AsError(err); de == nil || de.Kind != model.ErrNotSupported || !strings.Contains(de.Message, "bridge older") {
		t.Fatalf("RemoveDevice: %v, want NOT_SUPPORTED naming the bridge", err)
	}
	for _, ev := range rec.snapshot() {
		if ev.Kind == model.EventRemove {
			t.Fatalf("a device was removed: %+v", ev)
		}
	}
}

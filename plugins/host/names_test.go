package host

import (
	"testing"
	"time"
)

// A name with control and bidi characters (a terminal title escape, a
// right-to-left override) reaches the hub cleaned, from a real bridge process.
func TestNamesCleanedOnEntry(t *testing.T) {
	cfg := `{"devices":[{"id":"lamp","name":"\u0000\u001b]0;title\u0007\u202eLamp\u0000","type":"light","kind":"dimmable"}]}`
	_, rec := startSupervisor(t, Config{Name: "names", Path: crashBin, Config: []byte(cfg), Logger: discardLogger()})
	eventually(t, 10*time.Second, "snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	_, snap := lastSnapshot(rec.snapshot())
	if len(snap.Devices) != 1 {
		t.Fatalf("%d devices", len(snap.Devices))
	}
	if got := snap.Devices[0].Endpoint.FriendlyName; got != "]0;title Lamp" {
		t.Fatalf("friendly name %q, want %q", got, "]0;title Lamp")
	}
}

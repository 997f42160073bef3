package zigbee

import (
	"context"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/znpsim"
)

// TestIASEnrolment pairs an Aqara leak sensor and a Heiman smoke sensor on
// znpsim, whose IAS zones stay not enrolled (and silent) until the CIE writes
// its address and answers their Zone Enroll Request; the interview enrols both.
func TestIASEnrolment(t *testing.T) {
	specs := []znpsim.DeviceSpec{{IEEE: "0x00158d000a1b2c02", Type: "aqara-leak"}, {IEEE: "0x000d6f0011aa2201", Type: "heiman-smoke"}}
	r := newRig(t, specs)
	for _, d := range r.sim.Devices() {
		if d.Attributes["zoneState"] != 0 {
			t.Fatalf("%s enrolled before joining: %v", d.IEEE, d.Attributes)
		}
	}
	if err := r.br.StartPairing(context.Background(), 60*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		enrolled := 0
		for _, d := range r.sim.Devices() {
			if d.Attributes["zoneState"] == 1 {
				enrolled++
			}
		}
		if enrolled == len(specs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d IAS zones enrolled: %+v", enrolled, len(specs), r.sim.Devices())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

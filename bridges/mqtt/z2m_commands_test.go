package mqtt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

// What the device really did decides the answer: a lock's "state": null is
// unknown (never its answer, never logged as bad input), a refused setpoint
// is an error, and a device that never answers gets an answer before the
// deadline (Accepted) and then a failed completion.
func TestZ2MCommandOutcomes(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSimWith(z2msim.Options{LockDelay: 2500 * time.Millisecond, SendTimeout: -1})
	e.startBridge(`"confirmTimeout":"3s"`)
	e.rec.wait(t, "six devices with state", func(r *recorder) bool { return len(r.devices) == 6 && statesKnown(r) })

	t.Run("slow lock", func(t *testing.T) {
		status, st, err := e.execFinal(idLock, model.SetLock(model.Unlocked))
		if err != nil || status != model.Accepted || st.Lock != model.Unlocked {
			t.Fatalf("unlock: %s %+v %v, want ACCEPTED then UNLOCKED", status, st, err)
		}
		if bad := e.logs.matching("unexpected value"); len(bad) > 0 {
			t.Errorf("null logged as bad input: %q", bad)
		}
	})

	t.Run("refused brightness", func(t *testing.T) {
		if err := sim.SetRefused("Hallway Bulb", "brightness"); err != nil {
			t.Fatal(err)
		}
		defer sim.SetRefused("Hallway Bulb")
		_, _, err := e.execFinal(idHallway, model.SetBrightness(41))
		if de := model.AsError(err); de == nil || de.Kind != model.ErrHardwareFault || !strings.Contains(de.Message, "INVALID_VALUE") {
			t.Fatalf("refused brightness: err = %v, want HARDWARE_FAULT with zigbee2mqtt's reason", err)
		}
	})

	// The Danfoss refuses a setpoint in silence (zigbee2mqtt does not await
	// its answer): still an error, never success.
	t.Run("setpoint refused in silence", func(t *testing.T) {
		if err := sim.SetRefused("Bedroom Radiator", "occupied_heating_setpoint"); err != nil {
			t.Fatal(err)
		}
		defer sim.SetRefused("Bedroom Radiator")
		status, _, err := e.execFinal(idRadiator, model.SetThermostat(model.ThermostatState{Target: model.Ptr(24.5)}))
		if err == nil || status != model.Accepted {
			t.Fatalf("refused setpoint: %s, %v; want ACCEPTED, then an error", status, err)
		}
	})

	t.Run("device never answers", func(t *testing.T) {
		if err := sim.SetAsleep("Living Room/Colour Bulb", true); err != nil {
			t.Fatal(err)
		}
		defer sim.SetAsleep("Living Room/Colour Bulb", false)
		// The caller's context ends long before the request's deadline and
		// commandTimeout (3 s): the answer must still come before it.
		ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
		defer cancel()
		dl, _ := ctx.Deadline()
		res, err := e.local.Execute(ctx, model.Request{CorrelationID: "asleep-1", DeviceID: idColour,
			Command: model.SetColor(model.HSB{Hue: 200, Saturation: 1, Brightness: 1}), Deadline: time.Now().Add(7 * time.Second)})
		if time.Now().After(dl) {
			t.Errorf("Execute answered after its context's deadline")
		}
		if err != nil || res.Status != model.Accepted {
			t.Fatalf("Execute = %+v, %v; want ACCEPTED", res, err)
		}
		var comp *model.Completion
		e.rec.wait(t, "the completion", func(r *recorder) bool {
			for _, ev := range r.events {
				if ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == "asleep-1" {
					comp = ev.Completion
					return true
				}
			}
			return false
		})
		if comp.Err == nil || comp.Err.Kind != model.ErrUnreachable {
			t.Errorf("completion = %+v, want UNREACHABLE", comp)
		}
	})

	t.Run("zigbee2mqtt gives up", func(t *testing.T) {
		if err := sim.SetAsleep("Hallway Bulb", true); err != nil {
			t.Fatal(err)
		}
		defer sim.SetAsleep("Hallway Bulb", false)
		// What zigbee2mqtt 2.14.1 publishes when herdsman's request times
		// out (the namespace first, as in z2msim's recording).
		m := e.mark()
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			for len(e.rawSince(m, e.base+"/Hallway Bulb/set")) == 0 {
				select {
				case <-e.rawCh:
				case <-time.After(50 * time.Millisecond):
				}
			}
			e.raw.Publish(e.base+"/bridge/logging", 1, false, `{"level":"error","message":"z2m: Publish 'set' 'brightness' to 'Hallway Bulb' failed: 'Error: ZCL command 0x000d6ffffe1f2e3d/1 genLevelCtrl.moveToLevelWithOnOff({\"level\":94,\"transtime\":0}, {\"timeout\":10000}) failed (Delivery failed for '12345')'","namespace":"z2m"}`).Wait()
		}()
		_, _, err := e.execFinal(idHallway, model.SetBrightness(37))
		if de := model.AsError(err); de == nil || de.Kind != model.ErrUnreachable || !strings.Contains(de.Message, "Delivery failed") {
			t.Fatalf("err = %v, want UNREACHABLE with zigbee2mqtt's reason", err)
		}
	})
}

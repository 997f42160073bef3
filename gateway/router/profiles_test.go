package router

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
)

// directiveInst is directive with a header instance (generic controllers).
func directiveInst(t testing.TB, ns, name, instance, endpointID, payload string) *alexa.Directive {
	t.Helper()
	n := tokenN.Add(1)
	raw := fmt.Sprintf(`{"directive":{"header":{"namespace":%q,"name":%q,"instance":%q,"messageId":"m-%d","correlationToken":"tok-%d","payloadVersion":"3"},`+
		`"endpoint":{"endpointId":%q},"payload":%s}}`, ns, name, instance, n, n, endpointID, payload)
	d, err := alexa.ParseDirective([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRealProfiles runs the router with the real alexa profiles; every event is
// checked against the official schema by the recorder.
func TestRealProfiles(t *testing.T) {
	type flow struct {
		adjust, lock, report *alexa.Directive
	}
	flows := map[string]func(t *testing.T) flow{
		alexa.ProfileSmartHome: func(t *testing.T) flow {
			return flow{
				adjust: directive(t, "Alexa.BrightnessController", "AdjustBrightness", id("l1"), `{"brightnessDelta":-25}`),
				lock:   directive(t, "Alexa.LockController", "Unlock", id("k1"), `{}`),
				report: directive(t, "Alexa", "ReportState", id("l2"), `{}`),
			}
		},
		alexa.ProfileAVS: func(t *testing.T) flow {
			return flow{
				adjust: directiveInst(t, "Alexa.RangeController", "AdjustRangeValue", alexa.InstanceBrightness, id("l1"),
					`{"rangeValueDelta":-25,"rangeValueDeltaDefault":false}`),
				lock:   directiveInst(t, "Alexa.ModeController", "SetMode", alexa.InstanceLock, id("k1"), `{"mode":"Lock.Unlocked"}`),
				report: directive(t, "Alexa", "ReportState", id("l2"), `{}`),
			}
		},
	}
	for name, mk := range flows {
		t.Run(name, func(t *testing.T) {
			p, err := alexa.ProfileByName(name, alexa.ProfileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, func(o *Options) { o.Profile = p })
			f := mk(t)
			ctx := context.Background()

			if err := e.r.HandleDirective(ctx, directive(t, "Alexa.PowerController", "TurnOn", id("l1"), `{}`)); err != nil {
				t.Fatal(err)
			}
			if ev := e.rec.next(t); ev.Name != "Response" || ev.Context["powerState"] != "ON" {
				t.Fatalf("TurnOn: %s", ev.Raw)
			}
			if err := e.r.HandleDirective(ctx, f.adjust); err != nil {
				t.Fatal(err)
			}
			if ev := e.rec.next(t); ev.Name != "Response" {
				t.Fatalf("adjust: %s", ev.Raw)
			}
			if reqs := e.zb.requests(); len(reqs) != 2 || reqs[1].Command.String() != "brightness=25" {
				t.Fatalf("bridge got %v, want brightness=25 second", reqs)
			}
			if err := e.r.HandleDirective(ctx, f.report); err != nil {
				t.Fatal(err)
			}
			if ev := e.rec.next(t); ev.Name != "StateReport" {
				t.Fatalf("report: %s", ev.Raw)
			}
			reqs := acceptLock(e)
			if err := e.r.HandleDirective(ctx, f.lock); err != nil {
				t.Fatal(err)
			}
			if ev := e.rec.next(t); ev.Name != "DeferredResponse" {
				t.Fatalf("lock: %s", ev.Raw)
			}
			req := <-reqs
			if req.Command.String() != "lock=UNLOCKED" {
				t.Fatalf("lock command %s", req.Command)
			}
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
				CorrelationID: req.CorrelationID, State: model.State{Lock: model.Unlocked}}})
			if ev := e.rec.next(t); ev.Name != "Response" || ev.Token != f.lock.Header.CorrelationToken {
				t.Fatalf("lock completion: %s", ev.Raw)
			}
			// An unreachable device is refused before the bridge.
			n := len(e.zb.requests())
			if err := e.r.HandleDirective(ctx, directive(t, "Alexa.PowerController", "TurnOn", id("gone1"), `{}`)); err != nil {
				t.Fatal(err)
			}
			if ev := e.rec.next(t); ev.Type != "ENDPOINT_UNREACHABLE" || len(e.zb.requests()) != n {
				t.Fatalf("unreachable: %s", ev.Raw)
			}
			if name == alexa.ProfileSmartHome {
				// Validation errors keep the directive's temperature scale.
				th := []struct {
					device, payload, wantType, wantNS string
				}{
					{"th1", `{"targetSetpoint":{"value":95,"scale":"FAHRENHEIT"}}`, "TEMPERATURE_VALUE_OUT_OF_RANGE", "Alexa"},
					{"th2", `{"targetSetpoint":{"value":70,"scale":"FAHRENHEIT"}}`, "THERMOSTAT_IS_OFF", "Alexa.ThermostatController"},
				}
				for _, c := range th {
					if err := e.r.HandleDirective(ctx, directive(t, "Alexa.ThermostatController", "SetTargetTemperature", id(c.device), c.payload)); err != nil {
						t.Fatal(err)
					}
					ev := e.rec.next(t)
					if ev.Type != c.wantType || ev.Namespace != c.wantNS || len(e.zb.requests()) != n {
						t.Fatalf("thermostat: %s", ev.Raw)
					}
					if c.wantType == "TEMPERATURE_VALUE_OUT_OF_RANGE" && !strings.Contains(string(ev.Raw), `"scale":"FAHRENHEIT"`) {
						t.Fatalf("valid range not in the directive's scale: %s", ev.Raw)
					}
				}
			}
			// A change by hand is a ChangeReport.
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l2",
				State: model.State{On: model.Ptr(false)}, Cause: model.CausePhysical})
			if ev := e.rec.next(t); ev.Name != "ChangeReport" || ev.Changed["powerState"] != "OFF" || ev.Cause != "PHYSICAL_INTERACTION" {
				t.Fatalf("change: %s", ev.Raw)
			}
		})
	}
}

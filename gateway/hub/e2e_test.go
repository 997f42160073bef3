package hub

import (
	"testing"
)

// TestEndToEnd runs the whole chain for each Alexa profile: the AVS emulator
// (HTTP/2 over TLS), the hub linked through the real lwa.Authorizer, and the
// virtual bridge as a plugin process. Every event the emulator receives is
// validated against the official schema on receipt; none may be refused.
func TestEndToEnd(t *testing.T) {
	type step struct {
		name                      string
		ns, directive, device, in string
		payload                   any
		// want: the answering events in order, then checks on the last one.
		events   []string
		errType  string         // ErrorResponse payload.type
		errNS    string         // ErrorResponse namespace
		property map[string]any // "namespace|instance|name" → value in the final context
	}
	lockAVS := step{name: "lock (deferred)", ns: "Alexa.ModeController", directive: "SetMode", device: "front-door", in: "Lock.State",
		payload: map[string]any{"mode": "Lock.Locked"}, events: []string{"DeferredResponse", "Response"},
		property: map[string]any{"Alexa.ModeController|Lock.State|mode": "Lock.Locked"}}
	lockSH := step{name: "lock (deferred)", ns: "Alexa.LockController", directive: "Lock", device: "front-door",
		payload: map[string]any{}, events: []string{"DeferredResponse", "Response"},
		property: map[string]any{"Alexa.LockController||lockState": "LOCKED"}}
	turnOn := step{name: "turn on", ns: "Alexa.PowerController", directive: "TurnOn", device: "kitchen-light",
		payload: map[string]any{}, events: []string{"Response"},
		property: map[string]any{"Alexa.PowerController||powerState": "ON"}}
	unknown := step{name: "no such endpoint", ns: "Alexa.PowerController", directive: "TurnOn", device: "no-such-device",
		payload: map[string]any{}, events: []string{"ErrorResponse"}, errNS: "Alexa", errType: "NO_SUCH_ENDPOINT"}
	for _, tc := range []struct {
		profile string
		steps   []step
	}{
		{"avs", []step{turnOn, lockAVS,
			{name: "setpoint out of range", ns: "Alexa.RangeController", directive: "SetRangeValue", device: "thermostat", in: "Thermostat.TargetSetpoint",
				payload: map[string]any{"rangeValue": 95}, events: []string{"ErrorResponse"}, errNS: "Alexa", errType: "TEMPERATURE_VALUE_OUT_OF_RANGE"},
			unknown,
		}},
		{"smarthome", []step{turnOn, lockSH,
			{name: "setpoint out of range", ns: "Alexa.ThermostatController", directive: "SetTargetTemperature", device: "thermostat",
				payload: map[string]any{"targetSetpoint": map[string]any{"value": 95, "scale": "CELSIUS"}}, events: []string{"ErrorResponse"},
				errNS: "Alexa", errType: "TEMPERATURE_VALUE_OUT_OF_RANGE"},
			unknown,
		}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			e := newEnv(t, envOptions{Profile: tc.profile})
			e.start()
			e.waitConnected()
			e.waitKnown()
			if st := e.hub.Status(); !st.Ready || !st.Link.Linked || len(st.Bridges) != 1 || st.Bridges[0].Endpoints != len(e.deviceIDs()) {
				t.Errorf("status: ready %t linked %t bridges %+v", st.Ready, st.Link.Linked, st.Bridges)
			}
			for _, s := range tc.steps {
				a := e.mustSend(s.ns, s.directive, id(s.device), s.in, s.payload)
				if !equalStrings(a.Events, s.events) {
					t.Errorf("%s: answered %v (last payload %v), want %v", s.name, a.Events, a.Payload, s.events)
					continue
				}
				if s.errType != "" {
					if a.Namespace != s.errNS || a.Payload["type"] != s.errType {
						t.Errorf("%s: %s.%s type %v, want %s.ErrorResponse type %s", s.name, a.Namespace, a.Name, a.Payload["type"], s.errNS, s.errType)
					}
					if s.errType == "VALUE_OUT_OF_RANGE" || s.errType == "TEMPERATURE_VALUE_OUT_OF_RANGE" {
						if _, ok := a.Payload["validRange"]; !ok {
							t.Errorf("%s: no validRange in %v", s.name, a.Payload)
						}
					}
				}
				for k, want := range s.property {
					found := false
					for _, p := range a.Properties {
						if p.key() == k {
							found = true
							if p.Value != want {
								t.Errorf("%s: %s = %v, want %v", s.name, k, p.Value, want)
							}
						}
					}
					if !found {
						t.Errorf("%s: no %s in the answer's context", s.name, k)
					}
				}
			}
			e.waitConsistent()
			e.noRefusedEvents()
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

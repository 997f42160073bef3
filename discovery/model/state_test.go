package model

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestDiffState(t *testing.T) {
	tests := []struct {
		name       string
		prev, next State
		want       State
	}{
		{"nothing", State{On: Ptr(true)}, State{On: Ptr(true)}, State{}},
		{"unset is no change", State{On: Ptr(true)}, State{}, State{}},
		{"on", State{On: Ptr(false)}, State{On: Ptr(true)}, State{On: Ptr(true)}},
		{"lock", State{Lock: Locked}, State{Lock: Jammed}, State{Lock: Jammed}},
		{"thermostat field", State{Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}},
			State{Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(21.0)}},
			State{Thermostat: &ThermostatState{Target: Ptr(21.0)}}},
		{"maps", State{Toggles: map[string]bool{"a": true, "b": true}}, State{Toggles: map[string]bool{"a": true, "b": false, "c": true}},
			State{Toggles: map[string]bool{"b": false, "c": true}}},
		{"temperature", State{}, State{Temperature: Ptr(20.5)}, State{Temperature: Ptr(20.5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DiffState(tt.prev, tt.next)
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(tt.want)
			if string(a) != string(b) {
				t.Fatalf("DiffState = %s, want %s", a, b)
			}
			if got.IsZero() != (string(b) == "{}") {
				t.Fatalf("IsZero = %v for %s", got.IsZero(), a)
			}
		})
	}
}

// TestCloneEndpointIsDeep mutates every reference in a clone and checks the
// original is untouched; reflection walks every field so new ones are covered.
func TestCloneEndpointIsDeep(t *testing.T) {
	ep := Endpoint{ID: "i", DeviceID: "d\xff", Connections: []Connection{{Type: ConnectionZigbee, MACAddress: "m"}},
		Traits: allTraits}
	ep.Traits.Toggles = []Toggle{{Instance: "t", Names: []Name{{Text: "x"}}}}
	ep.Traits.Ranges = []Range{{Instance: "r", Names: []Name{{Text: "x"}}, Presets: []Preset{{Value: 1, Names: []Name{{Text: "p"}}}}}}
	ep.Traits.Modes = []Mode{{Instance: "m", Names: []Name{{Text: "x"}}, Values: []ModeValue{{Value: "v", Names: []Name{{Text: "n"}}}}}}
	before, _ := json.Marshal(ep)
	c := ep.Clone()
	if !reflect.DeepEqual(c, ep) {
		t.Fatal("clone differs")
	}
	c.Connections[0].MACAddress = "X"
	c.Traits.ColorTemperature.MinKelvin = 1
	c.Traits.Thermostat.Modes[0] = "X"
	c.Traits.Toggles[0].Names[0].Text = "X"
	c.Traits.Ranges[0].Presets[0].Names[0].Text = "X"
	c.Traits.Modes[0].Values[0].Names[0].Text = "X"
	c.Traits.Modes[0].Names[0].Text = "X"
	if after, _ := json.Marshal(ep); string(after) != string(before) {
		t.Fatalf("clone shares memory:\n%s\n%s", before, after)
	}
	if c.DeviceID != "d\xff" {
		t.Fatal("clone changed a non-UTF-8 device id")
	}
}

// TestCheckStateKinds: out-of-range readings of the cover, fan, battery,
// humidity and meter traits are dropped with a description; plausible ones stay.
func TestCheckStateKinds(t *testing.T) {
	tr := Traits{Cover: &Cover{}, Fan: &Fan{}, Battery: &Battery{}, Humidity: &Humidity{}, Illuminance: &Illuminance{}, Energy: &Energy{}, Power: &Power{}}
	got, bad := tr.CheckState(State{CoverPosition: Ptr(101), FanSpeed: Ptr(-1), Battery: Ptr(200), Humidity: Ptr(100.5),
		Illuminance: Ptr(-3.0), EnergyKWh: Ptr(math.Inf(1)), Watts: Ptr(math.NaN())})
	if len(bad) != 7 || !got.IsZero() {
		t.Errorf("kept %+v, dropped %q", got, bad)
	}
	ok := State{CoverPosition: Ptr(42), FanSpeed: Ptr(100), Battery: Ptr(0), Humidity: Ptr(55.5), Illuminance: Ptr(0.0), EnergyKWh: Ptr(3.2), Watts: Ptr(-250.0)}
	if got, bad := tr.CheckState(ok); len(bad) != 0 || !reflect.DeepEqual(got, ok) {
		t.Errorf("plausible state changed to %+v (%q)", got, bad)
	}
}

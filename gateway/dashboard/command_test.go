package dashboard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

func TestDecodeCommand(t *testing.T) {
	light := fixtureEntry("color_light")
	thermo := fixtureEntry("thermostat_dual")
	eco := thermo
	eco.State = eco.State.Clone()
	eco.State.Thermostat.Mode = model.ModeEco
	plug := fixtureEntry("plug")
	for _, tc := range []struct {
		name    string
		entry   discovery.Entry
		payload string
		want    string // commands, joined with "; ", or "error: <kind>"
	}{
		{"bare on", light, "on", "on_off=true"},
		{"bare off", light, " OFF\n", "on_off=false"},
		{"bare lock", light, "LOCK", "lock=LOCKED"},
		{"bare unlock", light, "unlock", "lock=UNLOCKED"},
		{"ha light on with brightness", light, `{"state":"ON","brightness":40}`, "on_off=true; brightness=40"},
		{"ha light off last", light, `{"brightness":10,"state":"OFF"}`, "brightness=10; on_off=false"},
		{"brightness rounds", light, `{"brightness":40.6}`, "brightness=41"},
		{"hs colour keeps brightness", light, `{"color":{"h":120,"s":50}}`, "color=h120.0/s0.500/b0.800"},
		{"kelvin", light, `{"color_temp":3000,"transition":2}`, "color_temperature=3000K"},
		{"toggle state", light, `{"state":"TOGGLE"}`, "on_off=true"},
		{"lock json", light, `{"lock":"UNLOCK"}`, "lock=UNLOCKED"},
		{"mode", thermo, `{"mode":"cool"}`, "thermostat mode=COOL"},
		{"heat_cool is auto", thermo, `{"mode":"heat_cool","temperature_low":18,"temperature_high":23}`, "thermostat mode=AUTO lower=18C upper=23C"},
		{"target", thermo, `{"temperature":21.5}`, "thermostat target=21.5C"},
		{"preset eco", thermo, `{"preset":"eco"}`, "thermostat mode=ECO"},
		{"preset none leaves eco", eco, `{"preset":"none"}`, "thermostat mode=HEAT"},
		{"preset none with mode", eco, `{"preset":"none","mode":"cool"}`, "thermostat mode=COOL"},
		{"toggles", plug, `{"toggles":{"Plug.ChildLock":"ON","B":false}}`, "toggle[B]=false; toggle[Plug.ChildLock]=true"},
		{"range and mode", plug, `{"ranges":{"Fan.Speed":30},"modes":{"Fan.Direction":"Reverse"}}`, "mode[Fan.Direction]=Reverse; range[Fan.Speed]=30"},
		{"range type", plug, `{"ranges":{"Fan.Speed":"fast"}}`, "error: INVALID_VALUE"},
		{"mode type", plug, `{"modes":{"Fan.Direction":1}}`, "error: INVALID_VALUE"},
		{"ranges empty", plug, `{"ranges":{}}`, "error: INVALID_VALUE"},
		{"huge brightness kept out of range", light, `{"brightness":1e300}`, "brightness=1073741824"},

		{"empty", light, "", "error: INVALID_VALUE"},
		{"blank", light, "  ", "error: INVALID_VALUE"},
		{"word", light, "toggle", "error: INVALID_VALUE"},
		{"array", light, `[1]`, "error: INVALID_VALUE"},
		{"null", light, `null`, "error: INVALID_VALUE"},
		{"empty object", light, `{}`, "error: INVALID_VALUE"},
		{"truncated", light, `{"state":"ON"`, "error: INVALID_VALUE"},
		{"trailing data", light, `{"state":"ON"} x`, "error: INVALID_VALUE"},
		{"unknown key", light, `{"state":"ON","effect":"colorloop"}`, "error: INVALID_VALUE"},
		{"flash ignored", light, `{"state":"ON","flash":2}`, "on_off=true"},
		{"state type", light, `{"state":1}`, "error: INVALID_VALUE"},
		{"state value", light, `{"state":"DIM"}`, "error: INVALID_VALUE"},
		{"brightness type", light, `{"brightness":"50"}`, "error: INVALID_VALUE"},
		{"colour shape", light, `{"color":{"x":0.3,"y":0.3}}`, "error: INVALID_VALUE"},
		{"colour type", light, `{"color":[1,2]}`, "error: INVALID_VALUE"},
		{"mode value", thermo, `{"mode":"dry"}`, "error: INVALID_VALUE"},
		{"preset value", thermo, `{"preset":"away"}`, "error: INVALID_VALUE"},
		{"lock value", light, `{"lock":"OPEN"}`, "error: INVALID_VALUE"},
		{"toggle value", plug, `{"toggles":{"Plug.ChildLock":"MAYBE"}}`, "error: INVALID_VALUE"},
		{"toggles empty", plug, `{"toggles":{}}`, "error: INVALID_VALUE"},
		{"not utf8", light, "\xff\xfe", "error: INVALID_VALUE"},
		{"too large", light, `{"state":"ON","transition":"` + strings.Repeat("x", MaxCommandSize) + `"}`, "error: INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmds, err := DecodeCommand([]byte(tc.payload), tc.entry.Endpoint, tc.entry.State)
			var got string
			if err != nil {
				de, ok := err.(*model.Error)
				if !ok {
					t.Fatalf("error %T is not a *model.Error", err)
				}
				got = "error: " + string(de.Kind)
				if de.Message == "" {
					t.Error("error without a message")
				}
			} else {
				var s []string
				for _, c := range cmds {
					s = append(s, c.String())
				}
				got = strings.Join(s, "; ")
			}
			if got != tc.want {
				t.Errorf("DecodeCommand(%q) = %s, want %s (err %v)", model.Abbreviate(tc.payload, 60), got, tc.want, err)
			}
		})
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{"ON", "LOCK", `{"state":"ON","brightness":40}`, `{"color":{"h":120,"s":50}}`,
		`{"color_temp":3000}`, `{"mode":"heat","temperature":21}`, `{"preset":"none"}`, `{"toggles":{"a":"ON"}}`, `{"ranges":{"Fan.Speed":30}}`, `{"modes":{"Fan.Direction":"Reverse"}}`,
		`{"temperature_low":18,"temperature_high":23}`, `{"brightness":1e999}`, `{"lock":"UNLOCK"}`, `{}`, ``} {
		f.Add([]byte(s))
	}
	entries := []discovery.Entry{fixtureEntry("color_light"), fixtureEntry("thermostat_dual"), fixtureEntry("plug"), fixtureEntry("lock"), fixtureEntry("fan")}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, e := range entries {
			cmds, err := DecodeCommand(payload, e.Endpoint, e.State)
			if err != nil {
				if de, ok := err.(*model.Error); !ok || de.Message == "" {
					t.Fatalf("error %v (%T) is not a described *model.Error", err, err)
				}
				if cmds != nil {
					t.Fatal("commands returned with an error")
				}
				continue
			}
			if len(cmds) == 0 {
				t.Fatal("no commands and no error")
			}
			for _, c := range cmds {
				if strings.HasPrefix(c.String(), "invalid command") {
					t.Fatalf("malformed command %+v from %q", c, payload)
				}
				// Validation never panics and gives typed errors.
				if err := c.Validate(e.Endpoint.Traits, e.State); err != nil {
					if _, ok := err.(*model.Error); !ok {
						t.Fatalf("Validate error %T", err)
					}
				}
				if _, err := json.Marshal(c); err != nil {
					t.Fatalf("command not encodable: %v", err)
				}
			}
		}
	})
}

// TestDecodeKindCommands: the cover, fan and siren commands Home Assistant
// sends (cover position, tilt and open/close payloads, fan percentage and preset,
// siren on/off) become the model's commands; a preset the fan lacks is refused.
func TestDecodeKindCommands(t *testing.T) {
	ep := model.Endpoint{ID: "S::v::d", DeviceID: "d", FriendlyName: "Kinds", Traits: model.Traits{
		Cover: &model.Cover{Tilt: true}, Siren: &model.Siren{}, OnOff: &model.OnOff{},
		Fan: &model.Fan{Presets: []model.Preset{{Value: 33, Names: []model.Name{{Text: "low", Locale: "en-US"}}}}}}}
	for _, tc := range []struct{ payload, want string }{
		{`{"position":42}`, "coverPosition=42"},
		{`{"position":100}`, "coverPosition=100"},
		{`{"position":0}`, "coverPosition=0"},
		{`{"stop":true}`, "coverStop"},
		{`{"tilt":40}`, "coverTilt=40"},
		{`{"tilt":"half"}`, "error"},
		{`{"stop":false}`, "error"},
		{`{"stop":"yes"}`, "error"},
		{`{"percentage":66}`, "fanSpeed=66"},
		{`{"fan_preset":"low"}`, "fanSpeed=33"},
		{`{"siren":"ON"}`, "siren=true"},
		{`{"siren":"OFF"}`, "siren=false"},
		{`{"state":"ON"}`, "on_off=true"},
		{`{"fan_preset":"turbo"}`, "error"},
		{`{"position":"half"}`, "error"},
		{`{"siren":"LOUD"}`, "error"},
	} {
		cmds, err := DecodeCommand([]byte(tc.payload), ep, model.State{})
		got := "error"
		if err == nil {
			var parts []string
			for _, c := range cmds {
				parts = append(parts, c.String())
				if verr := c.Validate(ep.Traits, model.State{}); verr != nil {
					t.Errorf("%s: %s does not validate: %v", tc.payload, c, verr)
				}
			}
			got = strings.Join(parts, "; ")
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.payload, got, tc.want)
		}
	}
	// Each kind's component carries the state key its state document writes.
	node := NodeID(ep)
	cs := testLayout.components(node, ep)
	if c := cs["cover"]; c["payload_stop"] != `{"stop":true}` {
		t.Errorf("cover component's payload_stop: %v, want {\"stop\":true} (the stop key it decodes)", cs["cover"])
	}
	if c := cs["cover"]; c["tilt_status_template"] != "{{ value_json.tilt }}" || c["tilt_command_template"] != `{"tilt":{{ tilt_position }}}` {
		t.Errorf("cover with slats: tilt topics %v, want the tilt key it decodes", cs["cover"])
	}
	plain := ep
	plain.Traits = model.Traits{Cover: &model.Cover{}}
	if c := testLayout.components(node, plain)["cover"]; c["tilt_command_topic"] != nil {
		t.Errorf("cover without slats has tilt topics: %v", c)
	}
	for id, key := range map[string]string{"cover": "position", "fan": "percentage", "siren": "siren"} {
		c, ok := cs[id]
		if !ok {
			t.Fatalf("no %s component in %v", id, cs)
		}
		b, _ := json.Marshal(c)
		if !strings.Contains(string(b), "value_json."+key) {
			t.Errorf("%s component does not read %s: %s", id, key, b)
		}
	}
	if _, ok := cs["switch"]; ok {
		t.Error("a fan's power shows as a switch besides the fan")
	}
}

package alexa

import (
	"errors"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

type decodeCase struct {
	name     string
	fixture  string // fixture name
	state    func(*model.State)
	ns, dir  string
	instance string
	payload  string
	want     string          // Command.String(), or "report state"
	scale    string          // Intent.Scale
	wantErr  model.ErrorKind // when set, Decode must fail with this kind
	validate model.ErrorKind // when set, Decode succeeds and Validate fails with this kind
}

func fixtureByName(t *testing.T, name string) fixture {
	t.Helper()
	for _, f := range fixtures() {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no fixture %q", name)
	return fixture{}
}

func runDecodeCases(t *testing.T, prof string, cases []decodeCase) {
	p := mustProfile(t, prof)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureByName(t, tc.fixture)
			st := f.st.Clone()
			if tc.state != nil {
				tc.state(&st)
			}
			d := directive(t, tc.ns, tc.dir, tc.instance, f.ep.ID, tc.payload)
			in, err := p.Decode(d, f.ep, st)
			if tc.wantErr != "" {
				var de *model.Error
				if !errors.As(err, &de) || de.Kind != tc.wantErr {
					t.Fatalf("Decode = %+v, %v; want %s", in, err, tc.wantErr)
				}
				ev, err := NewErrorResponse(d, f.ep.ID, de, in.Scale)
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, ev)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got := in.Command.String()
			if in.ReportState {
				got = "report state"
			}
			if got != tc.want {
				t.Errorf("Decode = %s, want %s", got, tc.want)
			}
			if in.Scale != tc.scale {
				t.Errorf("Scale = %q, want %q", in.Scale, tc.scale)
			}
			if in.ReportState {
				return
			}
			verr := in.Command.Validate(f.ep.Traits, st)
			if tc.validate == "" && verr != nil {
				t.Errorf("Validate(%s): %v", got, verr)
			}
			if tc.validate != "" {
				de := model.AsError(verr)
				if verr == nil || de.Kind != tc.validate {
					t.Fatalf("Validate(%s) = %v, want %s", got, verr, tc.validate)
				}
				ev, err := NewErrorResponse(d, f.ep.ID, de, in.Scale)
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, ev)
				return
			}
			// What the router answers: the state after the command.
			ev, err := NewResponse(d, f.ep.ID, p.Properties(f.ep, in.Command.Apply(st), true, sampleTime))
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, ev)
		})
	}
}

func TestDecodeAVS(t *testing.T) {
	off := func(s *model.State) { s.On = model.Ptr(false) }
	thermOff := func(s *model.State) { s.Thermostat.Mode = model.ModeOff }
	runDecodeCases(t, ProfileAVS, []decodeCase{
		{name: "report state", fixture: "plug", ns: "Alexa", dir: "ReportState", want: "report state"},
		{name: "turn on", fixture: "plug", ns: nsPower, dir: "TurnOn", want: "on_off=true"},
		{name: "turn off", fixture: "plug", ns: nsPower, dir: "TurnOff", want: "on_off=false"},
		{name: "power name unknown", fixture: "plug", ns: nsPower, dir: "Toggle", wantErr: model.ErrNotSupported},
		{name: "no power trait", fixture: "lock", ns: nsPower, dir: "TurnOn", wantErr: model.ErrNotSupported},
		{name: "brightness set", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{"rangeValue":35}`, want: "brightness=35"},
		{name: "brightness set fraction", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{"rangeValue":35.6}`, want: "brightness=36"},
		{name: "brightness set out of range", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{"rangeValue":150}`,
			want: "brightness=150", validate: model.ErrOutOfRange},
		{name: "brightness adjust", fixture: "color_light", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceBrightness, payload: `{"rangeValueDelta":-25,"rangeValueDeltaDefault":false}`, want: "brightness=35"},
		{name: "brightness adjust clamps", fixture: "color_light", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceBrightness, payload: `{"rangeValueDelta":80}`, want: "brightness=100"},
		{name: "brightness adjust default", fixture: "color_light", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceBrightness, payload: `{"rangeValueDelta":-3,"rangeValueDeltaDefault":true}`, want: "brightness=50"},
		{name: "brightness adjust from off", fixture: "color_light", state: off, ns: nsRange, dir: "AdjustRangeValue", instance: InstanceBrightness, payload: `{"rangeValueDelta":25}`, want: "brightness=25"},
		{name: "brightness adjust unknown", fixture: "color_light", state: func(s *model.State) { s.On, s.Brightness = nil, nil },
			ns: nsRange, dir: "AdjustRangeValue", instance: InstanceBrightness, payload: `{"rangeValueDelta":25}`, wantErr: model.ErrInvalidValue},
		{name: "range missing value", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{}`, wantErr: model.ErrInvalidValue},
		{name: "range bad type", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{"rangeValue":"high"}`, wantErr: model.ErrInvalidValue},
		{name: "color temperature set", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceColorTemperature, payload: `{"rangeValue":4000}`, want: "color_temperature=4000K"},
		{name: "color temperature too cold", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceColorTemperature, payload: `{"rangeValue":9000}`,
			want: "color_temperature=9000K", validate: model.ErrOutOfRange},
		{name: "color temperature adjust clamps", fixture: "color_light", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceColorTemperature, payload: `{"rangeValueDelta":-1000}`, want: "color_temperature=2200K"},
		{name: "color temperature adjust default", fixture: "color_light", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceColorTemperature, payload: `{"rangeValueDelta":1,"rangeValueDeltaDefault":true}`, want: "color_temperature=3130K"},
		{name: "color", fixture: "color_light", ns: nsMode, dir: "SetMode", instance: InstanceColor, payload: `{"mode":"Color.Green"}`, want: "color=h120.0/s1.000/b0.600"},
		{name: "color white", fixture: "color_light", ns: nsMode, dir: "SetMode", instance: InstanceColor, payload: `{"mode":"Color.White"}`, want: "color=h0.0/s0.000/b0.600"},
		{name: "color unknown", fixture: "color_light", ns: nsMode, dir: "SetMode", instance: InstanceColor, payload: `{"mode":"Color.Plaid"}`, wantErr: model.ErrInvalidValue},
		{name: "color adjust", fixture: "color_light", ns: nsMode, dir: "AdjustMode", instance: InstanceColor, payload: `{"modeDelta":1}`, wantErr: model.ErrNotSupported},
		{name: "unknown instance", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: "Light.Nonsense", payload: `{"rangeValue":1}`, wantErr: model.ErrNotSupported},
		{name: "smarthome interface", fixture: "color_light", ns: nsBrightness, dir: "SetBrightness", payload: `{"brightness":1}`, wantErr: model.ErrNotSupported},
		{name: "lock", fixture: "lock", ns: nsMode, dir: "SetMode", instance: InstanceLock, payload: `{"mode":"Lock.Locked"}`, want: "lock=LOCKED"},
		{name: "unlock", fixture: "lock", ns: nsMode, dir: "SetMode", instance: InstanceLock, payload: `{"mode":"Lock.Unlocked"}`, want: "lock=UNLOCKED"},
		{name: "jam is no command", fixture: "lock", ns: nsMode, dir: "SetMode", instance: InstanceLock, payload: `{"mode":"Lock.Jammed"}`, wantErr: model.ErrInvalidValue},
		{name: "lock missing mode", fixture: "lock", ns: nsMode, dir: "SetMode", instance: InstanceLock, payload: `{}`, wantErr: model.ErrInvalidValue},
		{name: "thermostat mode", fixture: "thermostat_single_c", ns: nsMode, dir: "SetMode", instance: InstanceThermostatMode, payload: `{"mode":"Thermostat.Eco"}`, want: "thermostat mode=ECO"},
		{name: "thermostat mode unsupported", fixture: "thermostat_single_c", ns: nsMode, dir: "SetMode", instance: InstanceThermostatMode, payload: `{"mode":"Thermostat.Cool"}`,
			want: "thermostat mode=COOL", validate: model.ErrUnsupportedThermostatMode},
		{name: "thermostat mode unknown", fixture: "thermostat_single_c", ns: nsMode, dir: "SetMode", instance: InstanceThermostatMode, payload: `{"mode":"Thermostat.Dry"}`, wantErr: model.ErrUnsupportedThermostatMode},
		{name: "target set C", fixture: "thermostat_single_c", ns: nsRange, dir: "SetRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValue":22.5}`, want: "thermostat target=22.5C", scale: "CELSIUS"},
		{name: "target too hot", fixture: "thermostat_single_c", ns: nsRange, dir: "SetRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValue":31}`,
			want: "thermostat target=31C", scale: "CELSIUS", validate: model.ErrTemperatureOutOfRange},
		{name: "target adjust C", fixture: "thermostat_single_c", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValueDelta":-2}`, want: "thermostat target=19.5C", scale: "CELSIUS"},
		{name: "target adjust default", fixture: "thermostat_single_c", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValueDelta":5,"rangeValueDeltaDefault":true}`, want: "thermostat target=22.5C", scale: "CELSIUS"},
		{name: "target adjust clamps", fixture: "thermostat_single_c", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValueDelta":40}`, want: "thermostat target=30C", scale: "CELSIUS"},
		{name: "target adjust off", fixture: "thermostat_single_c", state: thermOff, ns: nsRange, dir: "AdjustRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValueDelta":1}`, wantErr: model.ErrThermostatIsOff},
		{name: "target set off", fixture: "thermostat_single_c", state: thermOff, ns: nsRange, dir: "SetRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValue":20}`,
			want: "thermostat target=20C", scale: "CELSIUS", validate: model.ErrThermostatIsOff},
		{name: "target set F", fixture: "thermostat_dual_f", ns: nsRange, dir: "SetRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValue":72}`, want: "thermostat target=22.22C", scale: "FAHRENHEIT"},
		// 69.8 °F + 2 °F snaps to the 1 °F grid: 72 °F.
		{name: "target adjust F interval", fixture: "thermostat_dual_f", ns: nsRange, dir: "AdjustRangeValue", instance: InstanceTargetSetpoint, payload: `{"rangeValueDelta":2}`, want: "thermostat target=22.22C", scale: "FAHRENHEIT"},
		{name: "lower set F", fixture: "thermostat_dual_f", ns: nsRange, dir: "SetRangeValue", instance: InstanceLowerSetpoint, payload: `{"rangeValue":66}`, want: "thermostat lower=18.89C", scale: "FAHRENHEIT"},
		{name: "upper too close", fixture: "thermostat_dual_f", ns: nsRange, dir: "SetRangeValue", instance: InstanceUpperSetpoint, payload: `{"rangeValue":70}`,
			want: "thermostat upper=21.11C", scale: "FAHRENHEIT", validate: model.ErrSetpointsTooClose},
		{name: "current temperature read only", fixture: "thermostat_dual_f", ns: nsRange, dir: "SetRangeValue", instance: InstanceCurrentTemperature, payload: `{"rangeValue":70}`, wantErr: model.ErrNotSupported},
		{name: "no dual on single", fixture: "thermostat_single_c", ns: nsRange, dir: "SetRangeValue", instance: InstanceLowerSetpoint, payload: `{"rangeValue":20}`, wantErr: model.ErrNotSupported},
		{name: "toggle on", fixture: "fan_generic", ns: nsToggle, dir: "TurnOn", instance: "Fan.Oscillate", want: "toggle[Fan.Oscillate]=true"},
		{name: "toggle off", fixture: "fan_generic", ns: nsToggle, dir: "TurnOff", instance: "Fan.Oscillate", want: "toggle[Fan.Oscillate]=false"},
		{name: "toggle unknown", fixture: "fan_generic", ns: nsToggle, dir: "TurnOff", instance: "Fan.Light", wantErr: model.ErrNotSupported},
		{name: "measured quantity read only", fixture: "air_quality_sensor", ns: nsRange, dir: "SetRangeValue", instance: "CO2.Current", payload: `{"rangeValue":400}`, wantErr: model.ErrNotSupported},
		{name: "measured quantity adjust", fixture: "soil_sensor", ns: nsRange, dir: "AdjustRangeValue", instance: "SoilMoisture.Current", payload: `{"rangeValueDelta":5}`, wantErr: model.ErrNotSupported},
		{name: "generic range set", fixture: "fan_generic", ns: nsRange, dir: "SetRangeValue", instance: "Fan.Speed", payload: `{"rangeValue":5}`, want: "range[Fan.Speed]=5"},
		{name: "generic range adjust clamps", fixture: "fan_generic", ns: nsRange, dir: "AdjustRangeValue", instance: "Fan.Speed", payload: `{"rangeValueDelta":-10}`, want: "range[Fan.Speed]=1"},
		{name: "generic range adjust default", fixture: "fan_generic", ns: nsRange, dir: "AdjustRangeValue", instance: "Fan.Speed", payload: `{"rangeValueDelta":-1,"rangeValueDeltaDefault":true}`, want: "range[Fan.Speed]=2"},
		{name: "generic mode set", fixture: "fan_generic", ns: nsMode, dir: "SetMode", instance: "Fan.Direction", payload: `{"mode":"Direction.Forward"}`, want: "mode[Fan.Direction]=Direction.Forward"},
		{name: "generic mode bad value", fixture: "fan_generic", ns: nsMode, dir: "SetMode", instance: "Fan.Direction", payload: `{"mode":"Direction.Up"}`,
			want: "mode[Fan.Direction]=Direction.Up", validate: model.ErrInvalidValue},
		{name: "generic mode adjust", fixture: "fan_generic", ns: nsMode, dir: "AdjustMode", instance: "Fan.Direction", payload: `{"modeDelta":-1}`, want: "mode[Fan.Direction]=Direction.Forward"},
		{name: "generic mode adjust clamps", fixture: "fan_generic", ns: nsMode, dir: "AdjustMode", instance: "Fan.Direction", payload: `{"modeDelta":7}`, want: "mode[Fan.Direction]=Direction.Reverse"},
		{name: "generic mode adjust fraction", fixture: "fan_generic", ns: nsMode, dir: "AdjustMode", instance: "Fan.Direction", payload: `{"modeDelta":0.5}`, wantErr: model.ErrInvalidValue},
		{name: "unknown namespace", fixture: "fan_generic", ns: "Alexa.Speaker", dir: "SetVolume", payload: `{"volume":5}`, wantErr: model.ErrNotSupported},
	})
}

func TestDecodeSmartHome(t *testing.T) {
	thermOff := func(s *model.State) { s.Thermostat.Mode = model.ModeOff }
	heat := func(s *model.State) { s.Thermostat.Mode = model.ModeHeat }
	runDecodeCases(t, ProfileSmartHome, []decodeCase{
		{name: "report state", fixture: "lock", ns: "Alexa", dir: "ReportState", want: "report state"},
		{name: "set brightness", fixture: "color_light", ns: nsBrightness, dir: "SetBrightness", payload: `{"brightness":75}`, want: "brightness=75"},
		{name: "set brightness out of range", fixture: "color_light", ns: nsBrightness, dir: "SetBrightness", payload: `{"brightness":101}`, want: "brightness=101", validate: model.ErrOutOfRange},
		{name: "adjust brightness", fixture: "color_light", ns: nsBrightness, dir: "AdjustBrightness", payload: `{"brightnessDelta":-25}`, want: "brightness=35"},
		{name: "adjust brightness clamps", fixture: "color_light", ns: nsBrightness, dir: "AdjustBrightness", payload: `{"brightnessDelta":-99}`, want: "brightness=0"},
		{name: "adjust brightness missing", fixture: "color_light", ns: nsBrightness, dir: "AdjustBrightness", payload: `{}`, wantErr: model.ErrInvalidValue},
		{name: "set color", fixture: "color_light", ns: nsColor, dir: "SetColor", payload: `{"color":{"hue":10,"saturation":0.5,"brightness":1}}`, want: "color=h10.0/s0.500/b1.000"},
		{name: "set color bad", fixture: "color_light", ns: nsColor, dir: "SetColor", payload: `{"color":{"hue":400,"saturation":0.5,"brightness":1}}`, want: "color=h400.0/s0.500/b1.000", validate: model.ErrInvalidValue},
		{name: "set color partial", fixture: "color_light", ns: nsColor, dir: "SetColor", payload: `{"color":{"hue":10}}`, wantErr: model.ErrInvalidValue},
		{name: "set color temperature", fixture: "color_light", ns: nsColorTemperature, dir: "SetColorTemperature", payload: `{"colorTemperatureInKelvin":6500}`, want: "color_temperature=6500K"},
		{name: "increase color temperature", fixture: "color_light", ns: nsColorTemperature, dir: "IncreaseColorTemperature", want: "color_temperature=3121K"},
		{name: "decrease color temperature clamps", fixture: "color_light", ns: nsColorTemperature, dir: "DecreaseColorTemperature", want: "color_temperature=2379K"},
		{name: "decrease color temperature at min", fixture: "color_light", state: func(s *model.State) { s.ColorTemperature = model.Ptr(2200) },
			ns: nsColorTemperature, dir: "DecreaseColorTemperature", want: "color_temperature=2200K"},
		{name: "lock", fixture: "lock", ns: nsLock, dir: "Lock", want: "lock=LOCKED"},
		{name: "unlock", fixture: "lock", ns: nsLock, dir: "Unlock", want: "lock=UNLOCKED"},
		{name: "lock unknown name", fixture: "lock", ns: nsLock, dir: "Jam", wantErr: model.ErrNotSupported},
		{name: "single setpoint C", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":23,"scale":"CELSIUS"}}`, want: "thermostat target=23C", scale: "CELSIUS"},
		{name: "single setpoint F", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":70,"scale":"FAHRENHEIT"}}`, want: "thermostat target=21.11C", scale: "FAHRENHEIT"},
		{name: "single setpoint K", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":295.15,"scale":"KELVIN"}}`, want: "thermostat target=22C", scale: "KELVIN"},
		{name: "single setpoint too hot", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":95,"scale":"FAHRENHEIT"}}`,
			want: "thermostat target=35C", scale: "FAHRENHEIT", validate: model.ErrTemperatureOutOfRange},
		{name: "single setpoint bad scale", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":20,"scale":"RANKINE"}}`, wantErr: model.ErrInvalidValue},
		{name: "single setpoint no value", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"scale":"CELSIUS"}}`, wantErr: model.ErrInvalidValue},
		{name: "no setpoint", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature", payload: `{}`, wantErr: model.ErrInvalidValue},
		{name: "dual on single", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetTargetTemperature",
			payload: `{"lowerSetpoint":{"value":18,"scale":"CELSIUS"},"upperSetpoint":{"value":24,"scale":"CELSIUS"}}`,
			want:    "thermostat lower=18C upper=24C", scale: "CELSIUS", validate: model.ErrDualSetpointsUnsupported},
		{name: "dual", fixture: "thermostat_dual_f", ns: nsThermostat, dir: "SetTargetTemperature",
			payload: `{"lowerSetpoint":{"value":68,"scale":"FAHRENHEIT"},"upperSetpoint":{"value":78,"scale":"FAHRENHEIT"}}`,
			want:    "thermostat lower=20C upper=25.56C", scale: "FAHRENHEIT"},
		{name: "dual too close", fixture: "thermostat_dual_f", ns: nsThermostat, dir: "SetTargetTemperature",
			payload: `{"lowerSetpoint":{"value":70,"scale":"FAHRENHEIT"},"upperSetpoint":{"value":72,"scale":"FAHRENHEIT"}}`,
			want:    "thermostat lower=21.11C upper=22.22C", scale: "FAHRENHEIT", validate: model.ErrSetpointsTooClose},
		{name: "triple", fixture: "thermostat_dual_f", ns: nsThermostat, dir: "SetTargetTemperature",
			payload: `{"targetSetpoint":{"value":73,"scale":"FAHRENHEIT"},"lowerSetpoint":{"value":68,"scale":"FAHRENHEIT"},"upperSetpoint":{"value":78,"scale":"FAHRENHEIT"}}`,
			wantErr: model.ErrTripleSetpointsUnsupported},
		{name: "adjust single", fixture: "thermostat_single_c", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":-2,"scale":"CELSIUS"}}`, want: "thermostat target=19.5C", scale: "CELSIUS"},
		{name: "adjust single F interval", fixture: "thermostat_single_c", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":-9,"scale":"FAHRENHEIT"}}`, want: "thermostat target=16.5C", scale: "FAHRENHEIT"},
		{name: "adjust single K interval", fixture: "thermostat_single_c", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":1,"scale":"KELVIN"}}`, want: "thermostat target=22.5C", scale: "KELVIN"},
		{name: "adjust single clamps", fixture: "thermostat_single_c", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":-40,"scale":"CELSIUS"}}`, want: "thermostat target=5C", scale: "CELSIUS"},
		{name: "adjust off", fixture: "thermostat_single_c", state: thermOff, ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":1,"scale":"CELSIUS"}}`, wantErr: model.ErrThermostatIsOff},
		{name: "adjust dual shifts both", fixture: "thermostat_dual_f", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":9,"scale":"FAHRENHEIT"}}`,
			want: "thermostat lower=25C upper=29C", scale: "FAHRENHEIT"},
		{name: "adjust dual clamps keeping the gap", fixture: "thermostat_dual_f", ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":20,"scale":"CELSIUS"}}`,
			want: "thermostat lower=28C upper=32C", scale: "CELSIUS"},
		{name: "adjust dual in heat moves target", fixture: "thermostat_dual_f", state: heat, ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":1,"scale":"CELSIUS"}}`,
			want: "thermostat target=22C", scale: "CELSIUS"},
		{name: "adjust unknown", fixture: "thermostat_single_c", state: func(s *model.State) { s.Thermostat = nil }, ns: nsThermostat, dir: "AdjustTargetTemperature", payload: `{"targetSetpointDelta":{"value":1,"scale":"CELSIUS"}}`, wantErr: model.ErrInvalidValue},
		{name: "set mode", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetThermostatMode", payload: `{"thermostatMode":{"value":"ECO"}}`, want: "thermostat mode=ECO"},
		{name: "set mode unsupported", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetThermostatMode", payload: `{"thermostatMode":{"value":"COOL"}}`, want: "thermostat mode=COOL", validate: model.ErrUnsupportedThermostatMode},
		{name: "set mode custom", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetThermostatMode", payload: `{"thermostatMode":{"value":"CUSTOM","customName":"DEHUMIDIFY"}}`, wantErr: model.ErrUnsupportedThermostatMode},
		{name: "set mode missing", fixture: "thermostat_single_c", ns: nsThermostat, dir: "SetThermostatMode", payload: `{}`, wantErr: model.ErrInvalidValue},
		{name: "setpoint while off", fixture: "thermostat_single_c", state: thermOff, ns: nsThermostat, dir: "SetTargetTemperature", payload: `{"targetSetpoint":{"value":20,"scale":"CELSIUS"}}`,
			want: "thermostat target=20C", scale: "CELSIUS", validate: model.ErrThermostatIsOff},
		{name: "thermostat on light", fixture: "color_light", ns: nsThermostat, dir: "SetThermostatMode", payload: `{"thermostatMode":{"value":"HEAT"}}`, wantErr: model.ErrNotSupported},
		{name: "avs instance on smarthome", fixture: "color_light", ns: nsRange, dir: "SetRangeValue", instance: InstanceBrightness, payload: `{"rangeValue":1}`, wantErr: model.ErrNotSupported},
		{name: "generic toggle", fixture: "fan_generic", ns: nsToggle, dir: "TurnOn", instance: "Fan.Oscillate", want: "toggle[Fan.Oscillate]=true"},
		{name: "generic range", fixture: "fan_generic", ns: nsRange, dir: "AdjustRangeValue", instance: "Fan.Speed", payload: `{"rangeValueDelta":1}`, want: "range[Fan.Speed]=4"},
		{name: "not json payload type", fixture: "color_light", ns: nsBrightness, dir: "SetBrightness", payload: `{"brightness":[1]}`, wantErr: model.ErrInvalidValue},
	})
}

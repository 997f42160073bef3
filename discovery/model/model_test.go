package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
	"unicode/utf8"
)

var thermoDual = &Thermostat{Modes: []ThermostatMode{ModeHeat, ModeCool, ModeAuto, ModeOff}, TargetSetpoint: true,
	DualSetpoints: true, MinC: 5, MaxC: 30, MinDeltaC: 2}

var allTraits = Traits{
	OnOff: &OnOff{}, Brightness: &Brightness{}, Color: &Color{},
	ColorTemperature: &ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500},
	Lock:             &Lock{}, Thermostat: thermoDual, TemperatureSensor: &TemperatureSensor{},
	Toggles: []Toggle{{Instance: "Fan.Oscillate"}, {Instance: "Ro", NonControllable: true}},
	Ranges:  []Range{{Instance: "Fan.Speed", Min: 1, Max: 5, Precision: 1}, {Instance: "RoR", Min: 0, Max: 1, NonControllable: true}},
	Modes:   []Mode{{Instance: "Wash.Cycle", Values: []ModeValue{{Value: "Cycle.Delicate"}, {Value: "Cycle.Normal"}}}},
}

func TestCommandValidate(t *testing.T) {
	heat := State{Thermostat: &ThermostatState{Mode: ModeHeat, Lower: Ptr(18.0), Upper: Ptr(24.0)}}
	off := State{Thermostat: &ThermostatState{Mode: ModeOff}}
	tests := []struct {
		name   string
		traits Traits
		state  State
		cmd    Command
		want   ErrorKind // "" = valid
	}{
		{"power", allTraits, State{}, SetPower(true), ""},
		{"power missing trait", Traits{}, State{}, SetPower(true), ErrNotSupported},
		{"power without value", allTraits, State{}, Command{Trait: TraitOnOff}, ErrInvalidValue},
		{"brightness 0", allTraits, State{}, SetBrightness(0), ""},
		{"brightness 100", allTraits, State{}, SetBrightness(100), ""},
		{"brightness 101", allTraits, State{}, SetBrightness(101), ErrOutOfRange},
		{"brightness -1", allTraits, State{}, SetBrightness(-1), ErrOutOfRange},
		{"color", allTraits, State{}, SetColor(HSB{Hue: 360, Saturation: 1, Brightness: 0}), ""},
		{"color hue 361", allTraits, State{}, SetColor(HSB{Hue: 361, Saturation: 1, Brightness: 1}), ErrInvalidValue},
		{"color NaN", allTraits, State{}, SetColor(HSB{Hue: math.NaN()}), ErrInvalidValue},
		{"ct in range", allTraits, State{}, SetColorTemperature(2200), ""},
		{"ct below", allTraits, State{}, SetColorTemperature(2199), ErrOutOfRange},
		{"ct above", allTraits, State{}, SetColorTemperature(6501), ErrOutOfRange},
		{"lock", allTraits, State{}, SetLock(Locked), ""},
		{"lock jammed is no command", allTraits, State{}, SetLock(Jammed), ErrInvalidValue},
		{"lock missing trait", Traits{OnOff: &OnOff{}}, State{}, SetLock(Unlocked), ErrNotSupported},
		{"thermostat mode", allTraits, heat, SetThermostat(ThermostatState{Mode: ModeCool}), ""},
		{"thermostat unsupported mode", allTraits, heat, SetThermostat(ThermostatState{Mode: ModeEco}), ErrUnsupportedThermostatMode},
		{"thermostat nothing", allTraits, heat, SetThermostat(ThermostatState{}), ErrInvalidValue},
		{"thermostat target", allTraits, heat, SetThermostat(ThermostatState{Target: Ptr(21.0)}), ""},
		{"thermostat target too hot", allTraits, heat, SetThermostat(ThermostatState{Target: Ptr(31.0)}), ErrTemperatureOutOfRange},
		{"thermostat target NaN", allTraits, heat, SetThermostat(ThermostatState{Target: Ptr(math.NaN())}), ErrTemperatureOutOfRange},
		{"thermostat is off", allTraits, off, SetThermostat(ThermostatState{Target: Ptr(21.0)}), ErrThermostatIsOff},
		{"off but turning on with setpoint", allTraits, off, SetThermostat(ThermostatState{Mode: ModeHeat, Target: Ptr(21.0)}), ""},
		{"triple", allTraits, heat, SetThermostat(ThermostatState{Target: Ptr(21.0), Lower: Ptr(18.0), Upper: Ptr(25.0)}), ErrTripleSetpointsUnsupported},
		{"dual unsupported", Traits{Thermostat: &Thermostat{Modes: []ThermostatMode{ModeHeat}, TargetSetpoint: true, MinC: 5, MaxC: 30}},
			heat, SetThermostat(ThermostatState{Lower: Ptr(18.0), Upper: Ptr(25.0)}), ErrDualSetpointsUnsupported},
		{"target unsupported", Traits{Thermostat: &Thermostat{Modes: []ThermostatMode{ModeAuto}, DualSetpoints: true, MinC: 5, MaxC: 30}},
			heat, SetThermostat(ThermostatState{Target: Ptr(20.0)}), ErrInvalidValue},
		{"dual ok", allTraits, heat, SetThermostat(ThermostatState{Lower: Ptr(18.0), Upper: Ptr(20.0)}), ""},
		{"dual too close", allTraits, heat, SetThermostat(ThermostatState{Lower: Ptr(18.0), Upper: Ptr(19.5)}), ErrSetpointsTooClose},
		{"dual inverted", allTraits, heat, SetThermostat(ThermostatState{Lower: Ptr(22.0), Upper: Ptr(20.0)}), ErrSetpointsTooClose},
		{"lower alone too close to current upper", allTraits, heat, SetThermostat(ThermostatState{Lower: Ptr(23.0)}), ErrSetpointsTooClose},
		{"upper alone ok", allTraits, heat, SetThermostat(ThermostatState{Upper: Ptr(28.0)}), ""},
		{"thermostat missing", Traits{}, heat, SetThermostat(ThermostatState{Mode: ModeHeat}), ErrNotSupported},
		{"toggle", allTraits, State{}, SetToggle("Fan.Oscillate", true), ""},
		{"toggle unknown instance", allTraits, State{}, SetToggle("Nope", true), ErrNotSupported},
		{"toggle non-controllable", allTraits, State{}, SetToggle("Ro", true), ErrNotSupported},
		{"range", allTraits, State{}, SetRange("Fan.Speed", 5), ""},
		{"range out", allTraits, State{}, SetRange("Fan.Speed", 6), ErrOutOfRange},
		{"range NaN", allTraits, State{}, SetRange("Fan.Speed", math.NaN()), ErrInvalidValue},
		{"range non-controllable", allTraits, State{}, SetRange("RoR", 0), ErrNotSupported},
		{"mode", allTraits, State{}, SetMode("Wash.Cycle", "Cycle.Normal"), ""},
		{"mode unknown value", allTraits, State{}, SetMode("Wash.Cycle", "Cycle.Hot"), ErrInvalidValue},
		{"mode unknown instance", allTraits, State{}, SetMode("Nope", "Cycle.Normal"), ErrNotSupported},
		{"unknown trait", allTraits, State{}, Command{Trait: "teleport"}, ErrInvalidValue},
		{"cover position", Traits{Cover: &Cover{}}, State{}, SetCoverPosition(42), ""},
		{"cover position 101", Traits{Cover: &Cover{}}, State{}, SetCoverPosition(101), ErrOutOfRange},
		{"cover stop", Traits{Cover: &Cover{}}, State{CoverPosition: Ptr(30)}, StopCover(), ""},
		{"cover stop without a cover", Traits{OnOff: &OnOff{}}, State{}, StopCover(), ErrNotSupported},
		{"cover stop false", Traits{Cover: &Cover{}}, State{}, Command{Trait: TraitCover, CoverStop: Ptr(false)}, ErrInvalidValue},
		{"cover stop and a position", Traits{Cover: &Cover{}}, State{}, Command{Trait: TraitCover, CoverStop: Ptr(true), CoverPosition: Ptr(50)}, ErrInvalidValue},
		{"cover nothing", Traits{Cover: &Cover{}}, State{}, Command{Trait: TraitCover}, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Validate(tt.traits, tt.state)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate(%s) = %v, want nil", tt.cmd, err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Kind != tt.want {
				t.Fatalf("Validate(%s) = %v, want kind %s", tt.cmd, err, tt.want)
			}
			if e.Kind == ErrOutOfRange && e.Min >= e.Max {
				t.Errorf("out of range without a valid range: %+v", e)
			}
			if e.Kind == ErrSetpointsTooClose && e.MinDelta != 2 {
				t.Errorf("MinDelta = %v, want 2", e.MinDelta)
			}
			if !strings.Contains(tt.cmd.String(), string(tt.cmd.Trait)) && tt.cmd.Trait != "teleport" {
				t.Errorf("String() = %q does not name the trait", tt.cmd.String())
			}
		})
	}
}

func TestCommandApply(t *testing.T) {
	base := State{On: Ptr(false), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)},
		Toggles: map[string]bool{"a": false}}
	tests := []struct {
		cmd  Command
		want State
	}{
		{SetPower(true), State{On: Ptr(true), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false}}},
		{SetBrightness(70), State{On: Ptr(false), Brightness: Ptr(70), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false}}},
		{SetThermostat(ThermostatState{Target: Ptr(22.0)}), State{On: Ptr(false), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(22.0)}, Toggles: map[string]bool{"a": false}}},
		{SetToggle("b", true), State{On: Ptr(false), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false, "b": true}}},
		{SetRange("r", 2), State{On: Ptr(false), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false}, Ranges: map[string]float64{"r": 2}}},
		{SetMode("m", "x"), State{On: Ptr(false), Brightness: Ptr(10), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false}, Modes: map[string]string{"m": "x"}}},
		{SetLock(Locked), State{On: Ptr(false), Brightness: Ptr(10), Lock: Locked, Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(20.0)}, Toggles: map[string]bool{"a": false}}},
		{Command{Trait: TraitOnOff}, base}, // no value: no effect
		{Command{Trait: TraitBrightness}, base},
		{Command{Trait: TraitMode, Instance: "m"}, base},
	}
	for _, tt := range tests {
		t.Run(tt.cmd.String(), func(t *testing.T) {
			before, _ := json.Marshal(base)
			got := tt.cmd.Apply(base)
			if !reflect.DeepEqual(got, tt.want) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(tt.want)
				t.Fatalf("Apply = %s, want %s", a, b)
			}
			after, _ := json.Marshal(base)
			if string(before) != string(after) {
				t.Fatalf("Apply changed its input: %s → %s", before, after)
			}
		})
	}
}

// randState builds a random partial state.
func randState(r *rand.Rand) State {
	var s State
	if r.IntN(2) == 0 {
		s.On = Ptr(r.IntN(2) == 0)
	}
	if r.IntN(2) == 0 {
		s.Brightness = Ptr(r.IntN(101))
	}
	if r.IntN(3) == 0 {
		s.Color = &HSB{Hue: float64(r.IntN(360)), Saturation: r.Float64(), Brightness: r.Float64()}
	}
	if r.IntN(3) == 0 {
		s.Lock = []LockState{Locked, Unlocked, Jammed}[r.IntN(3)]
	}
	if r.IntN(2) == 0 {
		t := &ThermostatState{Mode: []ThermostatMode{ModeHeat, ModeCool, ModeOff}[r.IntN(3)]}
		if r.IntN(2) == 0 {
			t.Target = Ptr(float64(r.IntN(30)))
		}
		if r.IntN(2) == 0 {
			t.Lower = Ptr(float64(r.IntN(30)))
		}
		s.Thermostat = t
	}
	if r.IntN(2) == 0 {
		s.Toggles = map[string]bool{fmt.Sprint("t", r.IntN(3)): r.IntN(2) == 0}
	}
	if r.IntN(2) == 0 {
		s.Ranges = map[string]float64{fmt.Sprint("r", r.IntN(3)): float64(r.IntN(10))}
	}
	if r.IntN(2) == 0 {
		s.Modes = map[string]string{fmt.Sprint("m", r.IntN(3)): fmt.Sprint("v", r.IntN(3))}
	}
	return s
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// Properties of Merge, Clone and DiffState over random states.
func TestStateProperties(t *testing.T) {
	cfg := &quick.Config{MaxCount: 2000}
	prop := func(seed1, seed2, seed3 uint64) bool {
		r := rand.New(rand.NewPCG(seed1, seed2))
		a, b, c := randState(r), randState(r), randState(rand.New(rand.NewPCG(seed3, 1)))
		aj, bj := js(a), js(b)
		m := a.Merge(b)
		switch {
		case js(a) != aj || js(b) != bj: // Merge never mutates its inputs
			t.Logf("mutated input")
			return false
		case js(m.Merge(b)) != js(m): // idempotent
			t.Logf("not idempotent")
			return false
		case js(a.Merge(State{})) != aj: // identity
			t.Logf("empty merge changed state")
			return false
		case js(a.Merge(b).Merge(c)) != js(a.Merge(b.Merge(c))): // associative
			t.Logf("not associative")
			return false
		case js(m.Merge(DiffState(m, c))) != js(m.Merge(c)): // the diff carries every change
			t.Logf("diff lost a change")
			return false
		case !DiffState(m, m.Merge(b)).IsZero(): // nothing new, no diff
			t.Logf("diff of merged-in state not empty")
			return false
		}
		cl := a.Clone()
		if js(cl) != aj {
			return false
		}
		if cl.On != nil {
			*cl.On = !*cl.On
		}
		if cl.Toggles != nil {
			cl.Toggles["x"] = true
		}
		if cl.Thermostat != nil {
			cl.Thermostat.Mode = "MUTATED"
		}
		return js(a) == aj // the clone is deep
	}
	if err := quick.Check(prop, cfg); err != nil {
		t.Fatal(err)
	}
}

func TestEndpointID(t *testing.T) {
	tests := []struct {
		serial, bridge, device, want string
	}{
		{"DSN1", "zigbee", "00124b0001", "DSN1::zigbee::00124b0001"},
		{"DSN1", "mqtt", "living room/lamp", "DSN1::mqtt::living_20room_2flamp"},
		{"DSN1", "mqtt", "a:b", "DSN1::mqtt::a_3ab"},
		{"DSN1", "mqtt", "a_b", "DSN1::mqtt::a_5fb"},
		{"DSN1", "mqtt", "a#b", "DSN1::mqtt::a_23b"},
		{"DSN1", "mqtt", "é", "DSN1::mqtt::_c3_a9"},
	}
	for _, tt := range tests {
		got := EndpointID(tt.serial, tt.bridge, tt.device)
		if got != tt.want {
			t.Errorf("EndpointID(%q, %q, %q) = %q, want %q", tt.serial, tt.bridge, tt.device, got, tt.want)
		}
		if !ValidEndpointID(got) {
			t.Errorf("EndpointID(%q, %q, %q) = %q is not valid", tt.serial, tt.bridge, tt.device, got)
		}
	}
	long := EndpointID("DSN", "b", strings.Repeat("x", 300))
	if len(long) != MaxEndpointIDLen || !ValidEndpointID(long) || long == EndpointID("DSN", "b", strings.Repeat("x", 301)) {
		t.Errorf("long id %q (%d) not bounded, valid and distinct", long, len(long))
	}
	for _, bad := range []string{"", "a b", "a/b", "a\x00", strings.Repeat("a", 257), "é"} {
		if ValidEndpointID(bad) {
			t.Errorf("ValidEndpointID(%q) = true", bad)
		}
	}
}

// FuzzEndpointID checks that every derived id is valid, stable and that
// distinct inputs give distinct ids.
func FuzzEndpointID(f *testing.F) {
	f.Add("DSN", "zigbee", "00124b", "DSN", "zigbee", "00124c")
	f.Add("a", "b::c", "d", "a::b", "c", "d")
	f.Add("a_3a", "b", "c", "a:", "b", "c")
	f.Add("x", "y", strings.Repeat("z", 300), "x", "y", strings.Repeat("z", 301))
	f.Add("x", "y", "a#0123", "x", "y", "a_230123")
	f.Fuzz(func(t *testing.T, s1, b1, d1, s2, b2, d2 string) {
		id1, id2 := EndpointID(s1, b1, d1), EndpointID(s2, b2, d2)
		if !ValidEndpointID(id1) || !ValidEndpointID(id2) {
			t.Fatalf("invalid id %q or %q", id1, id2)
		}
		if id1 != EndpointID(s1, b1, d1) {
			t.Fatal("not deterministic")
		}
		same := s1 == s2 && b1 == b2 && d1 == d2
		if same != (id1 == id2) {
			t.Fatalf("inputs (%q,%q,%q) and (%q,%q,%q): ids %q and %q", s1, b1, d1, s2, b2, d2, id1, id2)
		}
	})
}

// FuzzValidEndpointID checks ValidEndpointID against the schema's rule.
func FuzzValidEndpointID(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", "a_b-c=d#e;f:g?h@i&j", "é", strings.Repeat("a", 257)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) >= 1 && len(s) <= 256
		for _, c := range []byte(s) {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-=#;:?@&", c) >= 0
			want = want && ok
		}
		if got := ValidEndpointID(s); got != want {
			t.Fatalf("ValidEndpointID(%q) = %v, want %v", s, got, want)
		}
	})
}

func TestValidateFriendlyName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"Lamp", true}, {"", false}, {"   ", false}, {strings.Repeat("é", 128), true}, {strings.Repeat("é", 129), false}, {"\xff", false}} {
		if err := ValidateFriendlyName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateFriendlyName(%q) = %v", tt.name, err)
		}
	}
}

func TestDedupeFriendlyNames(t *testing.T) {
	eps := []Endpoint{
		{ID: "c", DeviceID: "c", FriendlyName: "Lamp"},
		{ID: "a", DeviceID: "a", FriendlyName: "lamp "},
		{ID: "b", DeviceID: "b", FriendlyName: "LAMP"},
		{ID: "d", DeviceID: "d", FriendlyName: ""},
		{ID: "e", DeviceID: "e", FriendlyName: "Lamp 2"},
		{ID: "f", DeviceID: "f", FriendlyName: strings.Repeat("x", 130)},
	}
	renames := DedupeFriendlyNames(eps)
	got := map[string]string{}
	for _, e := range eps {
		got[e.ID] = e.FriendlyName
	}
	want := map[string]string{"a": "lamp", "b": "LAMP 2", "c": "Lamp 3", "d": "Device d", "e": "Lamp 2 2", "f": strings.Repeat("x", 128)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	if len(renames) != 6 {
		t.Fatalf("renames %v", renames)
	}
}

// Property: after DedupeFriendlyNames every name is valid and unique (case and
// space insensitive), the result does not depend on the input order, and a
// second pass renames nothing.
func TestDedupeFriendlyNamesProperties(t *testing.T) {
	names := []string{"Lamp", "lamp", "LAMP 2", "Lamp 2", " ", "", "Door", "bad \xff", "bad \xfe", strings.Repeat("y", 127) + "z", strings.Repeat("y", 128)}
	prop := func(seed uint64, n uint8) bool {
		r := rand.New(rand.NewPCG(seed, 7))
		var eps []Endpoint
		for i := range int(n%40) + 1 {
			eps = append(eps, Endpoint{ID: fmt.Sprintf("id%03d", i), DeviceID: fmt.Sprint(i), FriendlyName: names[r.IntN(len(names))]})
		}
		shuffled := append([]Endpoint(nil), eps...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		DedupeFriendlyNames(eps)
		DedupeFriendlyNames(shuffled)
		seen := map[string]bool{}
		byID := map[string]string{}
		for _, e := range eps {
			key := strings.ToLower(strings.TrimSpace(e.FriendlyName))
			if ValidateFriendlyName(e.FriendlyName) != nil || seen[key] || !utf8.ValidString(e.FriendlyName) {
				t.Logf("bad or duplicate name %q", e.FriendlyName)
				return false
			}
			seen[key] = true
			byID[e.ID] = e.FriendlyName
		}
		for _, e := range shuffled {
			if byID[e.ID] != e.FriendlyName {
				t.Logf("order-dependent: %s got %q and %q", e.ID, byID[e.ID], e.FriendlyName)
				return false
			}
		}
		return len(DedupeFriendlyNames(eps)) == 0
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 500}); err != nil {
		t.Fatal(err)
	}
}

func TestAsError(t *testing.T) {
	if AsError(nil) != nil {
		t.Fatal("AsError(nil) != nil")
	}
	de := &Error{Kind: ErrBusy}
	if AsError(fmt.Errorf("wrapped: %w", de)) != de {
		t.Fatal("wrapped *Error not unwrapped")
	}
	if k := AsError(fmt.Errorf("x: %w", errDeadline)).Kind; k != ErrUnreachable {
		t.Fatalf("deadline → %s, want UNREACHABLE", k)
	}
	if k := AsError(fmt.Errorf("boom")).Kind; k != ErrInternal {
		t.Fatalf("plain error → %s", k)
	}
}

func TestCheckState(t *testing.T) {
	th := &Thermostat{Modes: []ThermostatMode{ModeHeat, ModeOff}, TargetSetpoint: true, MinC: 5, MaxC: 35}
	traits := Traits{OnOff: &OnOff{}, Brightness: &Brightness{}, Color: &Color{}, ColorTemperature: &ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500},
		Lock: &Lock{}, Thermostat: th, TemperatureSensor: &TemperatureSensor{},
		Ranges: []Range{{Instance: "Fan.Speed", Min: 1, Max: 5}}, Modes: []Mode{{Instance: "Wash.Cycle", Values: []ModeValue{{Value: "Cotton"}}}},
		Toggles: []Toggle{{Instance: "Oscillate"}}}
	tests := []struct {
		name  string
		in    State
		wantN int
		check func(State) bool
	}{
		{"all valid", State{On: Ptr(true), Brightness: Ptr(100), Color: &HSB{Hue: 360, Saturation: 1, Brightness: 0}, ColorTemperature: Ptr(2200),
			Lock: Jammed, Temperature: Ptr(-20.5), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(35.0)},
			Ranges: map[string]float64{"Fan.Speed": 5}, Modes: map[string]string{"Wash.Cycle": "Cotton"}, Toggles: map[string]bool{"Oscillate": true}},
			0, func(s State) bool { return *s.Brightness == 100 && *s.Thermostat.Target == 35 }},
		{"brightness 150", State{On: Ptr(true), Brightness: Ptr(150)}, 1, func(s State) bool { return s.Brightness == nil && *s.On }},
		{"brightness -1", State{Brightness: Ptr(-1)}, 1, func(s State) bool { return s.Brightness == nil }},
		{"zigbee 0x7FFF", State{Temperature: Ptr(327.67), Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(327.67)}}, 2,
			func(s State) bool {
				return s.Temperature == nil && s.Thermostat.Target == nil && s.Thermostat.Mode == ModeHeat
			}},
		{"NaN temperature", State{Temperature: Ptr(math.NaN())}, 1, func(s State) bool { return s.Temperature == nil }},
		{"setpoint only, out", State{Thermostat: &ThermostatState{Target: Ptr(4.0)}}, 1, func(s State) bool { return s.Thermostat == nil }},
		{"unknown mode", State{Thermostat: &ThermostatState{Mode: ModeCool}}, 1, func(s State) bool { return s.Thermostat == nil }},
		{"hue 400", State{Color: &HSB{Hue: 400, Saturation: 0.5, Brightness: 0.5}}, 1, func(s State) bool { return s.Color == nil }},
		{"kelvin", State{ColorTemperature: Ptr(9000)}, 1, func(s State) bool { return s.ColorTemperature == nil }},
		{"lock", State{Lock: "OPEN"}, 1, func(s State) bool { return s.Lock == "" }},
		{"generic", State{Ranges: map[string]float64{"Fan.Speed": 9, "Nope": 1}, Modes: map[string]string{"Wash.Cycle": "Wool"},
			Toggles: map[string]bool{"Oscillate": true, "Other": false}}, 4,
			func(s State) bool { return len(s.Ranges) == 0 && len(s.Modes) == 0 && len(s.Toggles) == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in.Clone()
			got, bad := traits.CheckState(tt.in)
			if len(bad) != tt.wantN || !tt.check(got) {
				t.Errorf("got %+v, problems %q; want %d problems", got, bad, tt.wantN)
			}
			if tt.name != "NaN temperature" && !reflect.DeepEqual(in, tt.in) {
				t.Errorf("CheckState changed its argument")
			}
		})
	}
	// A value whose trait the endpoint lacks is not this check's business.
	if _, bad := (Traits{OnOff: &OnOff{}}).CheckState(State{Brightness: Ptr(150)}); len(bad) != 0 {
		t.Errorf("undeclared trait checked: %q", bad)
	}
}

// TestEndpointIDEveryByte checks the escape of each byte value against its
// definition: characters Alexa allows stay, except '_', ':' and '#', and every
// other byte is "_%02x".
func TestEndpointIDEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := fmt.Sprintf("_%02x", c)
		if idChar(byte(c)) && c != '_' && c != ':' && c != '#' {
			want = string(rune(c))
		}
		if got := EndpointID("S", "b", "x"+string([]byte{byte(c)})+"y"); got != "S::b::x"+want+"y" {
			t.Errorf("byte %#x: %q, want %q", c, got, "S::b::x"+want+"y")
		}
	}
}

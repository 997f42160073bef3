package alexa

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	"github.com/avshub/avshub/discovery/model"
)

var scales = []Scale{Celsius, Fahrenheit, Kelvin}

func near(a, b, eps float64) bool {
	return math.Abs(a-b) <= eps*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// temp is a generated temperature in a plausible range (−100…200 °C).
type temp float64

func (temp) Generate(r *rand.Rand, _ int) reflect.Value {
	return reflect.ValueOf(temp(r.Float64()*300 - 100))
}

func TestQuickTemperatureRoundTrip(t *testing.T) {
	for _, s := range scales {
		f := func(c temp) bool { return near(ToCelsius(FromCelsius(float64(c), s), s), float64(c), 1e-12) }
		if err := quick.Check(f, nil); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// An interval converts like the difference of two absolute temperatures.
func TestQuickIntervals(t *testing.T) {
	for _, s := range scales {
		f := func(a, b temp) bool {
			abs := ToCelsius(float64(a), s) - ToCelsius(float64(b), s)
			return near(IntervalToCelsius(float64(a-b), s), abs, 1e-9) &&
				near(IntervalFromCelsius(IntervalToCelsius(float64(a-b), s), s), float64(a-b), 1e-9)
		}
		if err := quick.Check(f, nil); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if got := IntervalToCelsius(9, Fahrenheit); got != 5 {
		t.Errorf("9 °F of difference = %v °C, want 5", got)
	}
	if got := ToCelsius(32, Fahrenheit); got != 0 {
		t.Errorf("32 °F = %v °C", got)
	}
	if got := ToCelsius(273.15, Kelvin); got != 0 {
		t.Errorf("273.15 K = %v °C", got)
	}
}

// rangeCase is a generated range with a current value on its precision grid
// and a delta (sometimes Alexa's default).
type rangeCase struct {
	spec      rangeSpec
	cur       float64
	delta     float64
	isDefault bool
}

func (rangeCase) Generate(r *rand.Rand, _ int) reflect.Value {
	precs := []float64{0.1, 0.5, 1, 5, 100}
	prec := precs[r.Intn(len(precs))]
	steps := 1 + r.Intn(200)
	min := math.Round(r.Float64()*200-100) * prec
	max := min + float64(steps)*prec
	cur := min + float64(r.Intn(steps+1))*prec
	delta := (r.Float64()*2 - 1) * float64(steps) * prec * 1.5
	return reflect.ValueOf(rangeCase{rangeSpec{min: min, max: max, precision: prec}, cur, delta, r.Intn(4) == 0})
}

// An adjustment stays in range, moves in the delta's direction, and lands on
// the precision grid.
func TestQuickAdjustRange(t *testing.T) {
	f := func(c rangeCase) bool {
		got := adjustRange(c.cur, c.delta, c.isDefault, c.spec)
		s := c.spec
		if got < s.min-1e-9 || got > s.max+1e-9 {
			return false
		}
		if c.delta > 0 && got < c.cur-1e-9 || c.delta < 0 && got > c.cur+1e-9 {
			return false
		}
		k := (got - s.min) / s.precision
		return math.Abs(k-math.Round(k)) < 1e-6
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

type kelvinCase struct{ min, max, cur int }

func (kelvinCase) Generate(r *rand.Rand, _ int) reflect.Value {
	min := 1000 + r.Intn(3000)
	max := min + r.Intn(8000)
	return reflect.ValueOf(kelvinCase{min, max, min + r.Intn(max-min+1)})
}

func TestQuickColorTemperatureStep(t *testing.T) {
	f := func(c kelvinCase) bool {
		up := stepColorTemperature(c.cur, true, c.min, c.max)
		down := stepColorTemperature(c.cur, false, c.min, c.max)
		return up >= c.cur && down <= c.cur && up <= c.max && down >= c.min &&
			(up > c.cur || c.cur == c.max) && (down < c.cur || c.cur == c.min)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

type thermoCase struct {
	th           model.Thermostat
	lower, upper float64
	delta        float64
}

func (thermoCase) Generate(r *rand.Rand, _ int) reflect.Value {
	min := float64(r.Intn(15))
	max := min + 5 + float64(r.Intn(30))
	lower := min + r.Float64()*(max-min)
	upper := lower + r.Float64()*(max-lower)
	return reflect.ValueOf(thermoCase{
		th:    model.Thermostat{DualSetpoints: true, MinC: min, MaxC: max},
		lower: lower, upper: upper, delta: (r.Float64()*2 - 1) * 60,
	})
}

// Adjusting dual setpoints keeps both in range and keeps their distance.
func TestQuickAdjustDualSetpoints(t *testing.T) {
	d := &Directive{Header: Header{Namespace: nsThermostat, Name: "AdjustTargetTemperature"}}
	f := func(c thermoCase) bool {
		st := model.State{Thermostat: &model.ThermostatState{Mode: model.ModeAuto, Lower: &c.lower, Upper: &c.upper}}
		got, err := adjustThermostat(d, &c.th, st, c.delta)
		if err != nil || got.Lower == nil || got.Upper == nil {
			return false
		}
		l, u := *got.Lower, *got.Upper
		return l >= c.th.MinC-0.01 && u <= c.th.MaxC+0.01 && near(u-l, c.upper-c.lower, 0.02) &&
			(c.delta < 0 || l >= c.lower-0.01) && (c.delta > 0 || l <= c.lower+0.01)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

// Every brightness adjustment, from any state, decodes into a valid command.
func TestQuickAdjustBrightnessValid(t *testing.T) {
	p := mustProfile(t, ProfileSmartHome)
	f := fixtureByName(t, "color_light")
	check := func(level uint8, on bool, delta int16) bool {
		st := model.State{On: &on, Brightness: model.Ptr(int(level) % 101)}
		d := directive(t, nsBrightness, "AdjustBrightness", "", f.ep.ID, fmt.Sprintf(`{"brightnessDelta":%d}`, delta))
		in, err := p.Decode(d, f.ep, st)
		return err == nil && in.Command.Validate(f.ep.Traits, st) == nil
	}
	if err := quick.Check(check, nil); err != nil {
		t.Error(err)
	}
}

func TestNearestColor(t *testing.T) {
	for _, c := range namedColors {
		if got := nearestColor(model.HSB{Hue: c.hue, Saturation: c.sat, Brightness: 0.3}); got.value != c.value {
			t.Errorf("nearestColor(%s) = %s", c.value, got.value)
		}
	}
	if got := nearestColor(model.HSB{Hue: 355, Saturation: 0.95}); got.value != "Color.Red" {
		t.Errorf("hue 355 → %s, want Color.Red", got.value)
	}
	if got := nearestColor(model.HSB{Hue: 200, Saturation: 0.05}); got.value != "Color.White" {
		t.Errorf("unsaturated → %s, want Color.White", got.value)
	}
}

func TestSetpointSpec(t *testing.T) {
	th := &model.Thermostat{MinC: 7, MaxC: 32}
	if s := setpointSpec(th, Fahrenheit); s.min != 45 || s.max != 89 || s.precision != 1 {
		t.Errorf("F spec = %+v, want 45–89 step 1 (44.6–89.6 narrowed)", s)
	}
	if s := setpointSpec(&model.Thermostat{MinC: 5.2, MaxC: 30}, Celsius); s.min != 5.5 || s.max != 30 || s.precision != 0.5 {
		t.Errorf("C spec = %+v", s)
	}
}

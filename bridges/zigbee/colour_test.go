package zigbee

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// TestXYIsTheSharedConversion: for every colour of colorconv.AlexaColors, the
// Move to Color command the bridge sends an xy-only lamp (hsbToXY, then
// xyToZCL, as Execute does) carries the xy of avshub's one colour conversion,
// to the ZCL's resolution (1/65536). The MQTT bridge's test of the same name
// checks the same table, so both bridges send the same xy for the same colour.
func TestXYIsTheSharedConversion(t *testing.T) {
	for _, c := range colorconv.AlexaColors {
		x, y := hsbToXY(model.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: 1}, nil)
		want := colorconv.HSToXY(c.Hue, c.Saturation, nil)
		for _, v := range []struct{ got, want float64 }{{x, want.X}, {y, want.Y}} {
			if d := math.Abs(float64(xyToZCL(v.got))/65536 - v.want); d > 1.0/65536 {
				t.Errorf("%s: sent %d/65536, want %g", c.Name, xyToZCL(v.got), v.want)
			}
		}
	}
}

// TestGamutDeclaredFirst: the gamut the bridge clamps an xy-only lamp's
// colour to is the one the lamp declares with its primaries, then the one of
// its Hue model identifier, then none (sRGB as it is).
func TestGamutDeclaredFirst(t *testing.T) {
	declared := &colorconv.Gamut{R: colorconv.Point{X: 0.68, Y: 0.31}, G: colorconv.Point{X: 0.15, Y: 0.6}, B: colorconv.Point{X: 0.14, Y: 0.06}}
	green := &model.State{Color: &model.HSB{Hue: 120, Saturation: 1, Brightness: 1}}
	for _, c := range []struct {
		name string
		r    record
		want colorconv.Point
	}{
		{"declared primaries win over the model's table", record{Model: "LCT001", Gamut: declared}, colorconv.HSToXY(120, 1, declared)},
		{"no primaries: the Hue model's gamut B", record{Model: "LCT001"}, colorconv.HueGamutB.G},
		{"neither: sRGB green as it is", record{Model: "TRADFRI bulb E27 CWS opal 600lm"}, colorconv.Point{X: 0.3, Y: 0.6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if x, y := c.r.xy(green); math.Abs(x-c.want.X) > 1e-9 || math.Abs(y-c.want.Y) > 1e-9 {
				t.Errorf("green: xy (%g, %g), want %v", x, y, c.want)
			}
		})
	}
	if p := colorconv.HSToXY(120, 1, declared); p == colorconv.HueGamutB.G || p == (colorconv.Point{X: 0.3, Y: 0.6}) {
		t.Fatalf("the declared gamut clamps green to %v, like another row: the table cannot tell them apart", p)
	}
}

// TestDeclaredGamut: the primaries read become a gamut only when all seven
// attributes came back and make a valid one.
func TestDeclaredGamut(t *testing.T) {
	u16 := func(v int64) zcl.Value { return zcl.Value{Type: zcl.TypeUint16, Int: v} }
	full := func() map[uint16]zcl.Value {
		return map[uint16]zcl.Value{zcl.AttrNumberOfPrimaries: {Type: zcl.TypeUint8, Int: 3},
			zcl.AttrPrimary1X: u16(45318), zcl.AttrPrimary1Y: u16(20205), zcl.AttrPrimary2X: u16(11141),
			zcl.AttrPrimary2Y: u16(45875), zcl.AttrPrimary3X: u16(10040), zcl.AttrPrimary3Y: u16(3113)}
	}
	g := declaredGamut(full())
	if g == nil || math.Abs(g.R.X-colorconv.HueGamutC.R.X) > 1e-4 || math.Abs(g.G.Y-colorconv.HueGamutC.G.Y) > 1e-4 || math.Abs(g.B.Y-colorconv.HueGamutC.B.Y) > 1e-4 {
		t.Fatalf("gamut C's primaries gave %v", g)
	}
	for _, c := range []struct {
		name string
		edit func(map[uint16]zcl.Value)
	}{
		{"nothing (UNSUPPORTED_ATTRIBUTE for all)", func(m map[uint16]zcl.Value) { clear(m) }},
		{"no NumberOfPrimaries", func(m map[uint16]zcl.Value) { delete(m, zcl.AttrNumberOfPrimaries) }},
		{"no Primary3Y", func(m map[uint16]zcl.Value) { delete(m, zcl.AttrPrimary3Y) }},
		{"one primary", func(m map[uint16]zcl.Value) { m[zcl.AttrNumberOfPrimaries] = zcl.Value{Type: zcl.TypeUint8, Int: 1} }},
		{"an invalid coordinate (0xFFFF)", func(m map[uint16]zcl.Value) { m[zcl.AttrPrimary2X] = u16(0xFFFF) }},
		{"all zero", func(m map[uint16]zcl.Value) {
			for _, id := range primaryAttrs[1:] {
				m[id] = u16(0)
			}
		}},
	} {
		m := full()
		c.edit(m)
		if g := declaredGamut(m); g != nil {
			t.Errorf("%s: gamut %v, want none", c.name, *g)
		}
	}
}

// TestInterviewReadsPrimaries: the interview reads the defined primaries of a
// colour lamp (the simulated Hue LCT015 declares gamut C) and keeps them as
// its gamut; it does not ask a colour-temperature lamp, which has none (the
// IKEA bulb answers UNSUPPORTED_ATTRIBUTE for each, as read here directly).
// An Alexa colour sent as xy to a lamp that declares primaries is clamped to
// them, not to the gamut of its model identifier: with the record's model set
// to LCT001 (gamut B in Philips' table) and its capabilities to xy only, green
// goes out as gamut C's clamp on the wire.
func TestInterviewReadsPrimaries(t *testing.T) {
	r := newRig(t, testDevices(t))
	m := r.frames.mark()
	r.pair(ieeeHue, ieeeIkeaCT)
	hue, _ := r.record(ieeeHue)
	if g := hue.Gamut; g == nil {
		t.Fatal("the Hue bulb's declared primaries were not kept")
	} else {
		for _, p := range [][2]colorconv.Point{{g.R, colorconv.HueGamutC.R}, {g.G, colorconv.HueGamutC.G}, {g.B, colorconv.HueGamutC.B}} {
			if math.Abs(p[0].X-p[1].X) > 1e-4 || math.Abs(p[0].Y-p[1].Y) > 1e-4 {
				t.Errorf("declared primary %v, want gamut C's %v", p[0], p[1])
			}
		}
	}
	ct, _ := r.record(ieeeIkeaCT)
	if ct.Gamut != nil {
		t.Errorf("the IKEA colour-temperature bulb got a gamut %v", *ct.Gamut)
	}
	// Read Attributes (frame control 0x00 or 0x10, command 0x00) that ask for
	// NumberOfPrimaries, per destination short address.
	asked := map[uint16]int{}
	r.frames.mu.Lock()
	for _, f := range r.frames.frames[m:] {
		if f.Subsystem != unpi.AF || f.Cmd != mt.AfDataRequest || len(f.Data) < 10 || uint16(f.Data[4])|uint16(f.Data[5])<<8 != zcl.ClusterColor {
			continue
		}
		p := f.Data[10 : 10+int(f.Data[9])]
		if len(p) >= 5 && p[0]&0x03 == 0 && p[2] == zcl.CmdReadAttributes && p[3] == byte(zcl.AttrNumberOfPrimaries) && p[4] == 0 {
			asked[uint16(f.Data[0])|uint16(f.Data[1])<<8]++
		}
	}
	r.frames.mu.Unlock()
	if asked[hue.NWK] != 1 || asked[ct.NWK] != 0 {
		t.Errorf("primaries read %d times from the Hue bulb, %d from the IKEA bulb; want once and never", asked[hue.NWK], asked[ct.NWK])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v, err := r.br.readAttributes(ctx, ieeeIkeaCT, zcl.ClusterColor, primaryAttrs...); err != nil || len(v) != 0 {
		t.Errorf("IKEA bulb's primaries: %v, %v; want no value (UNSUPPORTED_ATTRIBUTE) and no error", v, err)
	}

	r.br.mu.Lock()
	rec := r.br.devices[ieeeHue]
	rec.Model, rec.ColorCaps = "LCT001", zcl.ColorCapXY|zcl.ColorCapTemperature
	declared := *rec.Gamut
	r.br.mu.Unlock()
	mark := r.frames.mark()
	if _, err := r.exec(ieeeHue, model.SetColor(model.HSB{Hue: 120, Saturation: 1, Brightness: 1})); err != nil {
		t.Fatalf("Execute green: %v", err)
	}
	want := colorconv.HSToXY(120, 1, &declared)
	x, y := xyToZCL(want.X), xyToZCL(want.Y)
	wire := fmt.Sprintf("01 ?? 07 %02X %02X %02X %02X 00 00", byte(x), byte(x>>8), byte(y), byte(y>>8))
	if sent := r.frames.zclSent(mark, zcl.ClusterColor); len(sent) != 1 || !zclMatch(sent[0], wire) {
		t.Fatalf("sent %x, want one Move to Color %s (green in the declared gamut)", sent, wire)
	}
	if b := colorconv.HueGamutB.G; xyToZCL(b.X) == x && xyToZCL(b.Y) == y {
		t.Fatal("the declared gamut's green equals gamut B's: the test cannot tell which one was used")
	}
}

// TestXYKeepsToTheLampsGamut: a lamp whose Basic cluster model identifier is
// a Hue model Philips lists (LCT001, gamut B) gets xy inside its gamut: sRGB
// green, outside gamut B, goes to the gamut's green corner, the xy the MQTT
// bridge's test of the same name sends for the same model.
func TestXYKeepsToTheLampsGamut(t *testing.T) {
	r := &record{Model: "LCT001"}
	x, y := r.xy(&model.State{Color: &model.HSB{Hue: 120, Saturation: 1, Brightness: 1}})
	if want := (colorconv.Point{X: 0.409, Y: 0.518}); x != want.X || y != want.Y {
		t.Errorf("green to an LCT001: xy (%g, %g), want gamut B's green corner %v", x, y, want)
	}
	r.Model = "TRADFRI bulb E27 CWS opal 600lm" // no declared gamut: sRGB green as it is
	if x, y := r.xy(&model.State{Color: &model.HSB{Hue: 120, Saturation: 1, Brightness: 1}}); x != 0.3 || y != 0.6 {
		t.Errorf("green to a lamp without a gamut: xy (%g, %g), want (0.3, 0.6)", x, y)
	}
}

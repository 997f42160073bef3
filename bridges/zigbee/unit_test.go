package zigbee

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/avshub/avshub/bridges/zigbee/internal/hexbytes"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// The notes' AF_INCOMING_MSG example (OnOff report from 0x1234 ep 1), with and
// without the undocumented 3-byte trailer: the data is read by its length.
func TestParseIncomingVector(t *testing.T) {
	base := "00 00 06 00 34 12 01 01 00 78 00 E8 03 00 00 00 07 18 05 0A 00 00 10 01"
	for _, s := range []string{base, base + " 34 12 1E"} {
		m, err := parseIncoming(hexbytes.Must(t, s))
		if err != nil || m.cluster != zcl.ClusterOnOff || m.src != 0x1234 || m.srcEP != 1 || m.dstEP != 1 ||
			!bytes.Equal(m.data, hexbytes.Must(t, "18 05 0A 00 00 10 01")) {
			t.Fatalf("%s: %+v %v", s, m, err)
		}
	}
	if _, err := parseIncoming(hexbytes.Must(t, "00 00 06 00 34 12 01 01 00 78 00 E8 03 00 00 00 09 18 05")); err == nil {
		t.Fatal("a length past the frame was accepted")
	}
}

func TestSampleConfigMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(ConfigSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("zigbee.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("zigbee.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg string
		ok  bool
	}{
		{SampleConfig, true},
		{`{"port":"/dev/ttyUSB0"}`, true},
		{`{"port":"/dev/ttyUSB0","channel":10}`, false},
		{`{"port":"/dev/ttyUSB0","names":{"XYZ":"a"}}`, false},
		{`{}`, false},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); (err == nil) != tc.ok {
			t.Errorf("schema on %s: %v", tc.cfg, err)
		}
		if _, err := ParseConfig([]byte(tc.cfg)); (err == nil) != tc.ok {
			t.Errorf("ParseConfig(%s): %v", tc.cfg, err)
		}
	}
	d := New().Describe()
	if !d.Pairing || !json.Valid(d.ConfigSchema) || !json.Valid(d.SampleConfig) {
		t.Fatalf("Describe: %+v", d)
	}
}

func TestColorConversions(t *testing.T) {
	for _, c := range []struct {
		hsb  model.HSB
		x, y float64
	}{
		{model.HSB{Hue: 0, Saturation: 1, Brightness: 1}, 0.6400, 0.3300},
		{model.HSB{Hue: 120, Saturation: 1, Brightness: 1}, 0.3000, 0.6000},
		{model.HSB{Hue: 240, Saturation: 1, Brightness: 1}, 0.1500, 0.0600},
	} {
		x, y := hsbToXY(c.hsb, nil)
		if math.Abs(x-c.x) > 0.002 || math.Abs(y-c.y) > 0.002 {
			t.Errorf("%+v → (%.4f, %.4f), want (%.4f, %.4f)", c.hsb, x, y, c.x, c.y)
		}
		h, s := xyToHS(x, y)
		if math.Abs(math.Mod(h-c.hsb.Hue+540, 360)-180) > 1 || math.Abs(s-1) > 0.01 {
			t.Errorf("xy (%.4f, %.4f) → h %.1f s %.3f, want %+v", x, y, h, s, c.hsb)
		}
	}
	if pctToLevel(50) != 127 || levelToPct(254) != 100 || hueToZCL(360) != 0 || kelvinToMired(2700) != 370 || miredToKelvin(153) != 6536 {
		t.Fatal("unit conversions")
	}
}

func TestTraitsFromClusters(t *testing.T) {
	ep := func(in ...uint16) []endpointRecord { return []endpointRecord{{ID: 1, Profile: 0x0104, In: in}} }
	cases := []struct {
		name string
		r    record
		want string
	}{
		{"plug", record{IEEE: "0000000000000001", Endpoints: ep(0, 6)}, `{"onOff":{}}`},
		{"xy-only bulb", record{IEEE: "0000000000000002", Endpoints: ep(0, 6, 8, 0x300), ColorCaps: zcl.ColorCapXY}, `{"onOff":{},"brightness":{},"color":{}}`},
		{"cool-and-heat thermostat", record{IEEE: "0000000000000003", Endpoints: ep(0, 0x201), ControlSeq: 4, MinSetpointC: 7, MaxSetpointC: 30},
			`{"thermostat":{"modes":["HEAT","COOL","AUTO","OFF"],"targetSetpoint":true,"minC":7,"maxC":30,"stepC":0.5,"scale":"CELSIUS"},"temperatureSensor":{}}`},
		{"remote", record{IEEE: "0000000000000004", Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1}, Out: []uint16{6, 8}}}}, `{"battery":{}}`},
	}
	for _, c := range cases {
		got, _ := json.Marshal(c.r.traits())
		if string(got) != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if _, ok := cases[3].r.endpoint(nil); ok {
		t.Error("a trait-less device would be published")
	}
}

// FuzzIncoming feeds arbitrary AF_INCOMING_MSG payloads from a known device
// through the bridge's handler: nothing may panic.
func FuzzIncoming(f *testing.F) {
	f.Add(hexbytes.Must(f, "00 00 06 00 01 6A 0B 01 00 78 00 E8 03 00 00 00 07 18 05 0A 00 00 10 01"))
	f.Add(hexbytes.Must(f, "00 00 01 01 01 6A 0B 01 00 78 00 E8 03 00 00 00 0E 19 09 20 01 02 00 00 00 10 20 30 40 00 34 12 1E"))
	f.Add(hexbytes.Must(f, "00 00 00 03 01 6A 0B 01 00 78 00 E8 03 00 00 00 0C 18 05 0A 03 00 21 10 00 04 00 21 00 10"))
	f.Add(hexbytes.Must(f, "00 00 01 02 01 6A 0B 01 00 78 00 E8 03 00 00 00 08 08 05 0A 00 00 29 00 80"))
	b := New(WithLogger(slog.New(slog.DiscardHandler)))
	b.dataDir = f.TempDir()
	b.em = newRecEmitter()
	b.devices[ieeeHue] = &record{IEEE: ieeeHue, NWK: 0x6a01, Interviewed: true, Reachable: true, ColorCaps: zcl.ColorCapXY,
		Endpoints:   []endpointRecord{{ID: 11, In: []uint16{0, 1, 6, 8, 0x300, 0x101, 0x102, 0x201, 0x202, 0x400, 0x402, 0x405, 0x406, 0x500, 0x502}}},
		PowerSource: 3, ZoneType: zcl.ZoneTypeMotion, CoverType: zcl.CoverTypeTiltLiftAndTilt}
	b.byNWK[0x6a01] = ieeeHue
	f.Fuzz(func(t *testing.T, d []byte) {
		b.incoming(context.Background(), d) // the link is nil: default responses fail quietly
	})
	b.wg.Wait()
	b.mu.Lock()
	if b.saveTimer != nil {
		b.saveTimer.Stop()
	}
	b.mu.Unlock()
}

// FuzzSimpleDesc checks the simple-descriptor parser against any answer.
func FuzzSimpleDesc(f *testing.F) {
	f.Add(hexbytes.Must(f, "00 34 12 0E 01 04 01 00 01 01 03 00 00 06 00 08 00 01 19 00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		e, err := parseSimpleDesc(d)
		if err == nil && len(d) < 11 {
			t.Fatalf("accepted %d bytes as %+v", len(d), e)
		}
	})
}

func TestSimpleDescVector(t *testing.T) {
	// The notes' ZDO_SIMPLE_DESC_RSP example, after srcaddr.
	e, err := parseSimpleDesc(hexbytes.Must(t, "00 34 12 0E 01 04 01 00 01 01 03 00 00 06 00 08 00 01 19 00"))
	if err != nil || e.ID != 1 || e.Profile != 0x0104 || e.DeviceID != 0x0100 || len(e.In) != 3 || e.In[2] != 8 || len(e.Out) != 1 || e.Out[0] != 0x19 {
		t.Fatalf("%+v %v", e, err)
	}
}

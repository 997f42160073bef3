package zigbee

import (
	"encoding/json"
	"testing"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// sensor builds a battery-powered record with one endpoint serving in.
func sensor(zoneType uint16, in ...uint16) *record {
	return &record{IEEE: "00158d0000000001", PowerSource: 3, ZoneType: zoneType, Endpoints: []endpointRecord{{ID: 1, Profile: 0x0104, In: in}}}
}

// TestClusterMappings folds one attribute value of each sensor, fan and
// siren cluster into a device's state and checks the state change.
func TestClusterMappings(t *testing.T) {
	attr := func(id uint16, typ zcl.DataType, v int64) zcl.Attribute {
		return zcl.Attribute{ID: id, Value: zcl.Value{Type: typ, Int: v}}
	}
	zs := func(v int64) zcl.Attribute { return attr(zcl.AttrZoneStatus, zcl.TypeBitmap16, v) }
	ias := func(zt uint16) *record {
		return sensor(zt, zcl.ClusterBasic, zcl.ClusterPowerConfig, zcl.ClusterIASZone)
	}
	fan := &record{IEEE: "0000000000000002", PowerSource: 1, Endpoints: []endpointRecord{{ID: 7, In: []uint16{zcl.ClusterBasic, zcl.ClusterFanControl}}}}
	lowHighFan := *fan
	lowHighFan.FanSeq = 1
	tiltBlind := sensor(0, zcl.ClusterBasic, zcl.ClusterPowerConfig, zcl.ClusterWindowCovering)
	tiltBlind.CoverType = zcl.CoverTypeTiltLiftAndTilt
	cases := []struct {
		name    string
		r       *record
		cluster uint16
		a       zcl.Attribute
		want    string // the changed fields as JSON; "" for no change
	}{
		{"occupancy", sensor(0, zcl.ClusterOccupancy), zcl.ClusterOccupancy, attr(zcl.AttrOccupancy, zcl.TypeBitmap8, 1), `{"motion":true}`},
		{"no occupancy", sensor(0, zcl.ClusterOccupancy), zcl.ClusterOccupancy, attr(zcl.AttrOccupancy, zcl.TypeBitmap8, 0), `{"motion":false}`},
		{"humidity 0.01 %", sensor(0, zcl.ClusterHumidity), zcl.ClusterHumidity, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 4567), `{"humidity":45.67}`},
		{"humidity invalid", sensor(0, zcl.ClusterHumidity), zcl.ClusterHumidity, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 0xFFFF), ``},
		{"humidity above 100 %", sensor(0, zcl.ClusterHumidity), zcl.ClusterHumidity, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 12000), ``},
		{"illuminance 10^((v-1)/10000)", sensor(0, zcl.ClusterIlluminance), zcl.ClusterIlluminance, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 20001), `{"illuminance":100}`},
		{"illuminance 1 lx", sensor(0, zcl.ClusterIlluminance), zcl.ClusterIlluminance, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 1), `{"illuminance":1}`},
		{"illuminance dark", sensor(0, zcl.ClusterIlluminance), zcl.ClusterIlluminance, attr(zcl.AttrMeasuredValue, zcl.TypeUint16, 0), `{"illuminance":0}`},
		{"battery half percent", sensor(0, zcl.ClusterPowerConfig, zcl.ClusterOccupancy), zcl.ClusterPowerConfig, attr(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 175), `{"battery":88,"batteryLow":false}`},
		{"battery low by level", sensor(0, zcl.ClusterPowerConfig, zcl.ClusterOccupancy), zcl.ClusterPowerConfig, attr(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 16), `{"battery":8,"batteryLow":true}`},
		{"battery unknown", sensor(0, zcl.ClusterPowerConfig), zcl.ClusterPowerConfig, attr(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 0xFF), ``},
		{"battery on an IAS zone: level only", ias(zcl.ZoneTypeWater), zcl.ClusterPowerConfig, attr(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 10), `{"battery":5}`},
		{"battery alarm state", &record{PowerSource: 3, BatteryAlarm: true, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterPowerConfig, zcl.ClusterDoorLock}}}},
			zcl.ClusterPowerConfig, attr(zcl.AttrBatteryAlarmState, zcl.TypeBitmap32, 1), `{"batteryLow":true}`},
		{"mains device: no battery", &record{PowerSource: 1, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterPowerConfig, zcl.ClusterOnOff}}}},
			zcl.ClusterPowerConfig, attr(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 200), ``},
		{"water zone alarm", ias(zcl.ZoneTypeWater), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"waterLeak":true,"batteryLow":false,"tamper":false}`},
		{"fire zone alarm", ias(zcl.ZoneTypeFire), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"batteryLow":false,"smoke":true,"tamper":false}`},
		{"CO zone alarm", ias(zcl.ZoneTypeCO), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"batteryLow":false,"gas":true,"tamper":false}`},
		{"motion zone", ias(zcl.ZoneTypeMotion), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"motion":true,"batteryLow":false,"tamper":false}`},
		{"contact zone opened", ias(zcl.ZoneTypeContact), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"contactOpen":true,"batteryLow":false,"tamper":false}`},
		{"tamper bit 2", ias(zcl.ZoneTypeMotion), zcl.ClusterIASZone, zs(zcl.ZoneStatusTamper), `{"motion":false,"batteryLow":false,"tamper":true}`},
		{"battery low bit 3", ias(zcl.ZoneTypeFire), zcl.ClusterIASZone, zs(zcl.ZoneStatusBatteryLow), `{"batteryLow":true,"smoke":false,"tamper":false}`},
		{"alarm 2 alone is no alarm", ias(zcl.ZoneTypeWater), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm2), `{"waterLeak":false,"batteryLow":false,"tamper":false}`},
		{"vibration zone: nothing mapped", ias(zcl.ZoneTypeVibration), zcl.ClusterIASZone, zs(zcl.ZoneStatusAlarm1), `{"batteryLow":false}`},
		{"fan off", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeOff), `{"on":false,"fanSpeed":0}`},
		{"fan low", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeLow), `{"on":true,"fanSpeed":33}`},
		{"fan medium", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeMedium), `{"on":true,"fanSpeed":66}`},
		{"fan high", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeHigh), `{"on":true,"fanSpeed":100}`},
		{"fan on", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeOn), `{"on":true,"fanSpeed":100}`},
		{"fan auto: on, speed its own", fan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeAuto), `{"on":true}`},
		{"low/high fan low", &lowHighFan, zcl.ClusterFanControl, attr(zcl.AttrFanMode, zcl.TypeEnum8, zcl.FanModeLow), `{"on":true,"fanSpeed":50}`},
		{"lift 70 %: 30 % open", tiltBlind, zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionLiftPercentage, zcl.TypeUint8, 70), `{"coverPosition":30}`},
		{"tilt 25 %: slats 75 % open", tiltBlind, zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionTiltPercentage, zcl.TypeUint8, 25), `{"coverTilt":75}`},
		{"tilt of a roller blind: none", sensor(0, zcl.ClusterWindowCovering), zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionTiltPercentage, zcl.TypeUint8, 25), ``},
		{"tilt-only blind: no lift", &record{CoverType: zcl.CoverTypeTiltOnly, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterWindowCovering}}}},
			zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionLiftPercentage, zcl.TypeUint8, 25), ``},
		{"tilt-only blind: open while its slats are", &record{CoverType: zcl.CoverTypeTiltOnly, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterWindowCovering}}}},
			zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionTiltPercentage, zcl.TypeUint8, 80), `{"coverPosition":100,"coverTilt":20}`},
		{"tilt-only blind: closed with its slats", &record{CoverType: zcl.CoverTypeTiltOnly, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterWindowCovering}}}},
			zcl.ClusterWindowCovering, attr(zcl.AttrCurrentPositionTiltPercentage, zcl.TypeUint8, 100), `{"coverPosition":0,"coverTilt":0}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st model.State
			ch, ok := c.r.applyAttribute(&st, c.cluster, c.a)
			got := ""
			if ok {
				b, _ := json.Marshal(ch)
				got = string(b)
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestKindTraits derives traits and categories of the new kinds from clusters.
func TestKindTraits(t *testing.T) {
	cases := []struct {
		name   string
		r      *record
		traits string
		cat    model.Category // "" : not published
	}{
		{"Hue motion sensor", sensor(0, zcl.ClusterBasic, zcl.ClusterPowerConfig, zcl.ClusterOccupancy, zcl.ClusterIlluminance, zcl.ClusterTemperature),
			`{"temperatureSensor":{},"motion":{},"battery":{},"illuminance":{}}`, model.CategoryMotionSensor},
		{"temperature and humidity", sensor(0, zcl.ClusterBasic, zcl.ClusterTemperature, zcl.ClusterHumidity),
			`{"temperatureSensor":{},"humidity":{}}`, model.CategoryTemperatureSensor},
		{"IAS smoke", sensor(zcl.ZoneTypeFire, zcl.ClusterBasic, zcl.ClusterPowerConfig, zcl.ClusterIASZone, zcl.ClusterIASWD),
			`{"battery":{},"smoke":{},"tamper":{}}`, model.CategoryOther},
		{"IAS CO", sensor(zcl.ZoneTypeCO, zcl.ClusterBasic, zcl.ClusterIASZone), `{"gas":{},"tamper":{}}`, model.CategoryOther},
		{"IAS contact", sensor(zcl.ZoneTypeContact, zcl.ClusterBasic, zcl.ClusterIASZone), `{"contact":{},"tamper":{}}`, model.CategoryContactSensor},
		{"IAS motion", sensor(zcl.ZoneTypeMotion, zcl.ClusterBasic, zcl.ClusterIASZone), `{"motion":{},"tamper":{}}`, model.CategoryMotionSensor},
		{"IAS vibration: nothing to publish", sensor(zcl.ZoneTypeVibration, zcl.ClusterBasic, zcl.ClusterPowerConfig, zcl.ClusterIASZone), `{"battery":{}}`, ""},
		{"siren", &record{PowerSource: 1, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterBasic, zcl.ClusterIASWD}}}}, `{"siren":{}}`, model.CategorySecurityPanel},
		{"fan without On/Off", &record{PowerSource: 1, Endpoints: []endpointRecord{{ID: 7, In: []uint16{zcl.ClusterBasic, zcl.ClusterFanControl}}}},
			`{"onOff":{},"fan":{"presets":[{"value":33,"names":[{"text":"low","locale":"en-US"}]},{"value":66,"names":[{"text":"medium","locale":"en-US"}]},{"value":100,"names":[{"text":"high","locale":"en-US"}]}]}}`, model.CategoryFan},
		{"on/auto fan", &record{PowerSource: 1, FanSeq: 4, Endpoints: []endpointRecord{{ID: 7, In: []uint16{zcl.ClusterBasic, zcl.ClusterFanControl}}}},
			`{"onOff":{},"fan":{"presets":[{"value":100,"names":[{"text":"on","locale":"en-US"}]}]}}`, model.CategoryFan},
		{"tilt blind", &record{PowerSource: 3, CoverType: zcl.CoverTypeTiltLiftAndTilt, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterBasic, zcl.ClusterWindowCovering}}}},
			`{"cover":{"tilt":true}}`, model.CategoryInteriorBlind},
		{"tilt-only blind", &record{PowerSource: 3, CoverType: zcl.CoverTypeTiltOnly, Endpoints: []endpointRecord{{ID: 1, In: []uint16{zcl.ClusterBasic, zcl.ClusterWindowCovering}}}},
			`{"cover":{"tilt":true}}`, model.CategoryInteriorBlind},
		{"button: battery only", &record{PowerSource: 3, Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1, 3}, Out: []uint16{3, 6}}}}, `{"battery":{}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.IEEE = "0000000000000009"
			got, _ := json.Marshal(c.r.traits())
			if string(got) != c.traits {
				t.Errorf("traits %s, want %s", got, c.traits)
			}
			ep, ok := c.r.endpoint(nil)
			if ok != (c.cat != "") || ep.Category != c.cat {
				t.Errorf("published %v as %q, want %q", ok, ep.Category, c.cat)
			}
		})
	}
}

// TestRemotes: a device that only sends commands (On/Off, Level, Scenes…
// client clusters) or an IAS remote or key fob is a remote; a sensor is not.
func TestRemotes(t *testing.T) {
	for _, c := range []struct {
		name string
		r    *record
		want bool
	}{
		{"IKEA remote", &record{Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1, 3, 9, 0x0B05, 0x1000}, Out: []uint16{3, 4, 5, 6, 8, 0x19, 0x1000}}}}, true},
		{"SONOFF button", &record{Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1, 3}, Out: []uint16{3, 6}}}}, true},
		{"key fob zone", &record{ZoneType: zoneTypeKeyFob, Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1, zcl.ClusterIASZone}}}}, true},
		{"leak sensor", &record{ZoneType: zcl.ZoneTypeWater, Endpoints: []endpointRecord{{ID: 1, In: []uint16{0, 1, zcl.ClusterIASZone}, Out: []uint16{0x19}}}}, false},
	} {
		if got := c.r.remote(); got != c.want {
			t.Errorf("%s: remote %v, want %v", c.name, got, c.want)
		}
	}
}

// TestFanModeFor: a speed goes to the slowest preset at or above it.
func TestFanModeFor(t *testing.T) {
	for _, c := range []struct {
		seq       uint8
		pct       int
		mode, got int64
	}{
		{0, 0, zcl.FanModeOff, 0}, {0, 1, zcl.FanModeLow, 33}, {0, 33, zcl.FanModeLow, 33}, {0, 34, zcl.FanModeMedium, 66},
		{0, 67, zcl.FanModeHigh, 100}, {1, 40, zcl.FanModeLow, 50}, {1, 51, zcl.FanModeHigh, 100}, {4, 20, zcl.FanModeOn, 100},
	} {
		mode, pct := fanModeFor(c.seq, c.pct)
		if mode != c.mode || int64(pct) != c.got {
			t.Errorf("sequence %d, %d %%: mode %d at %d %%, want %d at %d %%", c.seq, c.pct, mode, pct, c.mode, c.got)
		}
	}
}

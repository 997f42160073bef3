package zigbee

import (
	"math"
	"slices"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// The sensor kinds: IAS zones by zone type, Occupancy Sensing, Relative
// Humidity, Illuminance and Power Configuration (battery).

// zoneAlarm is the trait an IAS zone's alarm 1 bit feeds, by zone type (ZCL
// 8.2.2.2.1.2); "" for a zone type avshub has no trait for (vibration,
// personal emergency, keypads and remotes).
func zoneAlarm(zoneType uint16) model.TraitKind {
	switch zoneType {
	case zcl.ZoneTypeWater:
		return model.TraitWaterLeak
	case zcl.ZoneTypeFire:
		return model.TraitSmoke
	case zcl.ZoneTypeCO:
		return model.TraitGas
	case zcl.ZoneTypeMotion:
		return model.TraitMotion
	case zcl.ZoneTypeContact:
		return model.TraitContact
	}
	return ""
}

// zoneHasTamper says whether a zone of the type reports tamper (zone status
// bit 2): every zone avshub maps, as zigbee-herdsman-converters decodes the
// bit for each of these zone types (0 on a device without a tamper switch).
func zoneHasTamper(zoneType uint16) bool { return zoneAlarm(zoneType) != "" }

// battery reports whether the device reports a battery level: a Power
// Configuration server cluster on a device that is not mains powered.
func (r *record) battery() bool { return r.has(zcl.ClusterPowerConfig) && !r.mains() }

// sensorTraits adds the sensor traits the device's clusters give.
func (r *record) sensorTraits(t *model.Traits) {
	if r.has(zcl.ClusterIASZone) {
		switch zoneAlarm(r.ZoneType) {
		case model.TraitWaterLeak:
			t.WaterLeak = &model.WaterLeak{}
		case model.TraitSmoke:
			t.Smoke = &model.Smoke{}
		case model.TraitGas:
			t.Gas = &model.Gas{}
		case model.TraitMotion:
			t.Motion = &model.Motion{}
		case model.TraitContact:
			t.Contact = &model.Contact{}
		}
		if zoneHasTamper(r.ZoneType) {
			t.Tamper = &model.Tamper{}
		}
	}
	if r.has(zcl.ClusterOccupancy) {
		t.Motion = &model.Motion{}
	}
	if r.has(zcl.ClusterHumidity) {
		t.Humidity = &model.Humidity{}
	}
	if r.has(zcl.ClusterIlluminance) {
		t.Illuminance = &model.Illuminance{}
	}
	if r.battery() {
		t.Battery = &model.Battery{}
	}
}

// batteryLowThreshold is the level (%) at or below which a battery counts as
// low on a device that reports no battery alarm of its own.
const batteryLowThreshold = 10

// luxFromZCL converts Illuminance measuredValue (10000 × log10(lx) + 1) to lx.
func luxFromZCL(v int64) float64 {
	if v <= 0 {
		return 0
	}
	lx := math.Pow(10, float64(v-1)/10000)
	return math.Round(lx*10) / 10
}

// applySensor folds an attribute of a sensor cluster into ch; false when the
// cluster is not a sensor cluster.
func (r *record) applySensor(ch *model.State, cluster uint16, a zcl.Attribute) bool {
	v := a.Value
	switch cluster {
	case zcl.ClusterIASZone:
		if a.ID != zcl.AttrZoneStatus {
			return true
		}
		alarm := v.Int&zcl.ZoneStatusAlarm1 != 0
		switch zoneAlarm(r.ZoneType) {
		case model.TraitWaterLeak:
			ch.WaterLeak = model.Ptr(alarm)
		case model.TraitSmoke:
			ch.Smoke = model.Ptr(alarm)
		case model.TraitGas:
			ch.Gas = model.Ptr(alarm)
		case model.TraitMotion:
			ch.Motion = model.Ptr(alarm)
		case model.TraitContact:
			ch.ContactOpen = model.Ptr(alarm) // alarm 1 of a contact switch: opened
		}
		if zoneHasTamper(r.ZoneType) {
			ch.Tamper = model.Ptr(v.Int&zcl.ZoneStatusTamper != 0)
		}
		if r.battery() && !r.BatteryAlarm {
			ch.BatteryLow = model.Ptr(v.Int&zcl.ZoneStatusBatteryLow != 0)
		}
	case zcl.ClusterOccupancy:
		if a.ID == zcl.AttrOccupancy {
			ch.Motion = model.Ptr(v.Int&1 != 0)
		}
	case zcl.ClusterHumidity:
		if a.ID == zcl.AttrMeasuredValue && v.Int <= 10000 {
			ch.Humidity = model.Ptr(float64(v.Int) / 100)
		}
	case zcl.ClusterIlluminance:
		if a.ID == zcl.AttrMeasuredValue {
			ch.Illuminance = model.Ptr(luxFromZCL(v.Int))
		}
	case zcl.ClusterPowerConfig:
		if !r.battery() {
			return true
		}
		switch a.ID {
		case zcl.AttrBatteryPercentageRemaining: // half percent
			pct := min(100, int(math.Round(float64(v.Int)/2)))
			ch.Battery = model.Ptr(pct)
			if !r.BatteryAlarm && !r.has(zcl.ClusterIASZone) {
				ch.BatteryLow = model.Ptr(pct <= batteryLowThreshold)
			}
		case zcl.AttrBatteryAlarmState:
			ch.BatteryLow = model.Ptr(v.Int&zcl.BatteryAlarmSource1 != 0)
		}
	default:
		return false
	}
	return true
}

// controllerClusters are client (output) clusters that make a device without
// any trait a remote or a button: it sends these commands, it takes none.
var controllerClusters = []uint16{zcl.ClusterOnOff, zcl.ClusterLevel, zcl.ClusterScenes, zcl.ClusterColor, zcl.ClusterWindowCovering}

// remote reports whether the device is a remote control or a button: its
// endpoints send On/Off, Level, Scenes, Colour or Window Covering commands,
// or it is an IAS remote control or key fob zone.
func (r *record) remote() bool {
	if r.has(zcl.ClusterIASZone) && (r.ZoneType == zoneTypeRemoteControl || r.ZoneType == zoneTypeKeyFob) {
		return true
	}
	for _, e := range r.Endpoints {
		for _, c := range controllerClusters {
			if slices.Contains(e.Out, c) {
				return true
			}
		}
	}
	return false
}

// IAS zone types of remotes (ZCL 8.2.2.2.1.2).
const (
	zoneTypeRemoteControl = 0x010F
	zoneTypeKeyFob        = 0x0115
)

// sensorReports are the sensor clusters' reporting configurations (as
// zigbee2mqtt's converters configure them: occupancy at once, humidity on a
// change of 1 %, illuminance on a change of 5 units, the battery hourly at
// most; the fan mode at once).
var sensorReports = map[uint16][]zcl.ReportConfig{
	zcl.ClusterOccupancy:   {{ID: zcl.AttrOccupancy, Type: zcl.TypeBitmap8, MinInterval: 0, MaxInterval: 3600}},
	zcl.ClusterHumidity:    {{ID: zcl.AttrMeasuredValue, Type: zcl.TypeUint16, MinInterval: 10, MaxInterval: 3600, Change: 100}},
	zcl.ClusterIlluminance: {{ID: zcl.AttrMeasuredValue, Type: zcl.TypeUint16, MinInterval: 10, MaxInterval: 3600, Change: 5}},
	zcl.ClusterPowerConfig: {{ID: zcl.AttrBatteryPercentageRemaining, Type: zcl.TypeUint8, MinInterval: 3600, MaxInterval: 65000, Change: 0}},
	zcl.ClusterFanControl:  {{ID: zcl.AttrFanMode, Type: zcl.TypeEnum8, MinInterval: 0, MaxInterval: 3600}},
}

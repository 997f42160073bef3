package znpsim

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

//go:embed testdata/devices.yaml
var defaultDevicesYAML []byte

// DefaultDevicesYAML returns the embedded default device file.
func DefaultDevicesYAML() []byte { return append([]byte(nil), defaultDevicesYAML...) }

// DeviceSpec is one simulated device as the YAML file describes it.
type DeviceSpec struct {
	IEEE string `yaml:"ieee" json:"ieee"`
	// Type is one of the product models: hue-color-bulb, ikea-ct-bulb,
	// dimmable-bulb, yale-lock, danfoss-ally, aqara-temp, ikea-remote.
	Type string `yaml:"type" json:"type"`
	// NWK fixes the short address the device takes when it joins (0: random).
	NWK uint16 `yaml:"nwk,omitempty" json:"nwk,omitempty"`
	// Offline devices do not join and do not answer until set online.
	Offline bool `yaml:"offline,omitempty" json:"offline,omitempty"`
	// LockDelay is how long a lock's motor takes (locks only; default 3s).
	LockDelay time.Duration `yaml:"lockDelay,omitempty" json:"lockDelay,omitempty"`
	// Attributes override the model's initial attribute values by name.
	Attributes map[string]int64 `yaml:"attributes,omitempty" json:"attributes,omitempty"`
}

// File is the devices YAML document.
type File struct {
	Devices []DeviceSpec `yaml:"devices"`
}

// ParseDevices parses a devices YAML document.
func ParseDevices(b []byte) ([]DeviceSpec, error) {
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("znpsim: devices file: %w", err)
	}
	seen := map[uint64]bool{}
	for i, d := range f.Devices {
		ieee, err := ParseIEEE(d.IEEE)
		if err != nil {
			return nil, fmt.Errorf("znpsim: device %d: %w", i, err)
		}
		if seen[ieee] {
			return nil, fmt.Errorf("znpsim: device %d: duplicate ieee %s", i, d.IEEE)
		}
		seen[ieee] = true
		if _, ok := models[d.Type]; !ok {
			return nil, fmt.Errorf("znpsim: device %s: unknown type %q (have %s)", d.IEEE, d.Type, strings.Join(ModelNames(), ", "))
		}
	}
	return f.Devices, nil
}

// ParseIEEE parses "0x0017880102030405", "0017880102030405" or "00:17:88:01:02:03:04:05".
func ParseIEEE(s string) (uint64, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(s, ":", "")), "0x")
	if len(t) != 16 {
		return 0, fmt.Errorf("ieee address %q must have 16 hex digits", s)
	}
	v, err := strconv.ParseUint(t, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("ieee address %q: %w", s, err)
	}
	return v, nil
}

// FormatIEEE renders an IEEE address as 16 lowercase hex digits.
func FormatIEEE(v uint64) string { return fmt.Sprintf("%016x", v) }

type attrDef struct {
	cluster uint16
	id      uint16
	typ     zcl.DataType
}

// attrNames maps the admin API's attribute names to their cluster and id.
var attrNames = map[string]attrDef{
	"onOff":                      {zcl.ClusterOnOff, zcl.AttrOnOff, zcl.TypeBool},
	"currentLevel":               {zcl.ClusterLevel, zcl.AttrCurrentLevel, zcl.TypeUint8},
	"currentHue":                 {zcl.ClusterColor, zcl.AttrCurrentHue, zcl.TypeUint8},
	"currentSaturation":          {zcl.ClusterColor, zcl.AttrCurrentSaturation, zcl.TypeUint8},
	"currentX":                   {zcl.ClusterColor, zcl.AttrCurrentX, zcl.TypeUint16},
	"currentY":                   {zcl.ClusterColor, zcl.AttrCurrentY, zcl.TypeUint16},
	"colorTemperature":           {zcl.ClusterColor, zcl.AttrColorTemperature, zcl.TypeUint16},
	"colorMode":                  {zcl.ClusterColor, zcl.AttrColorMode, zcl.TypeEnum8},
	"lockState":                  {zcl.ClusterDoorLock, zcl.AttrLockState, zcl.TypeEnum8},
	"doorState":                  {zcl.ClusterDoorLock, zcl.AttrDoorState, zcl.TypeEnum8},
	"localTemperature":           {zcl.ClusterThermostat, zcl.AttrLocalTemperature, zcl.TypeInt16},
	"occupiedHeatingSetpoint":    {zcl.ClusterThermostat, zcl.AttrOccupiedHeatingSetpoint, zcl.TypeInt16},
	"occupiedCoolingSetpoint":    {zcl.ClusterThermostat, zcl.AttrOccupiedCoolingSetpoint, zcl.TypeInt16},
	"systemMode":                 {zcl.ClusterThermostat, zcl.AttrSystemMode, zcl.TypeEnum8},
	"piHeatingDemand":            {zcl.ClusterThermostat, zcl.AttrPIHeatingDemand, zcl.TypeUint8},
	"measuredValue":              {zcl.ClusterTemperature, zcl.AttrMeasuredValue, zcl.TypeInt16},
	"batteryPercentageRemaining": {zcl.ClusterPowerConfig, zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8},
}

// AttributeNames lists the attribute names the admin API and YAML accept.
func AttributeNames() []string {
	var n []string
	for k := range attrNames {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

type epDef struct {
	id       uint8
	deviceID uint16
	in, out  []uint16
}

type model struct {
	manufacturer, modelID string
	powerSource           uint8 // 1 mains, 3 battery
	router                bool  // mains-powered router (rx on); else a sleepy end device
	eps                   []epDef
	attrs                 map[uint16][]zcl.Attribute // by cluster, on the first endpoint having it
	// defaultRspOnReport: the device's reports leave disable-default-response off.
	defaultRspOnReport bool
	// heatOnly: the thermostat accepts systemMode heat (and nothing else).
	heatOnly bool
}

func u8(id uint16, t zcl.DataType, v int64) zcl.Attribute {
	return zcl.Attribute{ID: id, Value: zcl.Value{Type: t, Int: v}}
}

func basicAttrs(manuf, modelID string, power uint8) []zcl.Attribute {
	return []zcl.Attribute{
		u8(zcl.AttrZCLVersion, zcl.TypeUint8, 3),
		u8(zcl.AttrAppVersion, zcl.TypeUint8, 2),
		{ID: zcl.AttrManufacturerName, Value: zcl.Str(manuf)},
		{ID: zcl.AttrModelID, Value: zcl.Str(modelID)},
		u8(zcl.AttrPowerSource, zcl.TypeEnum8, int64(power)),
		{ID: zcl.AttrSWBuildID, Value: zcl.Str("1.0.0")},
	}
}

func lightAttrs(level bool, color []zcl.Attribute) map[uint16][]zcl.Attribute {
	m := map[uint16][]zcl.Attribute{
		zcl.ClusterOnOff: {u8(zcl.AttrOnOff, zcl.TypeBool, 0)},
	}
	if level {
		m[zcl.ClusterLevel] = []zcl.Attribute{u8(zcl.AttrCurrentLevel, zcl.TypeUint8, 254)}
	}
	if color != nil {
		m[zcl.ClusterColor] = color
	}
	return m
}

// models are the simulated products, modelled on the real ones' clusters and attributes.
var models = map[string]model{
	"hue-color-bulb": {
		manufacturer: "Signify Netherlands B.V.", modelID: "LCT015", powerSource: 1, router: true,
		eps: []epDef{{id: 11, deviceID: 0x010D, in: []uint16{0x0000, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x1000, 0x0300, 0xFC01}, out: []uint16{0x0019}}},
		attrs: lightAttrs(true, []zcl.Attribute{
			u8(zcl.AttrCurrentHue, zcl.TypeUint8, 0), u8(zcl.AttrCurrentSaturation, zcl.TypeUint8, 0),
			u8(zcl.AttrCurrentX, zcl.TypeUint16, 30533), u8(zcl.AttrCurrentY, zcl.TypeUint16, 26876),
			u8(zcl.AttrColorTemperature, zcl.TypeUint16, 366), u8(zcl.AttrColorMode, zcl.TypeEnum8, 2),
			u8(zcl.AttrColorCapabilities, zcl.TypeBitmap16, 0x1F),
			u8(zcl.AttrColorTempPhysMin, zcl.TypeUint16, 153), u8(zcl.AttrColorTempPhysMax, zcl.TypeUint16, 500),
		}),
	},
	"ikea-ct-bulb": {
		manufacturer: "IKEA of Sweden", modelID: "TRADFRI bulb E27 WS opal 980lm", powerSource: 1, router: true,
		eps: []epDef{{id: 1, deviceID: 0x010C, in: []uint16{0x0000, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x0300, 0x0B05, 0x1000}, out: []uint16{0x0005, 0x0019, 0x0020, 0x1000}}},
		attrs: lightAttrs(true, []zcl.Attribute{
			u8(zcl.AttrColorTemperature, zcl.TypeUint16, 370), u8(zcl.AttrColorMode, zcl.TypeEnum8, 2),
			u8(zcl.AttrColorCapabilities, zcl.TypeBitmap16, 0x10),
			u8(zcl.AttrColorTempPhysMin, zcl.TypeUint16, 250), u8(zcl.AttrColorTempPhysMax, zcl.TypeUint16, 454),
		}),
	},
	"dimmable-bulb": {
		manufacturer: "Signify Netherlands B.V.", modelID: "LWB010", powerSource: 1, router: true,
		eps:   []epDef{{id: 11, deviceID: 0x0100, in: []uint16{0x0000, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x1000}, out: []uint16{0x0019}}},
		attrs: lightAttrs(true, nil),
	},
	"yale-lock": {
		manufacturer: "Yale", modelID: "YRD256 TSDB", powerSource: 3,
		eps: []epDef{{id: 1, deviceID: 0x000A, in: []uint16{0x0000, 0x0001, 0x0003, 0x0009, 0x000A, 0x0020, 0x0101, 0x0B05}, out: []uint16{0x000A, 0x0019}}},
		attrs: map[uint16][]zcl.Attribute{
			zcl.ClusterDoorLock:    {u8(zcl.AttrLockState, zcl.TypeEnum8, 1), u8(zcl.AttrLockType, zcl.TypeEnum8, 0), u8(zcl.AttrDoorState, zcl.TypeEnum8, 1)},
			zcl.ClusterPowerConfig: {u8(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 180)},
		},
	},
	"danfoss-ally": {
		manufacturer: "Danfoss", modelID: "eTRV0100", powerSource: 3, heatOnly: true,
		eps: []epDef{{id: 1, deviceID: 0x0301, in: []uint16{0x0000, 0x0001, 0x0003, 0x000A, 0x0020, 0x0201, 0x0204, 0x0B05}, out: []uint16{0x0000, 0x0019}}},
		attrs: map[uint16][]zcl.Attribute{
			zcl.ClusterThermostat: {
				u8(zcl.AttrLocalTemperature, zcl.TypeInt16, 2150),
				u8(zcl.AttrAbsMinHeatSetpoint, zcl.TypeInt16, 500), u8(zcl.AttrAbsMaxHeatSetpoint, zcl.TypeInt16, 3500),
				u8(zcl.AttrPIHeatingDemand, zcl.TypeUint8, 0),
				u8(zcl.AttrOccupiedHeatingSetpoint, zcl.TypeInt16, 2100),
				u8(zcl.AttrMinHeatSetpointLimit, zcl.TypeInt16, 500), u8(zcl.AttrMaxHeatSetpointLimit, zcl.TypeInt16, 3500),
				u8(zcl.AttrControlSequence, zcl.TypeEnum8, 2), u8(zcl.AttrSystemMode, zcl.TypeEnum8, 4),
				u8(zcl.AttrRunningState, zcl.TypeBitmap16, 0),
			},
			zcl.ClusterPowerConfig: {u8(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 200)},
		},
	},
	"aqara-temp": {
		manufacturer: "LUMI", modelID: "lumi.weather", powerSource: 3, defaultRspOnReport: true,
		eps: []epDef{{id: 1, deviceID: 0x5F01, in: []uint16{0x0000, 0x0003, 0xFFFF, 0x0402, 0x0403, 0x0405}, out: []uint16{0x0000, 0x0004, 0xFFFF}}},
		attrs: map[uint16][]zcl.Attribute{
			zcl.ClusterTemperature: {u8(zcl.AttrMeasuredValue, zcl.TypeInt16, 2150), u8(0x0001, zcl.TypeInt16, -4000), u8(0x0002, zcl.TypeInt16, 12500)},
		},
	},
	"ikea-remote": {
		manufacturer: "IKEA of Sweden", modelID: "TRADFRI remote control", powerSource: 3,
		eps:   []epDef{{id: 1, deviceID: 0x0820, in: []uint16{0x0000, 0x0001, 0x0003, 0x0009, 0x0B05, 0x1000}, out: []uint16{0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x0019, 0x1000}}},
		attrs: map[uint16][]zcl.Attribute{zcl.ClusterPowerConfig: {u8(zcl.AttrBatteryPercentageRemaining, zcl.TypeUint8, 174)}},
	},
}

// ModelNames lists the device types the YAML accepts.
func ModelNames() []string {
	var n []string
	for k := range models {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

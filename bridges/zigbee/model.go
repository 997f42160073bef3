package zigbee

import (
	"math"
	"slices"
	"strings"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// epFor returns the device endpoint that serves cluster (as an input cluster).
func (r *record) epFor(cluster uint16) (uint8, bool) {
	for _, e := range r.Endpoints {
		if slices.Contains(e.In, cluster) {
			return e.ID, true
		}
	}
	return 0, false
}

func (r *record) has(cluster uint16) bool { _, ok := r.epFor(cluster); return ok }

// mains reports whether the device is mains powered (power source 1, 2 or 4, or the announce's mains bit).
func (r *record) mains() bool {
	switch r.PowerSource & 0x7F {
	case 1, 2, 4, 5, 6:
		return true
	case 3:
		return false
	}
	return r.Capabilities&0x04 != 0
}

// heatOnlyModels are thermostats whose systemMode accepts heat only (as zigbee2mqtt's converters know).
var heatOnlyModels = map[string]bool{"eTRV0100": true, "eTRV0101": true, "eTRV0103": true}

// contactOnOffModels are sensors whose On/Off server cluster is a magnet
// contact (Aqara door and window sensors: onOff 1 = open), not a switch.
var contactOnOffModels = map[string]bool{"lumi.sensor_magnet.aq2": true, "lumi.sensor_magnet": true}

// traits derives the endpoint traits from the device's clusters and capabilities.
func (r *record) traits() model.Traits {
	var t model.Traits
	if r.has(zcl.ClusterOnOff) && !contactOnOffModels[r.Model] {
		t.OnOff = &model.OnOff{}
	}
	if r.has(zcl.ClusterOnOff) && contactOnOffModels[r.Model] {
		t.Contact = &model.Contact{}
	}
	if r.has(zcl.ClusterWindowCovering) {
		t.Cover = &model.Cover{Tilt: r.tilt()}
	}
	if r.has(zcl.ClusterElectricalMeas) {
		t.Power = &model.Power{}
	}
	if r.has(zcl.ClusterMetering) {
		t.Energy = &model.Energy{}
	}
	r.sensorTraits(&t)
	r.actuatorTraits(&t)
	if r.has(zcl.ClusterLevel) && r.has(zcl.ClusterOnOff) {
		t.Brightness = &model.Brightness{}
	}
	if r.has(zcl.ClusterColor) {
		if r.ColorCaps&(zcl.ColorCapHueSat|zcl.ColorCapXY) != 0 {
			t.Color = &model.Color{}
		}
		if r.ColorCaps&zcl.ColorCapTemperature != 0 && r.MinMired > 0 && r.MaxMired > r.MinMired {
			t.ColorTemperature = &model.ColorTemperature{
				MinKelvin: int(math.Ceil(1e6 / float64(r.MaxMired))), MaxKelvin: int(math.Floor(1e6 / float64(r.MinMired)))}
		}
	}
	if r.has(zcl.ClusterDoorLock) {
		t.Lock = &model.Lock{}
	}
	if r.has(zcl.ClusterThermostat) {
		th := &model.Thermostat{MinC: r.MinSetpointC, MaxC: r.MaxSetpointC, StepC: 0.5, Scale: "CELSIUS", TargetSetpoint: true}
		if th.MinC == 0 && th.MaxC == 0 {
			th.MinC, th.MaxC = 7, 30
		}
		switch r.ControlSeq {
		case 0, 1: // cooling only (with reheat)
			th.Modes = []model.ThermostatMode{model.ModeCool, model.ModeOff}
		case 2, 3: // heating only (with reheat)
			th.Modes = []model.ThermostatMode{model.ModeHeat, model.ModeOff}
		default: // cooling and heating
			th.Modes = []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeOff}
		}
		if heatOnlyModels[r.Model] {
			th.Modes = []model.ThermostatMode{model.ModeHeat}
		}
		t.Thermostat = th
		t.TemperatureSensor = &model.TemperatureSensor{}
	}
	if r.has(zcl.ClusterTemperature) {
		t.TemperatureSensor = &model.TemperatureSensor{}
	}
	return t
}

// hasTraits says whether t has a primary function to publish: the battery
// and tamper traits alone (a remote's battery) make no endpoint.
func hasTraits(t model.Traits) bool {
	for _, k := range t.Kinds() {
		if k != model.TraitBattery && k != model.TraitTamper {
			return true
		}
	}
	return false
}

func (r *record) category(t model.Traits) model.Category {
	switch {
	case t.Lock != nil:
		return model.CategorySmartLock
	case t.Thermostat != nil:
		return model.CategoryThermostat
	case t.Brightness != nil || t.Color != nil || t.ColorTemperature != nil:
		return model.CategoryLight
	case t.Cover != nil:
		return model.CategoryInteriorBlind
	case t.Fan != nil:
		return model.CategoryFan
	case t.OnOff != nil && t.Power != nil:
		return model.CategorySmartPlug
	case t.OnOff != nil:
		return model.CategorySwitch
	case t.Contact != nil:
		return model.CategoryContactSensor
	case t.Motion != nil:
		return model.CategoryMotionSensor
	case t.Siren != nil:
		return model.CategorySecurityPanel
	case t.TemperatureSensor != nil:
		return model.CategoryTemperatureSensor
	}
	return model.CategoryOther
}

func macAddress(ieee string) string {
	var parts []string
	for i := 0; i+2 <= len(ieee); i += 2 {
		parts = append(parts, ieee[i:i+2])
	}
	return strings.Join(parts, ":")
}

// endpoint builds the published endpoint; ok is false for a device without traits.
// published reports whether the device is one of the bridge's endpoints:
// interviewed, with traits (a remote is not).
func (r *record) published() bool { return r.Interviewed && hasTraits(r.traits()) }

func (r *record) endpoint(names map[string]string) (model.Endpoint, bool) {
	t := r.traits()
	if !hasTraits(t) {
		return model.Endpoint{}, false
	}
	name := names[r.IEEE]
	if name == "" {
		name = r.defaultName(t)
	}
	desc := strings.TrimSpace(r.Manufacturer + " " + r.Model + " (Zigbee)")
	return model.Endpoint{
		DeviceID: r.IEEE, FriendlyName: name, Manufacturer: orDefault(r.Manufacturer, "Unknown"), Model: r.Model,
		Description: model.Truncate(desc, model.MaxDescriptionLen), Category: r.category(t),
		Connections: []model.Connection{{Type: model.ConnectionZigbee, MACAddress: macAddress(r.IEEE)}},
		Traits:      t,
	}, true
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Conversions between ZCL units and the model's.

func levelToPct(l int64) int   { return int(math.Round(float64(l) * 100 / 254)) }
func pctToLevel(p int) uint8   { return uint8(math.Round(float64(p) * 254 / 100)) }
func hueToZCL(h float64) uint8 { return uint8(math.Round(math.Mod(h, 360) * 254 / 360)) }
func satToZCL(s float64) uint8 { return uint8(math.Round(s * 254)) }
func kelvinToMired(k int) int  { return int(math.Round(1e6 / float64(k))) }
func miredToKelvin(m int64) int {
	if m <= 0 {
		return 0
	}
	return int(math.Round(1e6 / float64(m)))
}

// applyAttribute folds one attribute value of a cluster into state; it returns
// the changed fields and false when the attribute is not one the model uses.
func (r *record) applyAttribute(st *model.State, cluster uint16, a zcl.Attribute) (model.State, bool) {
	var ch model.State
	v := a.Value
	if v.Invalid() {
		return ch, false
	}
	switch cluster {
	case zcl.ClusterOnOff:
		if a.ID == zcl.AttrOnOff && contactOnOffModels[r.Model] {
			ch.ContactOpen = model.Ptr(v.Int != 0) // the magnet away: open
		} else if a.ID == zcl.AttrOnOff {
			ch.On = model.Ptr(v.Int != 0)
		}
	case zcl.ClusterWindowCovering:
		if a.ID == zcl.AttrCurrentPositionLiftPercentage && v.Int <= 100 && !r.tiltOnly() {
			ch.CoverPosition = model.Ptr(100 - int(v.Int)) // ZCL lift 0 % is fully open
		}
		if a.ID == zcl.AttrCurrentPositionTiltPercentage && v.Int <= 100 && r.tilt() {
			ch.CoverTilt = model.Ptr(100 - int(v.Int)) // tilt 0 %: slats open
			if r.tiltOnly() {
				ch.CoverPosition = model.Ptr(min(100, 100*(100-int(v.Int)))) // no lift: open while the slats are
			}
		}
	case zcl.ClusterElectricalMeas:
		if a.ID == zcl.AttrActivePower && r.PowerScale > 0 {
			ch.Watts = model.Ptr(float64(v.Int) * r.PowerScale)
		}
	case zcl.ClusterMetering:
		if a.ID == zcl.AttrCurrentSummationDelivered && r.EnergyScale > 0 {
			ch.EnergyKWh = model.Ptr(float64(v.Int) * r.EnergyScale)
		}
	case zcl.ClusterLevel:
		if a.ID == zcl.AttrCurrentLevel {
			ch.Brightness = model.Ptr(levelToPct(v.Int))
			if st.Color != nil {
				c := *st.Color
				c.Brightness = float64(v.Int) / 254
				ch.Color = &c
			}
		}
	case zcl.ClusterColor:
		c := model.HSB{Brightness: 1}
		if st.Color != nil {
			c = *st.Color
		} else if st.Brightness != nil {
			c.Brightness = float64(*st.Brightness) / 100
		}
		switch a.ID {
		case zcl.AttrCurrentHue:
			c.Hue = math.Round(float64(v.Int)*360/254*10) / 10
			ch.Color = &c
		case zcl.AttrCurrentSaturation:
			c.Saturation = math.Round(float64(v.Int)/254*1000) / 1000
			ch.Color = &c
		case zcl.AttrCurrentX, zcl.AttrCurrentY:
			if r.ColorCaps&zcl.ColorCapHueSat != 0 {
				return ch, false // the bulb reports hue/saturation too
			}
			x, y := r.xy(st)
			if a.ID == zcl.AttrCurrentX {
				x = float64(v.Int) / 65536
			} else {
				y = float64(v.Int) / 65536
			}
			r.lastX, r.lastY = x, y
			c.Hue, c.Saturation = xyToHS(x, y)
			c.Hue, c.Saturation = math.Round(c.Hue*10)/10, math.Round(c.Saturation*1000)/1000
			ch.Color = &c
		case zcl.AttrColorTemperature:
			if v.Int > 0 {
				ch.ColorTemperature = model.Ptr(miredToKelvin(v.Int))
			}
		}
	case zcl.ClusterDoorLock:
		switch a.ID {
		case zcl.AttrLockState:
			switch v.Int {
			case zcl.LockStateLocked:
				ch.Lock = model.Locked
			case zcl.LockStateUnlocked:
				ch.Lock = model.Unlocked
			case zcl.LockStateNotFullyLocked:
				ch.Lock = model.Jammed
			}
		case zcl.AttrDoorState:
			if v.Int == zcl.DoorStateJammed {
				ch.Lock = model.Jammed
			}
		}
	case zcl.ClusterThermostat:
		t := func() *model.ThermostatState { return &model.ThermostatState{} }
		switch a.ID {
		case zcl.AttrLocalTemperature:
			ch.Temperature = model.Ptr(float64(v.Int) / 100)
		case zcl.AttrOccupiedHeatingSetpoint:
			ch.Thermostat = t()
			ch.Thermostat.Target = model.Ptr(float64(v.Int) / 100)
		case zcl.AttrSystemMode:
			m, ok := modeFromZCL(v.Int)
			if !ok {
				return ch, false
			}
			ch.Thermostat = t()
			ch.Thermostat.Mode = m
		}
	case zcl.ClusterTemperature:
		if a.ID == zcl.AttrMeasuredValue {
			ch.Temperature = model.Ptr(float64(v.Int) / 100)
		}
	default:
		if !r.applySensor(&ch, cluster, a) {
			r.applyActuator(&ch, cluster, a)
		}
	}
	if ch.IsZero() {
		return ch, false
	}
	return ch, true
}

// gamut is the lamp's colour gamut: the primaries it declares in its Color
// Control cluster, else the one Philips lists for its model identifier, else
// nil (none known: nothing is clamped).
func (r *record) gamut() *colorconv.Gamut {
	if r.Gamut != nil {
		return r.Gamut
	}
	return colorconv.HueGamut(r.Model)
}

func (r *record) xy(st *model.State) (float64, float64) {
	if r.lastX != 0 || r.lastY != 0 {
		return r.lastX, r.lastY
	}
	if st.Color != nil {
		return hsbToXY(*st.Color, r.gamut())
	}
	return 0.3127, 0.3290
}

func modeFromZCL(v int64) (model.ThermostatMode, bool) {
	switch v {
	case zcl.SystemModeOff:
		return model.ModeOff, true
	case zcl.SystemModeAuto:
		return model.ModeAuto, true
	case zcl.SystemModeCool:
		return model.ModeCool, true
	case zcl.SystemModeHeat:
		return model.ModeHeat, true
	}
	return "", false
}

func modeToZCL(m model.ThermostatMode) (int64, bool) {
	switch m {
	case model.ModeOff:
		return zcl.SystemModeOff, true
	case model.ModeAuto:
		return zcl.SystemModeAuto, true
	case model.ModeCool:
		return zcl.SystemModeCool, true
	case model.ModeHeat:
		return zcl.SystemModeHeat, true
	}
	return 0, false
}

// hsbToXY converts a colour to CIE 1931 xy with avshub's one colour conversion
// (discovery/colorconv), so both bridges send the same xy for the same colour,
// clamped to the lamp's gamut g when it has one (nil: none known).
func hsbToXY(c model.HSB, g *colorconv.Gamut) (float64, float64) {
	p := colorconv.HSToXY(c.Hue, c.Saturation, g)
	return p.X, p.Y
}

// xyToHS converts CIE xy back to hue (degrees) and saturation (0–1).
func xyToHS(x, y float64) (float64, float64) { return colorconv.XYToHS(colorconv.Point{X: x, Y: y}) }

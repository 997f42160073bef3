package alexa

import (
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// Instance names of the cover, sensor, fan and siren traits, the same in both
// profiles wherever Smart Home has no native interface. Decode maps a directive
// back to a trait by them, so they are part of what Alexa stores: never rename
// one. Generic toggles, ranges and modes must not reuse them.
const (
	// InstanceCoverPosition is a cover's RangeController (0 % closed – 100 % open),
	// the instance Amazon documents for blinds, with open/close semantics.
	InstanceCoverPosition = "Blind.Lift"
	// InstanceCoverTilt is the slats' RangeController of a cover with tilt
	// (0 % closed – 100 % open), the instance Amazon documents for tilting
	// blinds; it takes the open/close semantics from the lift.
	InstanceCoverTilt = "Blind.Tilt"
	// InstanceContact is a contact sensor's non-controllable ModeController (avs profile).
	InstanceContact = "Contact.State"
	// InstanceMotion is a motion sensor's non-controllable ModeController (avs profile).
	InstanceMotion = "Motion.State"
	// InstanceWaterLeak is a leak sensor's non-controllable ModeController.
	InstanceWaterLeak = "WaterLeak.State"
	// InstanceSmoke is a smoke sensor's non-controllable ModeController.
	InstanceSmoke = "Smoke.State"
	// InstanceGas is a gas or CO sensor's non-controllable ModeController.
	InstanceGas = "Gas.State"
	// InstanceTamper is a device's tamper switch, a non-controllable ModeController.
	InstanceTamper = "Tamper.State"
	// InstanceHumidity is the relative humidity, a non-controllable RangeController (%).
	InstanceHumidity = "Humidity.Current"
	// InstanceIlluminance is the illuminance, a non-controllable RangeController (lx).
	InstanceIlluminance = "Illuminance.Current"
	// InstancePower is the active power, a non-controllable RangeController (W).
	InstancePower = "Power.Current"
	// InstanceEnergy is the energy counted, a non-controllable RangeController (kWh).
	InstanceEnergy = "Energy.Total"
	// InstanceBattery is the battery level, a non-controllable RangeController (%).
	InstanceBattery = "Battery.Level"
	// InstanceFanSpeed is a fan's speed RangeController (0–100 %).
	InstanceFanSpeed = "Fan.Speed"
	// InstanceSiren is a siren's ToggleController.
	InstanceSiren = "Siren.Alarm"
)

// Smart Home sensor interfaces.
const (
	nsContactSensor = "Alexa.ContactSensor"
	nsMotionSensor  = "Alexa.MotionSensor"
)

// binarySensor is a read-only detected/clear trait rendered as a
// non-controllable ModeController with two values, or with the Smart Home
// interface native where one exists.
type binarySensor struct {
	instance string
	name     textKey
	onValue  string
	onKey    textKey
	offValue string
	offKey   textKey
	has      func(model.Traits) bool
	get      func(model.State) *bool
	// native is the Smart Home interface (property detectionState), or "".
	native string
}

// renderings renders b in both profiles; only smarthome uses native.
func (b binarySensor) renderings() traitRendering {
	return traitRendering{avs: b.rendering(false), smartHome: b.rendering(true)}
}

func (b binarySensor) rendering(native bool) rendering {
	native = native && b.native != ""
	return rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if !b.has(t) {
				return nil, nil
			}
			if native {
				return []capability{iface(b.native, "", "detectionState")}, nil
			}
			return []capability{modeCap(b.instance, p.builtinNames("", b.name), modeConfig{SupportedModes: []modeValue{
				{Value: b.onValue, ModeResources: resources{p.builtinNames("", b.onKey)}},
				{Value: b.offValue, ModeResources: resources{p.builtinNames("", b.offKey)}},
			}}, true)}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			v := b.get(st)
			if !b.has(t) || v == nil {
				return nil
			}
			if native {
				d := "NOT_DETECTED"
				if *v {
					d = "DETECTED"
				}
				return []Property{prop(b.native, "", "detectionState", d)}
			}
			m := b.offValue
			if *v {
				m = b.onValue
			}
			return []Property{prop(nsMode, b.instance, "mode", m)}
		},
		decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
			if b.has(t) && (d.Header.Instance == b.instance || d.Header.Namespace == b.native) {
				return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", b.instance)
			}
			return Intent{}, false, nil
		},
	}
}

// numericSensor is a read-only reading rendered as a non-controllable
// RangeController, the same in both profiles.
type numericSensor struct {
	instance            string
	name                textKey
	min, max, precision float64
	unit                string
	has                 func(model.Traits) bool
	get                 func(model.State) (float64, bool)
}

func fptr(p *float64) (float64, bool) {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return 0, false
	}
	return *p, true
}

// renderings renders n in both profiles.
func (n numericSensor) renderings() traitRendering {
	return both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if !n.has(t) {
				return nil, nil
			}
			return []capability{rangeCap(n.instance, p.builtinNames("", n.name), rangeConfig{
				SupportedRange: supportedRange{Min: n.min, Max: n.max, Precision: n.precision},
				UnitOfMeasure:  n.unit,
			}, true)}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if v, ok := n.get(st); ok && n.has(t) {
				return []Property{prop(nsRange, n.instance, "rangeValue", clamp(v, n.min, n.max))}
			}
			return nil
		},
		decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
			if n.has(t) && d.Header.Instance == n.instance {
				return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", n.instance)
			}
			return Intent{}, false, nil
		},
	})
}

// assets returns one asset label per id.
func assets(ids ...string) []label {
	out := make([]label, len(ids))
	for i, id := range ids {
		out[i] = label{Type: "asset", Value: labelValue{AssetID: id}}
	}
	return out
}

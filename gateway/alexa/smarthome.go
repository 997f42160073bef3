package alexa

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// smartHomeProfile renders traits with the native Smart Home interfaces,
// exactly as the official schema describes them.
type smartHomeProfile struct{ *profile }

// Endpoint renders ep with the native Smart Home capabilities.
func (s *smartHomeProfile) Endpoint(ep model.Endpoint) (json.RawMessage, error) {
	return s.renderEndpoint(s, ep)
}

// Proactive reports whether p is a declared property of ep (all are proactive).
func (s *smartHomeProfile) Proactive(ep model.Endpoint, p Property) bool {
	return proactive(s.lite, ep, p)
}

// thermostatConfig is the ThermostatController configuration.
type thermostatConfig struct {
	SupportedModes     []string `json:"supportedModes,omitempty"`
	SupportsScheduling bool     `json:"supportsScheduling"`
}

var alexaThermostatModes = []model.ThermostatMode{model.ModeAuto, model.ModeCool, model.ModeHeat, model.ModeEco, model.ModeOff}

func (s *smartHomeProfile) capabilities(ep model.Endpoint) ([]capability, error) {
	t := ep.Traits
	caps := []capability{iface(nsAlexa, "")}
	if t.OnOff != nil {
		caps = append(caps, iface(nsPower, "", "powerState"))
	}
	if t.Brightness != nil {
		caps = append(caps, iface(nsBrightness, "", "brightness"))
	}
	if t.Color != nil {
		caps = append(caps, iface(nsColor, "", "color"))
	}
	if ct := t.ColorTemperature; ct != nil {
		if ct.MinKelvin <= 0 || ct.MaxKelvin < ct.MinKelvin {
			return nil, fmt.Errorf("colour temperature range %d–%d K is invalid", ct.MinKelvin, ct.MaxKelvin)
		}
		caps = append(caps, iface(nsColorTemperature, "", "colorTemperatureInKelvin"))
	}
	if t.Lock != nil {
		caps = append(caps, iface(nsLock, "", "lockState"))
	}
	if th := t.Thermostat; th != nil {
		if th.MaxC < th.MinC || math.IsNaN(th.MinC) || math.IsNaN(th.MaxC) {
			return nil, fmt.Errorf("thermostat range %g–%g °C is invalid", th.MinC, th.MaxC)
		}
		var props []string
		if th.TargetSetpoint {
			props = append(props, "targetSetpoint")
		}
		if th.DualSetpoints {
			props = append(props, "lowerSetpoint", "upperSetpoint")
		}
		cfg := thermostatConfig{}
		for _, m := range alexaThermostatModes {
			if th.SupportsMode(m) {
				cfg.SupportedModes = append(cfg.SupportedModes, string(m))
			}
		}
		if len(cfg.SupportedModes) > 0 {
			props = append(props, "thermostatMode")
		}
		if len(props) == 0 {
			return nil, fmt.Errorf("thermostat has neither modes nor setpoints")
		}
		c := iface(nsThermostat, "", props...)
		c.Configuration = cfg
		caps = append(caps, c)
	}
	if t.TemperatureSensor != nil {
		caps = append(caps, iface(nsTemperature, "", "temperature"))
	}
	caps = append(caps, s.kindCaps(t, true)...)
	caps = append(caps, iface(nsHealth, "", "connectivity"))
	if err := checkGeneric(t); err != nil {
		return nil, err
	}
	caps = append(caps, s.genericCaps(t)...)
	if err := checkInstances(caps); err != nil {
		return nil, err
	}
	return caps, nil
}

// Decode maps Smart Home directives back to trait commands. Like the avs
// profile it resolves relative adjustments (clamped to the trait's range) and
// leaves range and mode checks to model.Command.Validate in the router,
// except what the directive itself decides: three setpoints at once are
// TRIPLE_SETPOINTS_UNSUPPORTED, an adjustment of a thermostat that is off is
// THERMOSTAT_IS_OFF, an unknown thermostat mode UNSUPPORTED_THERMOSTAT_MODE.
func (s *smartHomeProfile) Decode(d *Directive, ep model.Endpoint, st model.State) (Intent, error) {
	if in, done, err := decodeCommon(d, ep.Traits); done {
		return in, err
	}
	if in, done, err := decodeKinds(d, ep.Traits, st); done {
		return in, err
	}
	t := ep.Traits
	h := d.Header
	switch h.Namespace {
	case nsBrightness:
		if t.Brightness != nil {
			return decodeBrightness(d, st)
		}
	case nsColor:
		if t.Color != nil && h.Name == "SetColor" {
			return decodeColor(d)
		}
	case nsColorTemperature:
		if t.ColorTemperature != nil {
			return decodeColorTemperature(d, t.ColorTemperature, st)
		}
	case nsLock:
		if t.Lock == nil {
			break
		}
		switch h.Name {
		case "Lock":
			return Intent{Command: model.SetLock(model.Locked)}, nil
		case "Unlock":
			return Intent{Command: model.SetLock(model.Unlocked)}, nil
		}
	case nsThermostat:
		if t.Thermostat != nil {
			return decodeThermostat(d, t.Thermostat, st)
		}
	case nsToggle, nsRange, nsMode:
		return decodeGeneric(d, t, st)
	}
	return Intent{}, unsupported(d)
}

func decodeBrightness(d *Directive, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetBrightness":
		var pl struct {
			Brightness *float64 `json:"brightness"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Brightness == nil {
			return Intent{}, missing(d, "brightness")
		}
		return Intent{Command: model.SetBrightness(toInt(*pl.Brightness))}, nil
	case "AdjustBrightness":
		var pl struct {
			Delta *float64 `json:"brightnessDelta"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Delta == nil {
			return Intent{}, missing(d, "brightnessDelta")
		}
		cur := currentBrightness(st)
		if cur == nil {
			return Intent{}, unknownCurrent(d)
		}
		v := adjustRange(*cur, *pl.Delta, false, rangeSpec{min: 0, max: 100, precision: 1})
		return Intent{Command: model.SetBrightness(toInt(v))}, nil
	}
	return Intent{}, unsupported(d)
}

func decodeColor(d *Directive) (Intent, error) {
	var pl struct {
		Color *struct {
			Hue        *float64 `json:"hue"`
			Saturation *float64 `json:"saturation"`
			Brightness *float64 `json:"brightness"`
		} `json:"color"`
	}
	if err := decodePayload(d, &pl); err != nil {
		return Intent{}, err
	}
	c := pl.Color
	if c == nil || c.Hue == nil || c.Saturation == nil || c.Brightness == nil {
		return Intent{}, missing(d, "color with hue, saturation and brightness")
	}
	return Intent{Command: model.SetColor(model.HSB{Hue: *c.Hue, Saturation: *c.Saturation, Brightness: *c.Brightness})}, nil
}

func decodeColorTemperature(d *Directive, ct *model.ColorTemperature, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetColorTemperature":
		var pl struct {
			K *float64 `json:"colorTemperatureInKelvin"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.K == nil {
			return Intent{}, missing(d, "colorTemperatureInKelvin")
		}
		return Intent{Command: model.SetColorTemperature(toInt(*pl.K))}, nil
	case "IncreaseColorTemperature", "DecreaseColorTemperature":
		if st.ColorTemperature == nil {
			return Intent{}, unknownCurrent(d)
		}
		k := stepColorTemperature(*st.ColorTemperature, d.Header.Name == "IncreaseColorTemperature", ct.MinKelvin, ct.MaxKelvin)
		return Intent{Command: model.SetColorTemperature(k)}, nil
	}
	return Intent{}, unsupported(d)
}

// temperatureValue is Alexa's {"value":…, "scale":…}.
type temperatureValue struct {
	Value *float64 `json:"value"`
	Scale string   `json:"scale"`
}

func (tv *temperatureValue) parse(d *Directive, field string) (float64, Scale, error) {
	if tv.Value == nil {
		return 0, "", missing(d, field+".value")
	}
	s, err := ParseScale(tv.Scale)
	if err != nil {
		return 0, "", model.Errorf(model.ErrInvalidValue, "%s.%s: %s: %v", d.Header.Namespace, d.Header.Name, field, err)
	}
	return *tv.Value, s, nil
}

func decodeThermostat(d *Directive, th *model.Thermostat, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetTargetTemperature":
		var pl struct {
			Target *temperatureValue `json:"targetSetpoint"`
			Lower  *temperatureValue `json:"lowerSetpoint"`
			Upper  *temperatureValue `json:"upperSetpoint"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Target != nil && pl.Lower != nil && pl.Upper != nil {
			return Intent{}, model.Errorf(model.ErrTripleSetpointsUnsupported, "the thermostat does not take a target, a lower and an upper setpoint at once")
		}
		var cmd model.ThermostatState
		var scale Scale
		for _, f := range []struct {
			name string
			tv   *temperatureValue
			dst  **float64
		}{{"targetSetpoint", pl.Target, &cmd.Target}, {"lowerSetpoint", pl.Lower, &cmd.Lower}, {"upperSetpoint", pl.Upper, &cmd.Upper}} {
			if f.tv == nil {
				continue
			}
			v, s, err := f.tv.parse(d, f.name)
			if err != nil {
				return Intent{}, err
			}
			if scale == "" {
				scale = s
			}
			*f.dst = model.Ptr(inputTemp(v, s))
		}
		if scale == "" {
			return Intent{}, missing(d, "targetSetpoint, lowerSetpoint or upperSetpoint")
		}
		return Intent{Command: model.SetThermostat(cmd), Scale: string(scale)}, nil
	case "AdjustTargetTemperature":
		var pl struct {
			Delta *temperatureValue `json:"targetSetpointDelta"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Delta == nil {
			return Intent{}, missing(d, "targetSetpointDelta")
		}
		v, s, err := pl.Delta.parse(d, "targetSetpointDelta")
		if err != nil {
			return Intent{}, err
		}
		cmd, err := adjustThermostat(d, th, st, IntervalToCelsius(v, s))
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetThermostat(cmd), Scale: string(s)}, nil
	case "SetThermostatMode":
		var pl struct {
			Mode *struct {
				Value      string `json:"value"`
				CustomName string `json:"customName"`
			} `json:"thermostatMode"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Mode == nil || pl.Mode.Value == "" {
			return Intent{}, missing(d, "thermostatMode.value")
		}
		m := model.ThermostatMode(pl.Mode.Value)
		if !slices.Contains(alexaThermostatModes, m) {
			name := pl.Mode.Value
			if pl.Mode.CustomName != "" {
				name += " " + pl.Mode.CustomName
			}
			return Intent{}, model.Errorf(model.ErrUnsupportedThermostatMode, "the thermostat has no %s mode", model.Truncate(name, 64))
		}
		return Intent{Command: model.SetThermostat(model.ThermostatState{Mode: m})}, nil
	}
	return Intent{}, unsupported(d)
}

type temperatureProp struct {
	Value float64 `json:"value"`
	Scale string  `json:"scale"`
}

type connectivityProp struct {
	Value string `json:"value"`
}

type colorProp struct {
	Hue        float64 `json:"hue"`
	Saturation float64 `json:"saturation"`
	Brightness float64 `json:"brightness"`
}

// Properties reports the state of every declared trait plus
// Alexa.EndpointHealth connectivity (OK or UNREACHABLE); unknown state is left
// out. Values are clamped to what the schema allows, temperatures are in the
// thermostat's (or the profile's) scale.
func (s *smartHomeProfile) Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []Property {
	t := ep.Traits
	prop := func(ns, instance, name string, v any) Property {
		return Property{Namespace: ns, Instance: instance, Name: name, Value: v, TimeOfSample: at}
	}
	var out []Property
	if t.OnOff != nil && st.On != nil {
		out = append(out, prop(nsPower, "", "powerState", onOff(*st.On)))
	}
	if t.Brightness != nil && st.Brightness != nil {
		out = append(out, prop(nsBrightness, "", "brightness", int(clamp(float64(*st.Brightness), 0, 100))))
	}
	if t.Color != nil && st.Color != nil {
		c := st.Color
		out = append(out, prop(nsColor, "", "color", colorProp{
			Hue: clamp(nanTo0(c.Hue), 0, 360), Saturation: clamp(nanTo0(c.Saturation), 0, 1), Brightness: clamp(nanTo0(c.Brightness), 0, 1)}))
	}
	if t.ColorTemperature != nil && st.ColorTemperature != nil {
		out = append(out, prop(nsColorTemperature, "", "colorTemperatureInKelvin", *st.ColorTemperature))
	}
	if t.Lock != nil {
		switch st.Lock {
		case model.Locked, model.Unlocked, model.Jammed:
			out = append(out, prop(nsLock, "", "lockState", string(st.Lock)))
		}
	}
	if th := t.Thermostat; th != nil && st.Thermostat != nil {
		ts := st.Thermostat
		sc := s.thermostatScale(th)
		if slices.Contains(alexaThermostatModes, ts.Mode) && th.SupportsMode(ts.Mode) {
			out = append(out, prop(nsThermostat, "", "thermostatMode", string(ts.Mode)))
		}
		for _, sp := range []struct {
			ok   bool
			v    *float64
			name string
		}{{th.TargetSetpoint, ts.Target, "targetSetpoint"}, {th.DualSetpoints, ts.Lower, "lowerSetpoint"}, {th.DualSetpoints, ts.Upper, "upperSetpoint"}} {
			if sp.ok && sp.v != nil && !math.IsNaN(*sp.v) {
				out = append(out, prop(nsThermostat, "", sp.name, temperatureProp{reportTemp(*sp.v, sc), string(sc)}))
			}
		}
	}
	if t.TemperatureSensor != nil && st.Temperature != nil && !math.IsNaN(*st.Temperature) {
		sc := s.sensorScale(t)
		out = append(out, prop(nsTemperature, "", "temperature", temperatureProp{reportTemp(*st.Temperature, sc), string(sc)}))
	}
	out = append(out, kindProperties(t, st, true, prop)...)
	out = append(out, genericProperties(t, st, prop)...)
	conn := "OK"
	if !reachable {
		conn = "UNREACHABLE"
	}
	return append(out, prop(nsHealth, "", "connectivity", connectivityProp{conn}))
}

func nanTo0(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

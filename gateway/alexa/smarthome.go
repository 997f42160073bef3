package alexa

import (
	"encoding/json"
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

func (s *smartHomeProfile) capabilities(ep model.Endpoint) ([]capability, error) {
	rs := smartHomeRenderings()
	caps, err := s.renderCaps([]capability{iface(nsAlexa, "")}, rs.primary, ep.Traits)
	if err != nil {
		return nil, err
	}
	caps = append(caps, iface(nsHealth, "", "connectivity"))
	if caps, err = s.renderCaps(caps, rs.generic, ep.Traits); err != nil {
		return nil, err
	}
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
	if in, done, err := decodeCommon(d); done {
		return in, err
	}
	return s.decodeTraits(smartHomeRenderings().all(), d, ep.Traits, st)
}

type connectivityProp struct {
	Value string `json:"value"`
}

// Properties reports the state of every declared trait plus
// Alexa.EndpointHealth connectivity (OK or UNREACHABLE); unknown state is left
// out. Values are clamped to what the schema allows, temperatures are in the
// thermostat's (or the profile's) scale.
func (s *smartHomeProfile) Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []Property {
	prop := func(ns, instance, name string, v any) Property {
		return Property{Namespace: ns, Instance: instance, Name: name, Value: v, TimeOfSample: at}
	}
	out := s.renderProps(nil, smartHomeRenderings().all(), ep.Traits, st, prop)
	conn := "OK"
	if !reachable {
		conn = "UNREACHABLE"
	}
	return append(out, prop(nsHealth, "", "connectivity", connectivityProp{conn}))
}

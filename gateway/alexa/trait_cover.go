package alexa

import "github.com/avshub/avshub/discovery/model"

// cover: the Blind.Lift RangeController in both profiles, and for a cover
// with slats (model.Cover.Tilt) a second one, Blind.Tilt. The cover's stop
// action (model.StopCover) has no Alexa form: neither AVS nor the Smart Home
// API's RangeController has a stop directive (only SetRangeValue and
// AdjustRangeValue), so it is never decoded here; stopping a blind is for the
// status page, the dashboards (Home Assistant's payload_stop) and a bridge's
// own CLI or SDK.
//
// Semantics: an action or state may be mapped by one capability of an
// endpoint only. A blind without slats maps open/close and raise/lower to
// its lift; a blind with slats maps raise/lower to the lift and open/close
// (and the open and closed states) to the slats, as a venetian blind is used
// ("close the blinds" turns the slats, "lower the blinds" lets them down).
// AVS documents semantics for its generic controllers too, so both profiles
// are the same.
func init() {
	register(model.TraitCover, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if t.Cover == nil {
				return nil, nil
			}
			if t.Cover.Tilt {
				return []capability{p.coverCap(false), p.tiltCap()}, nil
			}
			return []capability{p.coverCap(true)}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if t.Cover == nil {
				return nil
			}
			var out []Property
			if st.CoverPosition != nil {
				out = append(out, prop(nsRange, InstanceCoverPosition, "rangeValue", clamp(float64(*st.CoverPosition), 0, 100)))
			}
			if t.Cover.Tilt && st.CoverTilt != nil {
				out = append(out, prop(nsRange, InstanceCoverTilt, "rangeValue", clamp(float64(*st.CoverTilt), 0, 100)))
			}
			return out
		},
		decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
			if d.Header.Namespace != nsRange || t.Cover == nil {
				return Intent{}, false, nil
			}
			switch {
			case d.Header.Instance == InstanceCoverPosition:
				v, err := decodePercent(d, st.CoverPosition)
				if err != nil {
					return Intent{}, true, err
				}
				return Intent{Command: model.SetCoverPosition(v)}, true, nil
			case d.Header.Instance == InstanceCoverTilt && t.Cover.Tilt:
				v, err := decodePercent(d, st.CoverTilt)
				if err != nil {
					return Intent{}, true, err
				}
				return Intent{Command: model.SetCoverTilt(v)}, true, nil
			}
			return Intent{}, false, nil
		},
	}))
}

// coverCap is the cover's RangeController as Amazon documents it for blinds:
// 0–100 %, presets open (100) and closed (0), "raise"/"lower" actions, and
// with openClose the "open"/"close" actions and the closed/open states.
func (p *profile) coverCap(openClose bool) capability {
	c := rangeCap(InstanceCoverPosition, p.builtinNames(assetSettingOpening, txtPosition), percentPresets(p), false)
	c.Semantics = &semantics{
		ActionMappings: []actionMapping{
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Lower"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": -10, "rangeValueDeltaDefault": false}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Raise"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": 10, "rangeValueDeltaDefault": false}}},
		},
	}
	if openClose {
		openCloseSemantics(c.Semantics)
	}
	return c
}

// tiltCap is the slats' RangeController: 0–100 %, presets open (100) and
// closed (0), the "open"/"close" actions and the closed/open states.
func (p *profile) tiltCap() capability {
	c := rangeCap(InstanceCoverTilt, p.builtinNames("", txtTilt, txtSlats), percentPresets(p), false)
	c.Semantics = &semantics{}
	openCloseSemantics(c.Semantics)
	return c
}

// percentPresets is a 0–100 % range with the presets open (100) and closed (0).
func percentPresets(p *profile) rangeConfig {
	return rangeConfig{
		SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1},
		UnitOfMeasure:  unitPercent,
		Presets: []rangePreset{
			{RangeValue: 100, PresetResources: resources{append(assets(assetValueMaximum, assetValueOpen), p.builtinNames("", txtOpen)...)}},
			{RangeValue: 0, PresetResources: resources{append(assets(assetValueMinimum, assetValueClose), p.builtinNames("", txtClosed)...)}},
		},
	}
}

// openCloseSemantics adds "open" (100) and "close" (0) and the open and
// closed states to s, in the order Amazon's blind example lists them.
func openCloseSemantics(s *semantics) {
	s.ActionMappings = append([]actionMapping{
		{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Close"},
			Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 0}}},
		{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Open"},
			Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 100}}},
	}, s.ActionMappings...)
	s.StateMappings = []stateMapping{
		{Type: "StatesToValue", States: []string{"Alexa.States.Closed"}, Value: 0},
		{Type: "StatesToRange", States: []string{"Alexa.States.Open"}, Range: &stateRange{Min: 1, Max: 100}},
	}
}

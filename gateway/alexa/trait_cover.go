package alexa

import "github.com/avshub/avshub/discovery/model"

// cover: the Blind.Lift RangeController in both profiles. The cover's stop
// action (model.StopCover) has no Alexa form: neither AVS nor the Smart Home
// API's RangeController has a stop directive (only SetRangeValue and
// AdjustRangeValue), so it is never decoded here; stopping a blind is for the
// status page, the dashboards (Home Assistant's payload_stop) and a bridge's
// own CLI or SDK.
func init() {
	register(model.TraitCover, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if t.Cover == nil {
				return nil, nil
			}
			return []capability{p.coverCap()}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if t.Cover == nil || st.CoverPosition == nil {
				return nil
			}
			return []Property{prop(nsRange, InstanceCoverPosition, "rangeValue", clamp(float64(*st.CoverPosition), 0, 100))}
		},
		decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
			if d.Header.Namespace != nsRange || d.Header.Instance != InstanceCoverPosition || t.Cover == nil {
				return Intent{}, false, nil
			}
			v, err := decodePercent(d, st.CoverPosition)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetCoverPosition(v)}, true, nil
		},
	}))
}

// coverCap is the cover's RangeController as Amazon documents it for blinds:
// 0–100 %, presets open (100) and closed (0), "open"/"close" and
// "raise"/"lower" actions, and the closed/open states.
func (p *profile) coverCap() capability {
	c := rangeCap(InstanceCoverPosition, p.builtinNames(assetSettingOpening, txtPosition), rangeConfig{
		SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1},
		UnitOfMeasure:  unitPercent,
		Presets: []rangePreset{
			{RangeValue: 100, PresetResources: resources{append(assets(assetValueMaximum, assetValueOpen), p.builtinNames("", txtOpen)...)}},
			{RangeValue: 0, PresetResources: resources{append(assets(assetValueMinimum, assetValueClose), p.builtinNames("", txtClosed)...)}},
		},
	}, false)
	c.Semantics = &semantics{
		ActionMappings: []actionMapping{
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Close"},
				Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 0}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Open"},
				Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 100}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Lower"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": -10, "rangeValueDeltaDefault": false}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Raise"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": 10, "rangeValueDeltaDefault": false}}},
		},
		StateMappings: []stateMapping{
			{Type: "StatesToValue", States: []string{"Alexa.States.Closed"}, Value: 0},
			{Type: "StatesToRange", States: []string{"Alexa.States.Open"}, Range: &stateRange{Min: 1, Max: 100}},
		},
	}
	return c
}

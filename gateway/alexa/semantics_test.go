package alexa

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSemanticsDecode checks that every semantic action the avs profile
// declares decodes into a valid command, every state mapping names a
// declared mode value, and no action or state is mapped twice on one
// endpoint (a blind with slats: open/close on the slats only).
func TestSemanticsDecode(t *testing.T) {
	p := mustProfile(t, ProfileAVS)
	n := 0
	for _, f := range fixtures() {
		raw, err := p.Endpoint(f.ep)
		if err != nil {
			t.Fatal(err)
		}
		var obj struct {
			Capabilities []struct {
				Interface     string `json:"interface"`
				Instance      string `json:"instance"`
				Configuration struct {
					SupportedModes []struct {
						Value string `json:"value"`
					} `json:"supportedModes"`
					SupportedRange *struct {
						Min float64 `json:"minimumValue"`
						Max float64 `json:"maximumValue"`
					} `json:"supportedRange"`
				} `json:"configuration"`
				Semantics *struct {
					ActionMappings []struct {
						Actions   []string `json:"actions"`
						Directive struct {
							Name    string          `json:"name"`
							Payload json.RawMessage `json:"payload"`
						} `json:"directive"`
					} `json:"actionMappings"`
					StateMappings []struct {
						Type   string   `json:"@type"`
						States []string `json:"states"`
						Value  any      `json:"value"`
						Range  *struct {
							Min float64 `json:"minimumValue"`
							Max float64 `json:"maximumValue"`
						} `json:"range"`
					} `json:"stateMappings"`
				} `json:"semantics"`
			} `json:"capabilities"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		mapped := map[string]string{}
		once := func(what, instance string) {
			if other, dup := mapped[what]; dup {
				t.Errorf("%s: %s is mapped by %s and %s", f.name, what, other, instance)
			}
			mapped[what] = instance
		}
		for _, c := range obj.Capabilities {
			if c.Semantics == nil {
				continue
			}
			for _, sm := range c.Semantics.StateMappings {
				for _, s := range sm.States {
					once(s, c.Instance)
				}
			}
			for _, am := range c.Semantics.ActionMappings {
				for _, a := range am.Actions {
					once(a, c.Instance)
				}
				n++
				d := directive(t, c.Interface, am.Directive.Name, c.Instance, f.ep.ID, string(am.Directive.Payload))
				in, err := p.Decode(d, f.ep, f.st)
				if err != nil {
					t.Errorf("%s %s %v: Decode: %v", f.name, c.Instance, am.Actions, err)
					continue
				}
				if err := in.Command.Validate(f.ep.Traits, f.st); err != nil {
					t.Errorf("%s %s %v: %s: Validate: %v", f.name, c.Instance, am.Actions, in.Command, err)
				}
			}
			for _, sm := range c.Semantics.StateMappings {
				if r := c.Configuration.SupportedRange; r != nil { // a RangeController
					v, isNum := sm.Value.(float64)
					switch {
					case sm.Type == "StatesToValue" && (!isNum || v < r.Min || v > r.Max):
						t.Errorf("%s %s: state mapping %v → %v is not in %g–%g", f.name, c.Instance, sm.States, sm.Value, r.Min, r.Max)
					case sm.Type == "StatesToRange" && (sm.Range == nil || sm.Range.Min < r.Min || sm.Range.Max > r.Max || sm.Range.Min > sm.Range.Max):
						t.Errorf("%s %s: state mapping %v → range %+v is not in %g–%g", f.name, c.Instance, sm.States, sm.Range, r.Min, r.Max)
					}
					continue
				}
				ok := slices.ContainsFunc(c.Configuration.SupportedModes, func(m struct {
					Value string `json:"value"`
				}) bool {
					return m.Value == sm.Value
				})
				if !ok {
					t.Errorf("%s %s: state mapping %v → %q is not a mode value", f.name, c.Instance, sm.States, sm.Value)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d semantic actions checked", n)
	}
}

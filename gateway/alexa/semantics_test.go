package alexa

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSemanticsDecode checks that every semantic action the avs profile
// declares decodes into a valid command, and every state mapping names a
// declared mode value.
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
						States []string `json:"states"`
						Value  string   `json:"value"`
					} `json:"stateMappings"`
				} `json:"semantics"`
			} `json:"capabilities"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		for _, c := range obj.Capabilities {
			if c.Semantics == nil {
				continue
			}
			for _, am := range c.Semantics.ActionMappings {
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

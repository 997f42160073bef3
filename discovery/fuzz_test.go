package discovery

import (
	"encoding/json"
	"github.com/avshub/avshub/discovery/model"
	"strings"
	"testing"
)

// FuzzRegistryApply feeds bridge events (as a plugin could send them) to the
// registry: nothing may panic, and the registry's invariants hold after each.
func FuzzRegistryApply(f *testing.F) {
	seeds := []string{
		`{"kind":"snapshot","devices":[{"endpoint":{"deviceId":"a","friendlyName":"Lamp","category":"LIGHT","traits":{"onOff":{}}},"state":{"on":true},"reachable":true}]}`,
		`{"kind":"upsert","device":{"endpoint":{"deviceId":"b","friendlyName":"lamp","traits":{}},"state":{},"reachable":false}}`,
		`{"kind":"state","deviceId":"a","state":{"brightness":5,"toggles":{"x":true}},"cause":"PHYSICAL_INTERACTION"}`,
		`{"kind":"reachability","deviceId":"a","reachable":false}`,
		`{"kind":"remove","deviceId":"a"}`,
		`{"kind":"health","health":{"state":"UNHEALTHY"}}`,
		`{"kind":"completion","completion":{"correlationId":"x"}}`,
		`{"kind":"snapshot","devices":[{"endpoint":{"deviceId":"","friendlyName":""}},{"endpoint":{"deviceId":"x/y","friendlyName":"` + strings.Repeat("n", 200) + `"}}]}`,
	}
	for _, s := range seeds {
		f.Add("zb", []byte(s), []byte(seeds[2]))
	}
	f.Fuzz(func(t *testing.T, bridge string, ev1, ev2 []byte) {
		r := NewRegistry("S", WithLogger(quietLogger()), WithStore(newMemStore()))
		for _, raw := range [][]byte{ev1, ev2, ev1} {
			var ev model.Event
			if json.Unmarshal(raw, &ev) != nil {
				continue
			}
			r.Apply(bridge, ev)
			names := map[string]bool{}
			for _, e := range r.List() {
				if !model.ValidEndpointID(e.Endpoint.ID) || e.Endpoint.ID != model.EndpointID("S", e.Endpoint.Bridge, e.Endpoint.DeviceID) {
					t.Fatalf("bad id %q", e.Endpoint.ID)
				}
				if model.ValidateFriendlyName(e.Endpoint.FriendlyName) != nil {
					t.Fatalf("invalid name %q published", e.Endpoint.FriendlyName)
				}
				k := strings.ToLower(strings.TrimSpace(e.Endpoint.FriendlyName))
				if names[k] {
					t.Fatalf("duplicate name %q", e.Endpoint.FriendlyName)
				}
				names[k] = true
			}
		}
	})
}

package dashboard

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

// requests carries out bridge requests on the test hub's registry as the
// hub does: settings through Registry.Configure, a removal as the bridge's
// Remove event.
type requests struct{ h *testHub }

func (r requests) Configure(id string, p discovery.SettingsPatch) error {
	_, err := r.h.reg.Configure(id, p)
	return err
}

func (r requests) Remove(_ context.Context, id string) error {
	e, ok := r.h.reg.Get(id)
	if !ok {
		return model.Errorf(model.ErrInvalidValue, "no endpoint %q", id)
	}
	r.h.reg.Apply(e.Endpoint.Bridge, model.Event{Kind: model.EventRemove, DeviceID: e.Endpoint.DeviceID})
	return nil
}

// TestBridgeRequestTopics drives rename, hide and remove through the request
// topics on a real broker: each answer comes on the response topic with the
// request's transaction (a string or a number), as zigbee2mqtt answers
// bridge/request/device/*; a removal clears the retained discovery config and
// is announced on bridge/event; bad requests get an error and change nothing.
func TestBridgeRequestTopics(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			h := newTestHub(t)
			pre := tg.prefix
			obs := observe(t, tg.url, tg.user, tg.pass, pre+"/bridge/#", tg.disc+"/#")
			p, _ := runPublisher(t, Config{Broker: tg.url, Username: tg.user, Password: tg.pass, TopicPrefix: pre,
				DiscoveryPrefix: tg.disc, Requests: requests{h}}, h.reg, h)
			lamp := h.entry(t, "light-1")
			_, _, _, _, cfgTopic := p.Topics(lamp.Endpoint)
			obs.wait(t, "the lamp's discovery config", func() bool { m, ok := obs.last(cfgTopic); return ok && len(m.payload) > 0 })
			c := dialClient(t, tg.url, tg.user, tg.pass)
			ask := func(op, payload string) map[string]any {
				t.Helper()
				n := obs.count(pre + "/bridge/response/endpoint/" + op)
				publishTo(t, c, pre+"/bridge/request/endpoint/"+op, false, payload)
				obs.wait(t, op+" response", func() bool { return obs.count(pre+"/bridge/response/endpoint/"+op) > n })
				m, _ := obs.last(pre + "/bridge/response/endpoint/" + op)
				var v map[string]any
				if err := json.Unmarshal(m.payload, &v); err != nil {
					t.Fatalf("%s response %q: %v", op, m.payload, err)
				}
				return v
			}

			r := ask("rename", `{"from":"Living Room Lamp","to":"Kitchen lamp","transaction":"t-1"}`)
			data, _ := r["data"].(map[string]any)
			if r["status"] != "ok" || r["transaction"] != "t-1" || data["from"] != "Living Room Lamp" || data["to"] != "Kitchen lamp" || data["id"] != lamp.Endpoint.ID {
				t.Errorf("rename response %v", r)
			}
			if s := h.reg.Settings(lamp.Endpoint.ID); s.Name != "Kitchen lamp" {
				t.Errorf("settings after rename %+v", s)
			}
			obs.lastJSON(t, cfgTopic, func(v map[string]any) bool {
				dev, _ := v["dev"].(map[string]any)
				return dev["name"] == "Kitchen lamp"
			})

			// A room given on the hub (the page, `avshub rename --area`) reaches
			// Home Assistant as the device's suggested_area, beside its name.
			area := "Kitchen"
			if err := (requests{h}).Configure(lamp.Endpoint.ID, discovery.SettingsPatch{Area: &area}); err != nil {
				t.Fatal(err)
			}
			obs.lastJSON(t, cfgTopic, func(v map[string]any) bool {
				dev, _ := v["dev"].(map[string]any)
				return dev["suggested_area"] == "Kitchen" && dev["name"] == "Kitchen lamp"
			})

			r = ask("hide", `{"id":"Kitchen lamp","alexa":true,"transaction":7}`)
			if r["status"] != "ok" || r["transaction"] != 7.0 || !h.reg.Settings(lamp.Endpoint.ID).HiddenFromAlexa {
				t.Errorf("hide response %v, settings %+v", r, h.reg.Settings(lamp.Endpoint.ID))
			}

			for _, bad := range []struct{ op, payload, why string }{
				{"rename", `{"from":"No Such Lamp","to":"x","transaction":"t-2"}`, "unknown endpoint"},
				{"rename", `{"from":"Kitchen lamp","transaction":"t-3"}`, "no new name"},
				{"rename", `{"from":"Kitchen lamp","to":"x","bogus":1}`, "unknown field"},
				{"remove", `not json`, "not JSON"},
				{"explode", `{"id":"Kitchen lamp"}`, "unknown operation"},
			} {
				r := ask(bad.op, bad.payload)
				if d, _ := r["data"].(map[string]any); r["status"] != "error" || r["error"] == "" || len(d) != 0 {
					t.Errorf("%s: response %v", bad.why, r)
				}
			}
			if r := ask("rename", `{"from":"No Such Lamp","to":"x","transaction":"t-9"}`); r["transaction"] != "t-9" {
				t.Errorf("an error does not echo the transaction: %v", r)
			}
			if h.reg.Settings(lamp.Endpoint.ID).Name != "Kitchen lamp" {
				t.Error("a refused request changed the name")
			}

			r = ask("remove", `{"id":"`+lamp.Endpoint.ID+`","transaction":"t-4"}`)
			if r["status"] != "ok" || r["transaction"] != "t-4" {
				t.Errorf("remove response %v", r)
			}
			obs.wait(t, "an empty retained discovery config", func() bool { m, ok := obs.last(cfgTopic); return ok && len(m.payload) == 0 })
			ev := obs.lastJSON(t, pre+"/bridge/event", func(v map[string]any) bool { return v["type"] == "endpoint_removed" })
			if d, _ := ev["data"].(map[string]any); d["id"] != lamp.Endpoint.ID {
				t.Errorf("event %v", ev)
			}
			if _, ok := h.reg.Get(lamp.Endpoint.ID); ok {
				t.Error("the endpoint is still in the registry")
			}
		})
	}
}

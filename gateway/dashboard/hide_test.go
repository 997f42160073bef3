package dashboard

import (
	"encoding/json"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestHideFromDashboards hides an endpoint from the dashboards (issue 16
// point 3) through the request topic, as the page and `avshub hide --from
// dashboards` do through the registry: its retained discovery config, state
// and availability are cleared on the broker while it stays on the hub, a
// command on its set topic is refused without reaching the hub, its state
// changes are not published, and showing it again publishes its discovery
// config and state as before.
func TestHideFromDashboards(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			h := newTestHub(t)
			pre := tg.prefix
			obs := observe(t, tg.url, tg.user, tg.pass, pre+"/#", tg.disc+"/#")
			p, _ := runPublisher(t, Config{Broker: tg.url, Username: tg.user, Password: tg.pass, TopicPrefix: pre,
				DiscoveryPrefix: tg.disc, Requests: requests{h}}, h.reg, h)
			lamp := h.entry(t, "light-1")
			stateTopic, setTopic, availTopic, errTopic, cfgTopic := p.Topics(lamp.Endpoint)
			obs.wait(t, "the lamp's discovery config", func() bool { m, ok := obs.last(cfgTopic); return ok && len(m.payload) > 0 })
			obs.wait(t, "the lamp's state", func() bool { m, ok := obs.last(stateTopic); return ok && len(m.payload) > 0 })
			c := dialClient(t, tg.url, tg.user, tg.pass)
			ask := func(payload string) map[string]any {
				t.Helper()
				topic := pre + "/bridge/response/endpoint/hide"
				n := obs.count(topic)
				publishTo(t, c, pre+"/bridge/request/endpoint/hide", false, payload)
				obs.wait(t, "the hide response", func() bool { return obs.count(topic) > n })
				m, _ := obs.last(topic)
				var v map[string]any
				if err := json.Unmarshal(m.payload, &v); err != nil {
					t.Fatalf("hide response %q: %v", m.payload, err)
				}
				return v
			}

			r := ask(`{"id":"` + lamp.Endpoint.FriendlyName + `","dashboards":true,"transaction":"h-1"}`)
			if r["status"] != "ok" || !h.reg.Settings(lamp.Endpoint.ID).HiddenFromDashboards || h.reg.Settings(lamp.Endpoint.ID).HiddenFromAlexa {
				t.Fatalf("hide response %v, settings %+v", r, h.reg.Settings(lamp.Endpoint.ID))
			}
			for _, topic := range []string{cfgTopic, stateTopic, availTopic} {
				obs.wait(t, "an empty "+topic, func() bool { m, ok := obs.last(topic); return ok && len(m.payload) == 0 })
			}
			if _, ok := h.reg.Get(lamp.Endpoint.ID); !ok {
				t.Fatal("hiding from the dashboards removed the endpoint from the hub")
			}

			// Hidden, it takes no commands from the dashboards, and its changes
			// (Alexa's, or at the device) are not published.
			calls := len(h.calls)
			publishTo(t, c, setTopic, false, `{"state":"ON"}`)
			obs.lastJSON(t, errTopic, func(v map[string]any) bool { return v["kind"] == "NOT_SUPPORTED" })
			if n := len(h.calls); n != calls {
				t.Fatalf("a command for the hidden lamp reached the hub (%d calls)", n-calls)
			}
			from := obs.len()
			h.reg.Apply("virtual", model.Event{Kind: model.EventState, DeviceID: lamp.Endpoint.DeviceID, State: model.State{On: model.Ptr(true)}, Cause: model.CausePhysical})
			// The hub's own broker traffic is ordered: a request answered after
			// the change shows nothing was published for the lamp in between.
			ask(`{"id":"` + lamp.Endpoint.ID + `","dashboards":true,"transaction":"h-2"}`)
			for _, m := range obs.since(from) {
				if m.topic == stateTopic || m.topic == cfgTopic {
					t.Errorf("the hidden lamp was published: %s %q", m.topic, m.payload)
				}
			}

			// Shown again: its discovery config and its current state come back.
			r = ask(`{"id":"` + lamp.Endpoint.ID + `","dashboards":false,"transaction":"h-3"}`)
			if r["status"] != "ok" || h.reg.Settings(lamp.Endpoint.ID).HiddenFromDashboards {
				t.Fatalf("unhide response %v, settings %+v", r, h.reg.Settings(lamp.Endpoint.ID))
			}
			obs.lastJSON(t, cfgTopic, func(v map[string]any) bool {
				dev, _ := v["dev"].(map[string]any)
				return dev["name"] == lamp.Endpoint.FriendlyName
			})
			obs.lastJSON(t, stateTopic, func(v map[string]any) bool { return v["state"] == "ON" })
		})
	}
}

package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/metrics"
)

func TestPublisherEndToEnd(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) { endToEnd(t, tg) })
	}
}

func endToEnd(t *testing.T, tg target) {
	hub := newTestHub(t)
	obs := observe(t, tg.url, tg.user, tg.pass, tg.prefix+"/#", tg.disc+"/#")
	rec := newRecorder()
	m := metrics.New()
	cfg := Config{Broker: tg.url, TopicPrefix: tg.prefix, DiscoveryPrefix: tg.disc, SWVersion: "1.0.0",
		ClientID: "dash-" + randID(), OnPublish: rec.onPublish, Metrics: m}
	p, stop := runPublisher(t, cfg, hub.reg, hub)
	l := layout{prefix: tg.prefix, disc: tg.disc, qos: 1, swVersion: "1.0.0", supportURL: DefaultSupportURL}

	light := hub.entry(t, "light-1")
	lightNode := NodeID(light.Endpoint)
	stateT, setT, availT, errT, configT := p.Topics(light.Endpoint)
	if stateT != l.nodeTopic(lightNode, "state") || configT != l.configTopic(lightNode) {
		t.Fatalf("Topics = %s %s", stateT, configT)
	}
	cmdClient := dialClient(t, tg.url, tg.user, tg.pass)

	t.Run("discovery", func(t *testing.T) {
		obs.wait(t, "hub online", func() bool { m, ok := obs.last(p.StatusTopic()); return ok && string(m.payload) == "online" })
		for _, name := range sortedKeys(fixtures()) {
			e := fixtureEntry(name)
			node := NodeID(e.Endpoint)
			got := obs.lastJSON(t, l.configTopic(node), nil)
			want := l.config(node, e.Endpoint, l.components(node, e.Endpoint))
			if !jsonEqual(t, got, want) {
				t.Errorf("%s: config\n got %v\nwant %v", name, got, want)
			}
			st := obs.lastJSON(t, l.nodeTopic(node, "state"), nil)
			if st["reachable"] != e.Reachable {
				t.Errorf("%s: state %v", name, st)
			}
			av, _ := obs.last(l.nodeTopic(node, "availability"))
			if want := map[bool]string{true: "online", false: "offline"}[e.Reachable]; string(av.payload) != want {
				t.Errorf("%s: availability %q, want %q", name, av.payload, want)
			}
		}
		mq := model.Endpoint{Bridge: "mqtt", DeviceID: "z2m-lamp"}
		if n := obs.count(l.configTopic(NodeID(mq))); n != 0 {
			t.Errorf("endpoint of the mqtt bridge was published %d times", n)
		}
		// A dashboard connecting later gets everything retained.
		late := observe(t, tg.url, tg.user, tg.pass, configT, stateT, p.StatusTopic())
		defer func() {
			if t.Failed() {
				for _, m := range late.since(0) {
					t.Logf("late: %s retained=%v %.80s", m.topic, m.retained, m.payload)
				}
			}
		}()
		late.wait(t, "retained config, state and status", func() bool {
			seen := map[string]bool{}
			for _, m := range late.since(0) {
				seen[m.topic] = seen[m.topic] || (m.retained && len(m.payload) > 0)
			}
			return seen[configT] && seen[stateT] && seen[p.StatusTopic()]
		})
		if rec.count(configT, "") == 0 || rec.count(p.StatusTopic(), "online") == 0 {
			t.Error("OnPublish did not record the config and status")
		}
		for _, r := range rec.recs {
			if r.topic == configT && !r.retained {
				t.Error("config recorded as not retained")
			}
		}
	})

	t.Run("command", func(t *testing.T) {
		drainCalls(hub)
		publishTo(t, cmdClient, setT, false, `{"state":"ON","brightness":40}`)
		calls := waitCalls(t, hub, 2)
		if calls[0].cmd.String() != "on_off=true" || calls[1].cmd.String() != "brightness=40" {
			t.Errorf("calls %v", calls)
		}
		for _, c := range calls {
			if c.endpoint != light.Endpoint.ID || c.cause != model.CauseApp {
				t.Errorf("call %+v", c)
			}
		}
		obs.lastJSON(t, stateT, func(s map[string]any) bool {
			return s["state"] == "ON" && s["brightness"] == 40.0 && s["cause"] == "APP_INTERACTION"
		})
		publishTo(t, cmdClient, setT, false, `{"color":{"h":240,"s":100}}`)
		if c := waitCalls(t, hub, 1); c[0].cmd.Trait != model.TraitColor {
			t.Errorf("call %v", c)
		}
		obs.lastJSON(t, stateT, func(s map[string]any) bool {
			c, _ := s["color"].(map[string]any)
			return s["color_mode"] == "hs" && c["h"] == 240.0 && c["s"] == 100.0
		})
	})

	t.Run("re-sync resets the cause", func(t *testing.T) {
		obs.lastJSON(t, stateT, func(s map[string]any) bool { return s["cause"] == "APP_INTERACTION" })
		// The bridge restarts and re-syncs: its snapshot says the light is off.
		e := hub.entry(t, "light-1")
		var devs []model.Device
		for _, x := range hub.reg.List() {
			if x.Endpoint.Bridge != "virtual" {
				continue
			}
			d := model.Device{Endpoint: x.Endpoint, State: x.State, Reachable: x.Reachable}
			if x.Endpoint.ID == e.Endpoint.ID {
				off := false
				d.State.On = &off
			}
			devs = append(devs, d)
		}
		hub.reg.Apply("virtual", model.Event{Kind: model.EventSnapshot, Devices: devs})
		got := obs.lastJSON(t, stateT, func(s map[string]any) bool { return s["state"] == "OFF" })
		if c, ok := got["cause"]; ok {
			t.Fatalf("after a re-sync the state still says cause %v: %v", c, got)
		}
	})

	t.Run("bad commands", func(t *testing.T) {
		thermo := hub.entry(t, "living-thermostat")
		_, thermoSet, _, thermoErr, _ := p.Topics(thermo.Endpoint)
		for _, tc := range []struct {
			topic, errTopic, payload, kind string
		}{
			{setT, errT, `{"state":"ON"`, "INVALID_VALUE"},
			{setT, errT, `{"state":"ON","effect":"colorloop"}`, "INVALID_VALUE"},
			{setT, errT, `{"state":"ON","brightness":150}`, "OUT_OF_RANGE"},
			{setT, errT, `{"color_temp":1000}`, "OUT_OF_RANGE"},
			{setT, errT, "LOCK", "NOT_SUPPORTED"},
			{setT, errT, "\xff", "INVALID_VALUE"},
			{thermoSet, thermoErr, `{"temperature":99}`, "TEMPERATURE_OUT_OF_RANGE"},
			{thermoSet, thermoErr, `{"temperature_low":20,"temperature_high":21}`, "REQUESTED_SETPOINTS_TOO_CLOSE"},
			{thermoSet, thermoErr, `{"mode":"off","temperature":20}`, "THERMOSTAT_IS_OFF"},
			{tg.prefix + "/no-such-node/set", tg.prefix + "/no-such-node/error", "ON", "NOT_SUPPORTED"},
		} {
			before := hub.reg.List()
			n := obs.count(tc.errTopic)
			publishTo(t, cmdClient, tc.topic, false, tc.payload)
			e := obs.nextJSON(t, tc.errTopic, n)
			if e["kind"] != tc.kind || e["message"] == "" {
				t.Errorf("%q: error %v, want kind %s", tc.payload, e, tc.kind)
			}
			if m, _ := obs.last(tc.errTopic); m.retained {
				t.Errorf("error message retained")
			}
			if calls := drainCalls(hub); len(calls) != 0 {
				t.Errorf("%q reached Execute: %v", tc.payload, calls)
			}
			if after := hub.reg.List(); !jsonEqual(t, before, after) {
				t.Errorf("%q changed the registry", tc.payload)
			}
		}
		// A failure of the device itself comes back with its kind.
		hub.setFail(&model.Error{Kind: model.ErrUnreachable, Message: "the device did not answer"})
		n := obs.count(errT)
		publishTo(t, cmdClient, setT, false, "OFF")
		e := obs.nextJSON(t, errT, n)
		if e["kind"] != "UNREACHABLE" || e["endpoint"] != light.Endpoint.ID {
			t.Errorf("error %v", e)
		}
		hub.setFail(nil)
		drainCalls(hub)
	})

	t.Run("ha birth republishes", func(t *testing.T) {
		n, s := obs.count(configT), obs.count(stateT)
		publishTo(t, cmdClient, tg.disc+"/status", false, "online")
		obs.wait(t, "config republished", func() bool { return obs.count(configT) > n })
		obs.wait(t, "state republished", func() bool { return obs.count(stateT) > s })
		// Home Assistant restarting (will "offline", then birth "online") gets everything again.
		n = obs.count(configT)
		publishTo(t, cmdClient, tg.disc+"/status", false, "offline")
		publishTo(t, cmdClient, tg.disc+"/status", false, "online")
		obs.wait(t, "config republished again", func() bool { return obs.count(configT) > n })
	})

	t.Run("rename in place", func(t *testing.T) {
		d := fixtures()["color_light"]
		d.Endpoint.FriendlyName = "Reading Lamp"
		hub.reg.Apply("virtual", model.Event{Kind: model.EventUpsert, Device: &d})
		c := obs.lastJSON(t, configT, func(c map[string]any) bool {
			return c["dev"].(map[string]any)["name"] == "Reading Lamp"
		})
		if uid := c["cmps"].(map[string]any)["light"].(map[string]any)["unique_id"]; uid != l.objectID(lightNode)+"_light" {
			t.Errorf("unique_id changed: %v", uid)
		}
	})

	t.Run("reachability", func(t *testing.T) {
		hub.reg.Apply("virtual", model.Event{Kind: model.EventReachability, DeviceID: "light-1", Reachable: false})
		obs.wait(t, "offline", func() bool { m, _ := obs.last(availT); return string(m.payload) == "offline" })
		obs.lastJSON(t, stateT, func(s map[string]any) bool { return s["reachable"] == false })
		hub.reg.Apply("virtual", model.Event{Kind: model.EventReachability, DeviceID: "light-1", Reachable: true})
		obs.wait(t, "online", func() bool { m, _ := obs.last(availT); return string(m.payload) == "online" })
	})

	t.Run("component removed", func(t *testing.T) {
		plug := hub.entry(t, "plug-1")
		_, _, _, _, plugConfig := p.Topics(plug.Endpoint)
		i := obs.len()
		d := fixtures()["plug"]
		d.Endpoint.Traits.Toggles = nil
		hub.reg.Apply("virtual", model.Event{Kind: model.EventUpsert, Device: &d})
		obs.wait(t, "two config messages", func() bool {
			n := 0
			for _, m := range obs.since(i) {
				if m.topic == plugConfig {
					n++
				}
			}
			return n >= 2
		})
		var cfgs []map[string]any
		for _, m := range obs.since(i) {
			if m.topic == plugConfig {
				var v map[string]any
				_ = json.Unmarshal(m.payload, &v)
				cfgs = append(cfgs, v)
			}
		}
		first := cfgs[0]["cmps"].(map[string]any)
		if tg, _ := first["toggle_Plug_ChildLock"].(map[string]any); len(tg) != 1 || tg["p"] != "switch" {
			t.Errorf("first config should remove the toggle with only its platform: %v", first)
		}
		if _, still := cfgs[1]["cmps"].(map[string]any)["toggle_Plug_ChildLock"]; still {
			t.Errorf("second config still has the toggle")
		}
	})

	t.Run("removal clears retained", func(t *testing.T) {
		lock := hub.entry(t, "front-door")
		lockState, _, _, _, lockConfig := p.Topics(lock.Endpoint)
		hub.reg.Apply("virtual", model.Event{Kind: model.EventRemove, DeviceID: "front-door"})
		obs.wait(t, "empty config", func() bool { m, ok := obs.last(lockConfig); return ok && len(m.payload) == 0 })
		obs.wait(t, "empty state", func() bool { m, ok := obs.last(lockState); return ok && len(m.payload) == 0 })
		late := observe(t, tg.url, tg.user, tg.pass, lockConfig, configT)
		late.wait(t, "the light's retained config", func() bool { _, ok := late.last(configT); return ok })
		if m, ok := late.last(lockConfig); ok {
			t.Errorf("removed endpoint still has a retained config: %q", m.payload)
		}
	})

	t.Run("status", func(t *testing.T) {
		st := p.Status()
		// 8 fixtures, the lock removed; the mqtt bridge's endpoint is not published.
		if !st.Connected || st.Endpoints != len(fixtures())-1 || st.Broker != tg.url {
			t.Errorf("status %+v", st)
		}
		if st.Commands < 13 || st.Refused < 10 || st.Failed != 1 {
			t.Errorf("command counts %+v", st)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		if out, in := counter(t, m, "out"), counter(t, m, "in"); out < 20 || in < 5 {
			t.Errorf("mqtt messages out=%v in=%v", out, in)
		}
	})

	// Shutting down marks the hub offline (retained), before the will would.
	stop()
	obs.wait(t, "hub offline", func() bool { m, _ := obs.last(p.StatusTopic()); return string(m.payload) == "offline" })

	// Leave a shared broker clean: remove what this run retained.
	if tg.b == nil {
		for _, r := range rec.recs {
			if r.retained {
				publishTo(t, cmdClient, r.topic, true, "")
			}
		}
	}
}

func counter(t *testing.T, m *metrics.Metrics, dir string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "avshub_mqtt_messages_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if labelIs(mt, "direction", dir) {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	ja, _ = json.Marshal(va)
	jb, _ = json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func TestNewConfigErrors(t *testing.T) {
	hub := newTestHub(t)
	q := 3
	for name, cfg := range map[string]Config{
		"no broker":       {},
		"bad qos":         {Broker: "tcp://127.0.0.1:1", QoS: &q},
		"wildcard prefix": {Broker: "tcp://127.0.0.1:1", TopicPrefix: "a/#"},
		"slash prefix":    {Broker: "tcp://127.0.0.1:1", DiscoveryPrefix: "ha/"},
	} {
		if _, err := New(cfg, hub.reg, hub); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New(Config{Broker: "tcp://x:1"}, nil, hub); err == nil {
		t.Error("New without a registry succeeded")
	}
}

func TestBridgeFilter(t *testing.T) {
	hub := newTestHub(t)
	for _, tc := range []struct {
		bridges []string
		want    map[string]bool
	}{
		{nil, map[string]bool{"virtual": true, "mqtt": false, "zigbee": true}},
		{[]string{"mqtt"}, map[string]bool{"virtual": false, "mqtt": true, "zigbee": false}},
	} {
		p, err := New(Config{Broker: "tcp://127.0.0.1:1", Bridges: tc.bridges}, hub.reg, hub)
		if err != nil {
			t.Fatal(err)
		}
		for b, want := range tc.want {
			if got := p.wants(model.Endpoint{Bridge: b}); got != want {
				t.Errorf("bridges %v: wants(%s) = %v", tc.bridges, b, got)
			}
		}
		if p.wants(model.Endpoint{Bridge: "virtual", Category: model.CategoryAlexaVoiceEnabled}) && tc.bridges == nil {
			t.Error("the hub's own endpoint is published")
		}
	}
}

// TestRunWithoutBroker: Run keeps retrying an absent broker and returns when its context ends.
func TestRunWithoutBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	hub := newTestHub(t)
	p, err := New(Config{Broker: "tcp://" + addr, Logger: quiet()}, hub.reg, hub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

// TestStaleConfigsCleared: retained discovery configs this hub left for
// endpoints that no longer exist are cleared at connection; other publishers'
// configs are left alone.
func TestStaleConfigsCleared(t *testing.T) {
	tg := targets(t)[0]
	seed := dialClient(t, tg.url, "", "")
	ghost := testLayout.configTopic("virtual_ghost")
	ghostCfg := testLayout.config("virtual_ghost", model.Endpoint{FriendlyName: "Ghost"},
		testLayout.components("virtual_ghost", model.Endpoint{Traits: model.Traits{OnOff: &model.OnOff{}}}))
	raw, _ := json.Marshal(ghostCfg)
	foreign := map[string]string{
		"homeassistant/device/z2m_lamp/config":           `{"o":{"name":"Zigbee2MQTT"},"availability":[{"topic":"zigbee2mqtt/bridge/state"}]}`,
		"homeassistant/device/avshub_virtual_z/config":   `{"o":{"name":"somebody"},"availability":[{"topic":"avshub/status"}]}`,
		"homeassistant/device/avshub_virtual_o/config":   `{"o":{"name":"avshub"},"availability":[{"topic":"otherhub/status"}]}`,
		"homeassistant/device/avshub_virtual_bad/config": `not json`,
	}
	publishTo(t, seed, ghost, true, string(raw))
	publishTo(t, seed, "avshub/virtual_ghost/state", true, `{"state":"ON"}`)
	for topic, p := range foreign {
		publishTo(t, seed, topic, true, p)
	}
	hub := newTestHub(t)
	obs := observe(t, tg.url, "", "", ghost, "avshub/virtual_ghost/state")
	p, _ := runPublisher(t, Config{Broker: tg.url}, hub.reg, hub)
	obs.wait(t, "the ghost cleared", func() bool {
		c, _ := obs.last(ghost)
		s, _ := obs.last("avshub/virtual_ghost/state")
		return len(c.payload) == 0 && len(s.payload) == 0
	})
	// The live endpoints' configs are still there, and so are the foreign ones.
	light := hub.entry(t, "light-1")
	_, _, _, _, lightConfig := p.Topics(light.Endpoint)
	topics := []string{lightConfig}
	for topic := range foreign {
		topics = append(topics, topic)
	}
	late := observe(t, tg.url, "", "", topics...)
	late.wait(t, "retained configs", func() bool {
		for _, topic := range topics {
			if m, ok := late.last(topic); !ok || len(m.payload) == 0 {
				return false
			}
		}
		return true
	})
}

// TestRetainedCommandIgnored: a command left retained on the broker is not
// carried out when the publisher (re)subscribes; an error says why.
func TestRetainedCommandIgnored(t *testing.T) {
	tg := targets(t)[0]
	hub := newTestHub(t)
	light := hub.entry(t, "light-1")
	node := NodeID(light.Endpoint)
	setT, errT := testLayout.nodeTopic(node, "set"), testLayout.nodeTopic(node, "error")
	seed := dialClient(t, tg.url, "", "")
	obs := observe(t, tg.url, "", "", errT, setT)
	publishTo(t, seed, setT, true, "ON")
	// The broker acknowledges before it forwards: once the observer has the
	// command, no live copy of it is left to reach the publisher.
	obs.wait(t, "the command forwarded", func() bool { _, ok := obs.last(setT); return ok })
	runPublisher(t, Config{Broker: tg.url}, hub.reg, hub)
	e := obs.nextJSON(t, errT, 0)
	if e["kind"] != "INVALID_VALUE" || !strings.Contains(e["message"].(string), "retain") {
		t.Fatalf("error %v", e)
	}
	// A live command after it is carried out, and is the only one.
	publishTo(t, seed, setT, false, `{"brightness":20}`)
	if c := waitCalls(t, hub, 1); c[0].cmd.String() != "brightness=20" {
		t.Fatalf("calls %v", c)
	}
	if extra := drainCalls(hub); len(extra) != 0 {
		t.Fatalf("extra calls %v", extra)
	}
}

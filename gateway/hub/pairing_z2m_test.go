package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2mreal"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/web"
)

// TestPairAndRemoveThroughRealZigbee2MQTT pairs znp-sim's products through
// the MQTT bridge and the real zigbee2mqtt: the hub opens the network
// (bridge/request/permit_join), each device is reported announced,
// interviewed and published with its endpoint from zigbee2mqtt's
// bridge/event messages; then one is removed from the hub
// (bridge/request/device/remove): the device left zigbee2mqtt's device list,
// the endpoint is gone and Alexa got a DeleteReport. With -update, what
// zigbee2mqtt published on its bridge topics is written to z2m-sim's
// reference (bridges/mqtt/z2msim/testdata/real-pairing.json).
func TestPairAndRemoveThroughRealZigbee2MQTT(t *testing.T) {
	z2mreal.Require(t)
	rig := startZigbeeSimOf(t, []string{"dimmable-bulb", "aqara-temp"})
	broker := mqtttest.MustStart(t, mqtttest.Options{})
	rec := newZ2MRecorder(t, broker.URL)
	z2mreal.MustStart(t, z2mreal.Config{Serial: rig.link, MQTT: broker.URL,
		Settings: map[string]any{"advanced": map[string]any{"log_namespaced_levels": map[string]any{"z2m:mqtt": "warning"},
			"last_seen": "ISO_8601"}}})

	e := newEnv(t, envOptions{ExtraBridges: mqttBridgeYAML(broker.URL)})
	e.start()
	e.waitConnected()
	e.poll(deadlineCtx(t), "the mqtt bridge to be healthy", func() error {
		if state, health, _, _ := e.bridgeStatus("mqtt"); state != "running" || health != string(model.HealthHealthy) {
			return fmt.Errorf("mqtt bridge %s %s", state, health)
		}
		return nil
	})

	ctx := deadlineCtx(t)
	events := e.hub.PairingEvents(ctx)
	if err := e.hub.Pair(ctx, "mqtt", 120*time.Second); err != nil {
		t.Fatalf("Pair: %v", err)
	}
	// Every device's stages, in order, until each is published.
	stages := map[string][]string{}
	endpoints := map[string]string{}
	var log []string
	for len(endpoints) < len(rig.ids) {
		var ev web.PairingEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			t.Fatalf("not every device was published: %v\nevents:\n%s", endpoints, strings.Join(log, "\n"))
		}
		log = append(log, fmt.Sprintf("%s %s %s %q", ev.Stage, ev.DeviceID, ev.EndpointID, ev.Detail))
		if ev.Bridge != "mqtt" || ev.DeviceID == "" {
			continue
		}
		ieee := strings.TrimPrefix(ev.DeviceID, "z2m:0x")
		stages[ieee] = append(stages[ieee], ev.Stage)
		switch ev.Stage {
		case "failed":
			t.Fatalf("%s failed: %s\nevents:\n%s", ev.DeviceID, ev.Detail, strings.Join(log, "\n"))
		case "published":
			if ev.EndpointID == "" || len(ev.Traits) == 0 {
				t.Errorf("%s published without its endpoint or traits: %+v", ev.DeviceID, ev)
			}
			endpoints[ieee] = ev.EndpointID
		}
	}
	t.Logf("pairing events:\n%s", strings.Join(log, "\n"))
	for _, ieee := range rig.ids {
		s := strings.Join(stages[ieee], " ")
		if !strings.HasPrefix(s, "announced") || !strings.Contains(s, "interviewing") || !strings.HasSuffix(s, "published") {
			t.Errorf("device %s went through %q, want announced … interviewing … published", ieee, s)
		}
		if _, ok := e.hub.reg.Get(endpoints[ieee]); !ok {
			t.Errorf("the hub has no endpoint %s for %s", endpoints[ieee], ieee)
		}
	}
	if _, ok := e.emu.Endpoint(endpoints[rig.ids[0]]); !ok {
		e.poll(ctx, "Alexa to know the paired device", func() error {
			if _, ok := e.emu.Endpoint(endpoints[rig.ids[0]]); !ok {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}

	// The bulb's link reaches the hub: zigbee2mqtt's linkquality in % and
	// its last_seen, on the page's and the CLI's endpoint.
	victim := rig.ids[0]
	epID := endpoints[victim]
	e.poll(ctx, "the bulb's link quality and last seen", func() error {
		for _, ep := range e.hub.Endpoints() {
			if ep.Endpoint.ID != epID {
				continue
			}
			if ep.SignalText() == "" || ep.Link.LastSeen.IsZero() || time.Since(ep.Link.LastSeen) > time.Minute {
				return fmt.Errorf("link %+v", ep.Link)
			}
			t.Logf("%s: signal %s, last seen %s", epID, ep.SignalText(), web.Ago(ep.LastSeen()))
			return nil
		}
		return fmt.Errorf("no endpoint %s", epID)
	})

	// Remove the bulb from the hub.
	from := len(e.emu.Events())
	if err := e.hub.Remove(ctx, epID); err != nil {
		t.Fatalf("Remove %s: %v", epID, err)
	}
	if _, ok := e.hub.reg.Get(epID); ok {
		t.Errorf("the hub still has %s", epID)
	}
	if _, _, err := e.emu.WaitForEvent(deadlineCtx(t), from, func(r avstest.Record) bool {
		return r.Name() == "Alexa.Discovery.DeleteReport" && strings.Contains(string(r.Event), epID)
	}); err != nil {
		t.Errorf("no DeleteReport for %s at the emulator: %v", epID, err)
	}
	if err := rec.waitLast(ctx, "zigbee2mqtt/bridge/devices", func(p []byte) bool {
		var list []struct {
			IEEE string `json:"ieee_address"`
		}
		if json.Unmarshal(p, &list) != nil {
			return false
		}
		for _, d := range list {
			if d.IEEE == "0x"+victim {
				return false
			}
		}
		return len(list) > 0
	}); err != nil {
		t.Errorf("zigbee2mqtt still lists the removed device: %v", err)
	}
	// What zigbee2mqtt said on its bridge topics: z2m-sim's reference.
	pr := z2msim.PairingRecording{Zigbee2MQTT: z2mreal.Version, Removed: "0x" + victim}
	var t0 time.Time
	for _, m := range rec.since(0) {
		topic := strings.TrimPrefix(m.topic, "zigbee2mqtt/")
		if !strings.HasPrefix(topic, "bridge/event") && !strings.HasPrefix(topic, "bridge/response/") &&
			!strings.HasPrefix(topic, "bridge/request/") && topic != "0x"+victim {
			continue
		}
		if t0.IsZero() {
			t0 = m.at
		}
		msg := z2msim.Message{AfterMS: m.at.Sub(t0).Milliseconds(), Topic: topic}
		if json.Valid(m.payload) {
			msg.Payload = json.RawMessage(m.payload)
		} else {
			msg.Text = string(m.payload)
		}
		pr.Messages = append(pr.Messages, msg)
	}
	if *update {
		b, err := json.MarshalIndent(pr, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "bridges", "mqtt", "z2msim", z2msim.PairingRecordingFile)
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("what zigbee2mqtt published: %s", path)
	}
	// The other device stays.
	if _, ok := e.hub.reg.Get(endpoints[rig.ids[1]]); !ok {
		t.Errorf("removing %s took %s with it", victim, rig.ids[1])
	}
}

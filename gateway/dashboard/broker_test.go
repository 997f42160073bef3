package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/dashboard/broker"
)

// TestBrokerRestart: retained discovery and state survive an embedded broker
// restart with nobody republishing, and a running publisher reconnects to the
// restarted broker, republishes and takes commands again.
func TestBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	start := func(listen string) *broker.Broker {
		b, err := broker.Start(context.Background(), broker.Config{Listen: listen, DataDir: dir, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	b := start("127.0.0.1:0")
	addr := b.Addr()
	hub := newTestHub(t)
	rec := newRecorder()
	p, stop := runPublisher(t, Config{Broker: b.URL(), OnPublish: rec.onPublish}, hub.reg, hub)
	light := hub.entry(t, "light-1")
	stateT, setT, _, _, configT := p.Topics(light.Endpoint)
	obs := observe(t, b.URL(), "", "", stateT)
	obs.lastJSON(t, stateT, nil)

	// 1. Persistence: stop the publisher, restart the broker, read what is retained.
	stop()
	_ = b.Close()
	b = start(addr)
	late := observe(t, b.URL(), "", "", configT, stateT, p.StatusTopic())
	late.wait(t, "retained config, state and status after the restart", func() bool {
		_, ok1 := late.last(configT)
		_, ok2 := late.last(stateT)
		st, ok3 := late.last(p.StatusTopic())
		return ok1 && ok2 && ok3 && string(st.payload) == "offline"
	})

	// 2. Reconnection: a running publisher survives a broker restart.
	p, _ = runPublisher(t, Config{Broker: b.URL(), OnPublish: rec.onPublish, Logger: testLogger(t)}, hub.reg, hub)
	late.wait(t, "hub online", func() bool { m, _ := late.last(p.StatusTopic()); return string(m.payload) == "online" })
	onlines := rec.count(p.StatusTopic(), "online")
	_ = b.Close()
	b = start(addr)
	rec.waitCount(t, p.StatusTopic(), "online", onlines, 30*time.Second)
	// The republish may come before the new subscription is in place: a
	// command is repeated until one arrives (commands are not queued).
	cmd := dialClient(t, b.URL(), "", "")
	drainCalls(hub)
	deadline := time.After(20 * time.Second)
	for got := false; !got; {
		publishTo(t, cmd, setT, false, "OFF")
		select {
		case c := <-hub.calls:
			if c.cmd.String() != "on_off=false" {
				t.Fatalf("call %v", c)
			}
			got = true
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatal("no command was carried out after the broker restart")
		}
	}
}

// TestACL: with users configured, a dashboard user without write rights cannot
// command devices (its publish is refused by the broker), one with rights can,
// and both can read state; the hub itself uses the internal user.
func TestACL(t *testing.T) {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Logger: quiet(), Users: []broker.User{
		{Username: "viewer", Password: "v", Read: []string{"avshub/#", "homeassistant/#"}},
		{Username: "panel", Password: "p", Read: []string{"avshub/#"}, Write: []string{"avshub/+/set"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	hub := newTestHub(t)
	user, pass := b.Credentials()
	p, _ := runPublisher(t, Config{Broker: b.URL(), Username: user, Password: pass}, hub.reg, hub)
	light := hub.entry(t, "light-1")
	stateT, setT, _, _, configT := p.Topics(light.Endpoint)

	viewer := observe(t, b.URL(), "viewer", "v", stateT, configT)
	viewer.lastJSON(t, stateT, nil)
	viewer.lastJSON(t, configT, nil)

	// The viewer's command is refused: MQTT 3.1.1 has no negative PUBACK, so
	// the broker drops the connection; the command never reaches Execute.
	_ = viewer.c.Publish(setT, 1, false, "ON").WaitTimeout(2 * time.Second)
	panel := dialClient(t, b.URL(), "panel", "p")
	publishTo(t, panel, setT, false, `{"brightness":55}`)
	calls := waitCalls(t, hub, 1)
	if calls[0].cmd.String() != "brightness=55" {
		t.Fatalf("first call %v, want the panel's", calls[0])
	}
	// Anything the viewer's publish could have caused would have arrived by now
	// (same broker, same publisher worker): nothing else was executed.
	if extra := drainCalls(hub); len(extra) != 0 {
		t.Fatalf("the viewer's command was executed: %v", extra)
	}
	if e, _ := hub.reg.Get(light.Endpoint.ID); e.State.On == nil || *e.State.On {
		t.Fatalf("the viewer turned the light on: %+v", e.State)
	}

	// A client without credentials gets nowhere.
	if c, err := dialNoFail(b.URL(), "", ""); err == nil {
		c.Disconnect(0)
		t.Fatal("anonymous client connected to a broker with users")
	}
	_ = model.CauseApp
}

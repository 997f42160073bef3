package hub

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/router"
	"github.com/avshub/avshub/gateway/store"
)

// TestLegacyAlexaView: a data directory written by a hub that kept what Alexa
// was told in its own "alexa-view" bucket. The router adopts that record (the
// bucket is emptied) and re-syncs the kitchen light, which Alexa was told is
// on while the new bridge process reports it off.
func TestLegacyAlexaView(t *testing.T) {
	e := newEnv(t, envOptions{})
	st, err := store.Open(e.cfg.Hub.DataDir, store.Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	// As the hub's resync.go wrote it: endpoint id → {"namespace|instance|name": value JSON}.
	legacy := map[string][]byte{
		id("kitchen-light"): []byte(`{"Alexa.PowerController||powerState":"ON"}`),
		id("gone-device"):   []byte(`{"Alexa.PowerController||powerState":"OFF"}`),
	}
	if err := st.Update(legacyViewBucket, legacy, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	e.start()
	e.waitConnected()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.poll(ctx, "a PERIODIC_POLL ChangeReport of the kitchen light", func() error {
		for _, r := range e.emu.Events() {
			p, err := parseEvent(r.Event)
			if err != nil || p.Header.Name != "ChangeReport" || p.Endpoint != id("kitchen-light") {
				continue
			}
			if cause := fmt.Sprint(p.Payload["change"].(map[string]any)["cause"]); cause != "map[type:PERIODIC_POLL]" {
				return fmt.Errorf("ChangeReport with cause %s", cause)
			}
			if len(p.Changed) != 1 || p.Changed[0].Name != "powerState" || p.Changed[0].Value != "OFF" {
				return fmt.Errorf("ChangeReport changes %+v", p.Changed)
			}
			return nil
		}
		return errors.New("none yet")
	})
	e.waitConsistent()
	e.stop()
	e.noRefusedEvents()

	st, err = store.Open(e.cfg.Hub.DataDir, store.Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if old, err := st.List(legacyViewBucket); err != nil || len(old) != 0 {
		t.Errorf("legacy bucket after adoption: %v %v", old, err)
	}
	cur, err := st.List(router.StoreBucket)
	if err != nil {
		t.Fatal(err)
	}
	if string(cur[id("gone-device")]) != string(legacy[id("gone-device")]) {
		t.Errorf("adopted record of an endpoint not seen in this run: %s", cur[id("gone-device")])
	}
	if got := string(cur[id("kitchen-light")]); got == "" || got == string(legacy[id("kitchen-light")]) {
		t.Errorf("record of the kitchen light after the re-sync: %s", got)
	}
}

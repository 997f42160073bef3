package hub

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/config"
)

// TestReloadAddsAndRemovesBridge reloads a configuration with a second bridge
// and then without it: the AVS connection stays up, Alexa learns the new
// bridge's endpoints, and then has them deleted.
func TestReloadAddsAndRemovesBridge(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.start()
	e.waitConnected()
	e.waitKnown()
	conns := e.emu.State().Connections

	base := e.configYAML()
	second := "  - name: extra\n    bundled: virtual\n    config: {\"devices\":[{\"id\":\"porch\",\"name\":\"Porch Light\",\"type\":\"light\",\"kind\":\"onoff\"}]}\n"
	withExtra := strings.Replace(base, "mqtt:\n", second+"mqtt:\n", 1)
	if withExtra == base {
		t.Fatal("could not insert the second bridge into the configuration")
	}
	reload := func(text string) {
		t.Helper()
		cfg, err := config.Parse(e.dir+"/avshub.yaml", []byte(text))
		if err != nil {
			t.Fatalf("config: %v\n%s", err, text)
		}
		if err := os.WriteFile(e.dir+"/avshub.yaml", []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := e.hub.Reload(cfg); err != nil {
			t.Fatalf("Reload: %v", err)
		}
	}
	porch := model.EndpointID(testSerial, "extra", "porch")
	reload(withExtra)
	e.poll(ctxFor(t, 15*time.Second), "Alexa to know the new bridge's endpoint", func() error {
		if _, ok := e.emu.Endpoint(porch); !ok {
			return fmt.Errorf("emulator does not know %s", porch)
		}
		return nil
	})
	if a := e.mustSend("Alexa.PowerController", "TurnOn", porch, "", map[string]any{}); a.Name != "Response" {
		t.Errorf("TurnOn on the new bridge: %v %v", a.Events, a.Payload)
	}
	reload(base)
	e.poll(ctxFor(t, 15*time.Second), "Alexa to forget the removed bridge's endpoint", func() error {
		if _, ok := e.emu.Endpoint(porch); ok {
			return fmt.Errorf("emulator still knows %s", porch)
		}
		return nil
	})
	if c := e.emu.State().Connections; c != conns {
		t.Errorf("reloads reconnected to AVS (%d → %d connections)", conns, c)
	}
	e.waitConsistent()
	e.noRefusedEvents()
}

package hub

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/web"
)

// TestRenameAndHide renames an endpoint and hides it from Alexa with the CLI
// against a running hub: Alexa gets exactly one AddOrUpdateReport with the new
// name, then a DeleteReport; the name survives a restart.
func TestRenameAndHide(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.start()
	e.waitConnected()
	e.waitKnown()
	cli := e.cli
	lamp := id("kitchen-light")
	ctx := ctxFor(t, 20*time.Second)
	name := func() string {
		raw, ok := e.emu.Endpoint(lamp)
		if !ok {
			return ""
		}
		return string(raw)
	}
	from := len(e.emu.Events())
	if out := cli("rename", "Kitchen Light", "Cooker lamp", "--area", "Kitchen"); !strings.Contains(out, `"Cooker lamp"`) {
		t.Fatalf("rename said %q", out)
	}
	e.poll(ctx, "Alexa knows the new name", func() error {
		if !strings.Contains(name(), `"friendlyName":"Cooker lamp"`) {
			return fmt.Errorf("Alexa has %s", name())
		}
		return nil
	})
	if n := e.countEvents(from, "Alexa.Discovery.AddOrUpdateReport"); n != 1 {
		t.Fatalf("%d AddOrUpdateReports for one rename, want 1", n)
	}
	eps := e.hub.Endpoints()
	for _, ep := range eps {
		if ep.Endpoint.ID == lamp && (ep.Endpoint.FriendlyName != "Cooker lamp" || ep.Settings.Area != "Kitchen") {
			t.Fatalf("the hub shows %+v", ep)
		}
	}

	cli("hide", "Cooker lamp", "--from", "alexa")
	e.poll(ctx, "Alexa forgot the hidden endpoint", func() error {
		if name() != "" {
			return fmt.Errorf("Alexa still has it")
		}
		return nil
	})
	if n := e.countEvents(from, "Alexa.Discovery.DeleteReport"); n != 1 {
		t.Fatalf("%d DeleteReports for one hide, want 1", n)
	}

	// A restart keeps both: the name and the hiding.
	e.stop()
	e.start()
	e.waitConnected()
	e.poll(ctx, "the bridge synced and Alexa knows every other endpoint", func() error {
		if !e.hub.reg.Synced("virtual") {
			return fmt.Errorf("virtual has not sent its snapshot")
		}
		for _, d := range e.deviceIDs() {
			if _, ok := e.emu.Endpoint(id(d)); !ok && id(d) != lamp {
				return fmt.Errorf("Alexa does not know %s", d)
			}
		}
		if p, err := e.hub.manager.Pending(ctx); err != nil || len(p) != 0 {
			return fmt.Errorf("discovery reports pending: %v %v", p, err)
		}
		return nil
	})
	if name() != "" {
		t.Fatal("the hidden endpoint came back to Alexa after a restart")
	}
	cli("unhide", lamp, "--from", "alexa")
	e.poll(ctx, "Alexa knows the endpoint again, by its new name", func() error {
		if !strings.Contains(name(), `"friendlyName":"Cooker lamp"`) {
			return fmt.Errorf("Alexa has %q", name())
		}
		return nil
	})
}

// TestHideFromDashboardsCLI hides an endpoint from the dashboards with the
// CLI against a running hub with its embedded broker (issue 16 point 3): its
// retained discovery config is emptied, Alexa keeps it, the hub keeps it;
// unhide publishes the config again.
func TestHideFromDashboardsCLI(t *testing.T) {
	broker := freeAddr(t)
	e := newEnv(t, envOptions{EmbeddedBroker: broker})
	e.start()
	e.waitConnected()
	e.waitKnown()
	configs := watchConfigs(t, "tcp://"+broker)
	cli := e.cli
	lamp, topic := id("kitchen-light"), "homeassistant/device/avshub_virtual_kitchen-light/config"
	ctx := deadlineCtx(t)
	config := func(want bool) func() error { return func() error { return configs.retained(topic, want) } }
	e.poll(ctx, "the lamp's discovery config", config(true))

	if out := cli("hide", "Kitchen Light", "--from", "dashboards"); !strings.Contains(out, `"Kitchen Light" is hidden from the dashboards (still on the hub)`) {
		t.Fatalf("hide said %q", out)
	}
	e.poll(ctx, "an empty retained discovery config", config(false))
	if _, ok := e.emu.Endpoint(lamp); !ok {
		t.Error("hiding from the dashboards deleted the endpoint from Alexa")
	}
	if !slices.ContainsFunc(e.hub.Endpoints(), func(ep web.Endpoint) bool { return ep.Endpoint.ID == lamp && ep.Settings.HiddenFromDashboards }) {
		t.Error("the hub does not list the lamp as hidden from the dashboards")
	}

	if out := cli("unhide", lamp, "--from", "dashboards"); !strings.Contains(out, "shown to Alexa and the dashboards") {
		t.Fatalf("unhide said %q", out)
	}
	e.poll(ctx, "the discovery config back", config(true))
}

// cli runs the avshub command line against the environment's hub (its
// configuration) and returns what it printed; a failure ends the test.
func (e *testEnv) cli(args ...string) string {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "avshub"), append(args, "--config", filepath.Join(e.dir, "avshub.yaml"))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("avshub %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Package sdkjs holds the Go tests of the JavaScript SDK: the Go conformance
// kit is the judge of JavaScript bridges too.
package sdkjs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/examples/httprelay/relaysim"
	"github.com/avshub/avshub/plugins/plugintest"
)

// node fails the test, with how to install it, when Node.js or the SDK's
// packages are missing (the tests never skip: CI installs them).
func node(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("Node.js 20 or later is needed for the JavaScript SDK: apt-get install nodejs npm, then make test (it runs npm ci in plugins/sdk-js)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@grpc", "grpc-js")); err != nil {
		t.Fatal("the JavaScript SDK's packages are not installed: run npm ci in plugins/sdk-js (make test does)")
	}
}

// The HTTP relay bridge in JavaScript passes avshub plugin check against two
// relays polled every second from a relay box the test runs.
func TestJSRelayBridgePassesPluginCheck(t *testing.T) {
	node(t)
	box := relaysim.New(2)
	defer box.Close()
	bin, _ := filepath.Abs(filepath.Join("examples", "httprelay", "bridge-httprelay"))
	cfg := `{"pollEvery":"1s","boxes":[{"id":"garage","name":"Garage","url":"` + box.URL + `","relays":2}]}`
	r, err := plugintest.Check(context.Background(), bin, []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = r.WriteText(&text)
	t.Log(text.String())
	if !r.Passed || len(r.Endpoints) != 2 {
		t.Fatalf("plugin check of the JavaScript bridge:\n%s", text.String())
	}
	if !box.On(0) && !box.On(1) {
		t.Error("the kit's commands never reached the relay box")
	}
}

// A JavaScript bridge with a device of every kind, built from the SDK's blocks
// (a slow lock answered as accepted and completed later, pairing that adds a
// device), passes avshub plugin check, and its endpoints carry every trait the
// model has: a new trait fails here until the JavaScript SDK has a block for it.
func TestJSBlocksForEveryTrait(t *testing.T) {
	node(t)
	bin, _ := filepath.Abs(filepath.Join("examples", "everykind", "bridge-everykind"))
	r, err := plugintest.Check(context.Background(), bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = r.WriteText(&text)
	if !r.Passed {
		t.Fatalf("plugin check of the JavaScript bridge:\n%s", text.String())
	}
	if !r.Bridge.Pairing {
		t.Error("the bridge has startPairing but does not declare pairing")
	}
	has := map[string]bool{}
	for _, e := range r.Endpoints {
		for _, k := range e.Traits {
			kind, _, _ := strings.Cut(k, ":") // a generic trait: kind:instance
			has[kind] = true
		}
	}
	for _, k := range model.AllTraitKinds() {
		if !has[string(k)] {
			t.Errorf("no endpoint of the JavaScript bridge has the %s trait (its blocks: plugins/sdk-js/index.js)", k)
		}
	}
	t.Log(text.String())
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/gateway/dashboard"
	"github.com/avshub/avshub/gateway/web"
)

// The skill road of the demo (-transport skill): skill-sim plays Alexa, Login
// with Amazon and the event gateway, and runs the real forwarder
// (skill-lambda) under its emulated Lambda Runtime API.

const (
	skillClientID     = "amzn1.application-oa2-client.avshubdemoskill"
	skillClientSecret = "avshub-demo-skill-messaging-secret"
)

// startSkillSim writes the HMAC secret, picks the hub's skill endpoint and
// starts skill-sim with the forwarder pointed at it.
func (d *demo) startSkillSim(ctx context.Context) error {
	var err error
	if d.skillListen, err = freeAddr(); err != nil {
		return err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	d.secretFile = filepath.Join(d.out, "skill-secret")
	if err := writeFile(d.secretFile, hex.EncodeToString(b[:])+"\n"); err != nil {
		return err
	}
	hubURL := "http://" + d.skillListen + "/alexa/skill"
	_, f, err := d.start(ctx, "skill-sim", []string{"--admin", "127.0.0.1:0", "--cert-dir", filepath.Join(d.out, "skill-sim-certs"),
		"--record", filepath.Join(d.out, "skill-events.jsonl"), "--client-id", skillClientID, "--client-secret", skillClientSecret,
		"--lambda", filepath.Join(d.bin, "skill-lambda"), "--hub-url", hubURL, "--secret-file", d.secretFile}, "skill-sim ready")
	if err != nil {
		return err
	}
	d.avsURL, d.adminURL, d.caFile = f["url"], f["admin"], f["ca"]
	d.say("  skill-sim (Alexa, Login with Amazon, the event gateway %s/v3/events), admin API %s", d.avsURL, d.adminURL)
	d.say("  the skill's Lambda: the real forwarder %s under skill-sim's Lambda Runtime API (%s), AVSHUB_URL=%s",
		filepath.Join(d.bin, "skill-lambda"), f["runtime"], hubURL)
	return nil
}

// linkSkill plays the person enabling the skill in the Alexa app: account
// linking, then Alexa's AcceptGrant through the Lambda to the hub.
func (d *demo) linkSkill(ctx context.Context, t0 time.Time) error {
	c := web.NewClient(d.socket)
	err := waitFor(ctx, "the hub's skill endpoint", 30*time.Second, func() (bool, error) {
		if d.hub.exited() {
			return false, fmt.Errorf("the hub exited (see avshub.log)")
		}
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		return st.AVS.State != "", nil
	})
	if err != nil {
		return err
	}
	st, _ := c.Status(ctx)
	d.say("  hub up after %s, skill road %s: nothing talks to AVS; it listens on http://%s/alexa/skill", time.Since(t0).Round(time.Millisecond),
		st.AVS.State, d.skillListen)
	d.section("Link: the person enables the skill in the Alexa app (account linking with Login with Amazon)")
	d.say("  Alexa → Lambda → hub: Alexa.Authorization.AcceptGrant (a grant code and the account-linking token)")
	if err := waitFor(ctx, "AcceptGrant to be answered", 30*time.Second, func() (bool, error) {
		return call(ctx, "POST", d.adminURL+"/sim/accept-grant", nil, nil) == nil, nil
	}); err != nil {
		return err
	}
	err = waitFor(ctx, "the hub to hold event gateway tokens", 15*time.Second, func() (bool, error) {
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		return st.AVS.State == "LINKED" && st.Link.Linked, nil
	})
	if err != nil {
		return err
	}
	st, _ = c.Status(ctx)
	d.say("  ← AcceptGrant.Response: the hub exchanged the code with Login with Amazon and stored the tokens (%s)", st.Link.Reason)
	return nil
}

// discoverSkill plays "Alexa, discover my devices" until Alexa knows every
// endpoint the hub has, and shows them.
func (d *demo) discoverSkill(ctx context.Context, eps []web.Endpoint) error {
	d.say("  \"Alexa, discover my devices\" → Alexa.Discovery.Discover through the Lambda")
	var res struct {
		Endpoints []map[string]any `json:"endpoints"`
	}
	err := waitFor(ctx, "Discover to list every endpoint", 30*time.Second, func() (bool, error) {
		if err := call(ctx, "POST", d.adminURL+"/sim/discover", nil, &res); err != nil {
			return false, err
		}
		return len(res.Endpoints) == len(eps), nil
	})
	if err != nil {
		return err
	}
	per := map[string][]string{}
	for _, e := range eps {
		per[e.Endpoint.Bridge] = append(per[e.Endpoint.Bridge], fmt.Sprintf("%s (%s)", e.Endpoint.FriendlyName, strings.ToLower(string(e.Endpoint.Category))))
	}
	d.say("  ← Discover.Response with %d endpoints (the hub's own endpoint is not one: a skill has none):", len(res.Endpoints))
	for _, b := range []string{"virtual", "zigbee", "mqtt"} {
		d.say("    %-8s %s", b, strings.Join(per[b], ", "))
	}
	return nil
}

// skillFaults shows the event gateway's documented errors: an expired token
// (401, refreshed), a 429 burst (backed off) and a disabled skill (the hub
// stops and says so); nothing is lost.
func (d *demo) skillFaults(ctx context.Context) error {
	d.section("The event gateway's errors: an expired token, throttling, a disabled skill")
	light, err := d.target(ctx, "virtual", "Hall Light", nil)
	if err != nil {
		return err
	}
	evs, err := d.recordedEvents(ctx)
	if err != nil {
		return err
	}
	n := len(evs)
	for _, f := range []map[string]any{{"kind": "expire-token"}, {"kind": "status", "status": 429, "count": 2}} {
		if err := call(ctx, "POST", d.adminURL+"/sim/fault", f, nil); err != nil {
			return err
		}
	}
	d.say("  every access token expires now, and the next 2 event gateway requests get 429 THROTTLING_EXCEPTION")
	if err := d.dashboardSet(ctx, light, map[string]any{"state": "ON"}); err != nil {
		return err
	}
	ev, err := d.waitChangeReport(ctx, n, light.Endpoint.ID, "APP_INTERACTION")
	if err != nil {
		return err
	}
	d.say("  a dashboard turns the hall light on → 429, 429 (backed off), 401 (token refreshed) → accepted: %s", describe(ev))
	if err := call(ctx, "POST", d.adminURL+"/sim/fault", map[string]any{"kind": "skill-disabled"}, nil); err != nil {
		return err
	}
	d.say("  the person disables the skill in the Alexa app: the gateway answers 403 SKILL_DISABLED_EXCEPTION")
	if err := d.dashboardSet(ctx, light, map[string]any{"state": "OFF"}); err != nil {
		return err
	}
	c := web.NewClient(d.socket)
	return waitFor(ctx, "the hub to notice the disabled skill", 20*time.Second, func() (bool, error) {
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		if st.AVS.State == "SKILL_DISABLED" {
			d.say("  the hub stops sending and says so: state %s (avshub status, the status page and the log tell the person to enable and link the skill again)", st.AVS.State)
			return true, nil
		}
		return false, nil
	})
}

// dashboardSet publishes a dashboard command for ep, as Home Assistant would.
func (d *demo) dashboardSet(ctx context.Context, ep web.Endpoint, cmd map[string]any) error {
	opts := paho.NewClientOptions().AddBroker("tcp://" + d.brokerAddr).SetClientID("avshub-demo-dashboard-2")
	c := paho.NewClient(opts)
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("dashboard MQTT connect: %v", t.Error())
	}
	defer c.Disconnect(100)
	b, _ := json.Marshal(cmd)
	topic := "avshub/" + dashboard.NodeID(ep.Endpoint) + "/set"
	if t := c.Publish(topic, 1, false, b); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("dashboard publish: %v", t.Error())
	}
	_ = ctx
	return nil
}

package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/logging"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skilltest"
)

// The skill road's harness: the skill emulator (Alexa, Login with Amazon, the
// event gateway), the real forwarder binary (cmd/skill-lambda) under the
// emulator's Lambda Runtime API, a hub with alexa.transport: skill, and the
// virtual bridge as a plugin process.

const skillTestSecret = "0123456789abcdef0123456789abcdef-skill-test"

type skillEnv struct {
	t      testing.TB
	sim    *skilltest.Server
	dir    string
	listen string
	log    *lockedFile
	hub    *Hub
	cancel context.CancelFunc
	done   chan error
	lambda *skilltest.Lambda
}

func newSkillEnv(t testing.TB, devices []virtual.DeviceConfig) *skillEnv {
	t.Helper()
	dir := t.TempDir()
	sim, err := skilltest.New(skilltest.Options{ClientID: "amzn1.application-oa2-client.skilltest", ClientSecret: "skill-test-secret",
		CertDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	lf, err := openLockedFile(filepath.Join(dir, "hub.log"))
	if err != nil {
		t.Fatal(err)
	}
	e := &skillEnv{t: t, sim: sim, dir: dir, listen: listen, log: lf}
	t.Cleanup(func() {
		if e.lambda != nil {
			_ = e.lambda.Stop()
		}
		e.stop()
		if t.Failed() {
			t.Logf("hub log (tail):\n%s", lf.tail(40))
			for i, r := range sim.Records() {
				t.Logf("record %d %s %s %d %s", i, r.Via, r.Name(), r.Status, r.Error)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "lambda.log")); err == nil && len(b) > 0 {
				t.Logf("lambda log:\n%s", b)
			}
		}
		lf.Close()
		sim.Close()
	})
	if devices == nil {
		devices = virtual.DefaultDevices()
	}
	vc, _ := json.Marshal(map[string]any{"devices": devices, "lockDelay": "300ms"})
	cfg := fmt.Sprintf(`hub:
  serialNumber: %[1]s
  dataDir: %[2]s/data
alexa:
  transport: skill
skill:
  listen: %[3]s
  secret: %[4]s
  clientId: amzn1.application-oa2-client.skilltest
  clientSecret: skill-test-secret
  eventGatewayUrl: %[5]s
  caFile: %[6]s
lwa:
  url: %[7]s
  caFile: %[6]s
router:
  changeReportWindow: 50ms
bridges:
  - name: virtual
    path: %[8]s
    startTimeout: 20s
    config: %[9]s
mqtt:
  embedded:
    disabled: true
dashboard:
  disabled: true
status:
  listen: "off"
  socket: %[2]s/avshub.sock
log:
  level: debug
`, testSerial, dir, listen, skillTestSecret, sim.EventGatewayURL(), sim.CAFile(), sim.URL(), filepath.Join(binDir, "bridge-virtual"), vc)
	path := filepath.Join(dir, "avshub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(path, []byte(cfg))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfg)
	}
	h, err := New(c, Options{Version: "test", Logs: logging.New(lf, logging.Options{Level: slog.LevelDebug, Redact: lwa.NewRedactingHandler})})
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.hub, e.cancel, e.done = h, cancel, make(chan error, 1)
	go func() { e.done <- h.Run(ctx) }()
	logw, err := os.Create(filepath.Join(dir, "lambda.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logw.Close() })
	e.lambda, err = sim.StartLambda(filepath.Join(binDir, "skill-lambda"),
		map[string]string{"AVSHUB_URL": "http://" + listen + "/alexa/skill", "AVSHUB_SECRET": skillTestSecret}, logw)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *skillEnv) stop() {
	if e.hub == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("hub.Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		e.t.Errorf("hub.Run did not return within 20 s of cancel")
	}
	e.hub = nil
}

// link plays the Alexa app: account linking done, AcceptGrant, then Discover
// until every virtual device is there.
func (e *skillEnv) link(want int) {
	e.t.Helper()
	ctx := ctxFor(e.t, 30*time.Second)
	if err := pollErr(ctx, func() error { return e.sim.AcceptGrant(ctx) }); err != nil {
		e.t.Fatalf("AcceptGrant: %v", err)
	}
	if err := pollErr(ctx, func() error {
		eps, err := e.sim.Discover(ctx)
		if err == nil && len(eps) != want {
			err = fmt.Errorf("discovered %d endpoints, want %d", len(eps), want)
		}
		return err
	}); err != nil {
		e.t.Fatalf("Discover: %v", err)
	}
}

// send sends a directive through the Lambda and returns every answer.
func (e *skillEnv) send(req skilltest.DirectiveRequest) []json.RawMessage {
	e.t.Helper()
	ctx := ctxFor(e.t, 20*time.Second)
	res, err := e.sim.SendDirective(ctx, req, true)
	if err != nil || !res.Complete {
		e.t.Fatalf("%s.%s: %v (complete %t)", req.Namespace, req.Name, err, res.Complete)
	}
	return res.Events
}

func names(evs []json.RawMessage) []string {
	var out []string
	for _, ev := range evs {
		p, _ := parseEvent(ev)
		out = append(out, p.Header.Name)
	}
	return out
}

// TestSkillEndToEnd: AcceptGrant, Discover (without the hub's own endpoint),
// a controller directive, a deferred lock whose final answer arrives on the
// event gateway, ReportState, an error, a ChangeReport, and the event
// gateway's faults (expired token, 429, skill disabled), all through the real
// forwarder; every message is checked against the official schema.
func TestSkillEndToEnd(t *testing.T) {
	e := newSkillEnv(t, nil)
	e.link(len(virtual.DefaultDevices()))
	for _, raw := range e.sim.Endpoints() {
		if strings.Contains(string(raw), "ALEXA_VOICE_ENABLED") || strings.Contains(string(raw), `"registration"`) {
			t.Errorf("the hub's own endpoint was discovered: %s", raw)
		}
	}
	if st := e.hub.Status(); !st.Ready || !st.Link.Linked || st.AVS.State != "LINKED" {
		t.Errorf("status: ready %t linked %t state %s", st.Ready, st.Link.Linked, st.AVS.State)
	}

	evs := e.send(skilltest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: "TurnOn", EndpointID: id("kitchen-light")})
	if got := names(evs); len(got) != 1 || got[0] != "Response" {
		t.Fatalf("TurnOn answered %v", got)
	}
	evs = e.send(skilltest.DirectiveRequest{Namespace: "Alexa.LockController", Name: "Lock", EndpointID: id("front-door")})
	if got := names(evs); len(got) != 2 || got[0] != "DeferredResponse" || got[1] != "Response" {
		t.Fatalf("Lock answered %v", got)
	}
	final, _ := parseEvent(evs[1])
	if !hasProp(final.props(), "Alexa.LockController||lockState", "LOCKED") {
		t.Errorf("the deferred final answer does not report LOCKED: %+v", final.props())
	}
	evs = e.send(skilltest.DirectiveRequest{Namespace: "Alexa", Name: "ReportState", EndpointID: id("kitchen-light")})
	if p, _ := parseEvent(evs[0]); p.Header.Name != "StateReport" || !hasProp(p.props(), "Alexa.PowerController||powerState", "ON") {
		t.Errorf("ReportState answered %s %+v", p.Header.Name, p.props())
	}
	evs = e.send(skilltest.DirectiveRequest{Namespace: "Alexa.ThermostatController", Name: "SetTargetTemperature", EndpointID: id("thermostat"),
		Payload: json.RawMessage(`{"targetSetpoint":{"value":95,"scale":"CELSIUS"}}`)})
	if p, _ := parseEvent(evs[0]); p.Header.Name != "ErrorResponse" || p.Payload["type"] != "TEMPERATURE_VALUE_OUT_OF_RANGE" {
		t.Errorf("out of range answered %s %v", p.Header.Name, p.Payload)
	}

	// A dashboard command: a ChangeReport on the event gateway, with an
	// expired token first (401 → refresh) and a 429 burst (backoff).
	if err := e.sim.Inject(skilltest.Fault{Kind: "expire-token"}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Inject(skilltest.Fault{Kind: "status", Status: 429, Count: 2}); err != nil {
		t.Fatal(err)
	}
	from := len(e.sim.Records())
	ctx := ctxFor(t, 30*time.Second)
	if _, err := e.hub.router.Execute(ctx, id("hall-light"), model.SetPower(true), model.CauseApp); err != nil {
		t.Fatal(err)
	}
	rec, _, err := e.sim.WaitFor(ctx, from, func(r skilltest.Record) bool {
		return r.Via == "gateway" && r.Status == 202 && r.Name() == "Alexa.ChangeReport" && strings.Contains(string(r.Event), id("hall-light"))
	})
	if err != nil {
		t.Fatalf("no ChangeReport accepted after the faults: %v", err)
	}
	if !strings.Contains(string(rec.Event), "APP_INTERACTION") {
		t.Errorf("ChangeReport cause: %s", rec.Event)
	}

	// Skill disabled: the hub stops and says so.
	if err := e.sim.Inject(skilltest.Fault{Kind: "skill-disabled"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.router.Execute(ctx, id("hall-light"), model.SetPower(false), model.CauseApp); err != nil {
		t.Fatal(err)
	}
	pollCtx := ctxFor(t, 15*time.Second)
	if err := pollErr(pollCtx, func() error {
		if st := e.hub.Status().AVS.State; st != "SKILL_DISABLED" {
			return fmt.Errorf("state %s", st)
		}
		return nil
	}); err != nil {
		t.Fatalf("the hub did not notice the disabled skill: %v", err)
	}
	if v := e.sim.State().Violations; len(v) > 0 {
		t.Errorf("protocol violations: %v", v)
	}
	for _, r := range e.sim.Records() {
		if r.Status >= 400 && r.Status != 401 && r.Status != 403 && r.Status != 429 {
			t.Errorf("refused %s %s: %d %s", r.Via, r.Name(), r.Status, r.Error)
		}
	}
}

func hasProp(ps []prop, key string, want any) bool {
	for _, p := range ps {
		if p.key() == key && fmt.Sprint(p.Value) == fmt.Sprint(want) {
			return true
		}
	}
	return false
}

// capabilityPlan is one of Amazon's capability-evaluation test plans
// (gateway/alexa/testdata/alexa-smarthome/capability_evaluations/test_plans).
type capabilityPlan struct {
	Name      string `json:"name"`
	TestCases []struct {
		Name          string `json:"name"`
		InitialSetups []struct {
			Directive json.RawMessage `json:"directive"`
		} `json:"initialSetups"`
		Directive json.RawMessage `json:"directive"`
		Expected  []struct {
			Namespace string          `json:"namespace"`
			Name      string          `json:"name"`
			Value     json.RawMessage `json:"value"`
			Compare   string          `json:"compare"`
		} `json:"expectedCapabilityStates"`
		Tolerances []struct {
			Namespace        string  `json:"namespace"`
			Name             string  `json:"name"`
			PercentThreshold float64 `json:"percentThreshold"`
		} `json:"capabilityTolerances"`
	} `json:"testCases"`
}

// TestSkillCapabilityTestPlans replays every case of Amazon's capability test
// plans end to end on the skill road: each directive, as the plan writes it,
// goes from the skill emulator through the real forwarder and the hub to the
// virtual bridge, and the answer that comes back (synchronously, or on the
// event gateway after a DeferredResponse) must carry the plan's expected
// capability states within its tolerances.
func TestSkillCapabilityTestPlans(t *testing.T) {
	files, err := filepath.Glob("../alexa/testdata/alexa-smarthome/capability_evaluations/test_plans/*")
	if err != nil || len(files) != 9 {
		t.Fatalf("test plans: %v %v", files, err)
	}
	devs := []virtual.DeviceConfig{
		{ID: "plan-light", Name: "Plan Light", Type: virtual.TypeLight, Kind: "extended_color", LevelControlsPower: true, MinKelvin: 1000, MaxKelvin: 10000},
		{ID: "plan-thermostat", Name: "Plan Thermostat", Type: virtual.TypeThermostat, Kind: "heat_cool"},
		{ID: "plan-thermostat-f", Name: "Plan Thermostat F", Type: virtual.TypeThermostat, Kind: "heat_cool", Scale: "FAHRENHEIT"},
	}
	e := newSkillEnv(t, devs)
	e.link(len(devs))
	cases := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var plan capabilityPlan
		if err := json.Unmarshal(b, &plan); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		target := id("plan-light")
		switch {
		case strings.HasSuffix(plan.Name, "FAHRENHEIT"):
			target = id("plan-thermostat-f")
		case strings.HasPrefix(plan.Name, "Thermostat"):
			target = id("plan-thermostat")
		}
		for _, tc := range plan.TestCases {
			cases++
			t.Run(plan.Name+"/"+tc.Name, func(t *testing.T) {
				for _, s := range tc.InitialSetups {
					e.planDirective(t, s.Directive, target)
				}
				props := e.planDirective(t, tc.Directive, target)
				tol := map[string]float64{}
				for _, x := range tc.Tolerances {
					tol[x.Namespace+"."+x.Name] = x.PercentThreshold
				}
				for _, want := range tc.Expected {
					key := want.Namespace + "." + want.Name
					got, ok := props[key]
					if !ok {
						t.Errorf("%s not in the answer (%v)", key, props)
						continue
					}
					if err := comparePlan(got, want.Value, want.Compare, tol[key]); err != nil {
						t.Errorf("%s: %v", key, err)
					}
				}
			})
		}
	}
	if cases < 70 {
		t.Errorf("replayed only %d test cases", cases)
	}
	if v := e.sim.State().Violations; len(v) > 0 {
		t.Errorf("protocol violations: %v", v)
	}
}

// planDirective sends a plan's directive (header and payload as written) to
// endpoint and returns the final answer's properties by "namespace.name".
func (e *skillEnv) planDirective(t *testing.T, raw json.RawMessage, endpoint string) map[string]any {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	d["endpoint"], _ = json.Marshal(map[string]string{"endpointId": endpoint})
	var h map[string]any
	_ = json.Unmarshal(d["header"], &h)
	h["messageId"], h["correlationToken"], h["payloadVersion"] = fmt.Sprintf("plan-%d", time.Now().UnixNano()), fmt.Sprintf("plan-corr-%d", time.Now().UnixNano()), "3"
	d["header"], _ = json.Marshal(h)
	body, _ := json.Marshal(map[string]any{"directive": d})
	ctx := ctxFor(t, 20*time.Second)
	res, err := e.sim.SendRaw(ctx, body, true)
	if err != nil || !res.Complete {
		t.Fatalf("%s: %v (complete %t)", body, err, res.Complete)
	}
	final, err := parseEvent(res.Events[len(res.Events)-1])
	if err != nil {
		t.Fatal(err)
	}
	if final.Header.Name != "Response" {
		t.Fatalf("%s answered %s %v", body, final.Header.Name, final.Payload)
	}
	out := map[string]any{}
	for _, p := range final.props() {
		out[p.Namespace+"."+p.Name] = p.Value
	}
	return out
}

// comparePlan compares a reported value with a plan's expected value.
func comparePlan(got any, want json.RawMessage, compare string, percent float64) error {
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		return err
	}
	return comparePlanAny(got, w, compare, percent)
}

func comparePlanAny(g, w any, compare string, percent float64) error {
	switch wv := w.(type) {
	case float64:
		gv, ok := g.(float64)
		if !ok {
			return fmt.Errorf("got %v, want number %v", g, wv)
		}
		switch compare {
		case "GREATER_THAN":
			if gv <= wv {
				return fmt.Errorf("got %v, want > %v", gv, wv)
			}
		case "LESS_THAN":
			if gv >= wv {
				return fmt.Errorf("got %v, want < %v", gv, wv)
			}
		default:
			if d := gv - wv; d > wv*percent/100+1e-9 || -d > wv*percent/100+1e-9 {
				return fmt.Errorf("got %v, want %v ±%v%%", gv, wv, percent)
			}
		}
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("got %v, want object %v", g, wv)
		}
		for k, v := range wv {
			if err := comparePlanAny(gm[k], v, compare, percent); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	default:
		if fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Errorf("got %v, want %v", g, w)
		}
	}
	return nil
}

package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
	"github.com/avshub/avshub/plugins/sdk"
)

// check is one conformance check run against a session.
type check struct {
	name          string
	run           func(ctx context.Context, s *session) error
	sendsCommands bool // skipped by Config.NoCommands
}

// sessionChecks are the behavioural checks, in order; each relies on the ones
// before it (configure before stream, the snapshot before commands).
var sessionChecks = []check{
	{"describe", checkDescribe, false},
	{"config-schema", checkSchema, false},
	{"configure", checkConfigure, false},
	{"snapshot-first", checkSnapshotFirst, false},
	{"endpoints", checkEndpoints, false},
	{"commands", checkCommands, true},
	{"typed-errors", checkTypedErrors, true},
	{"get-state", checkGetState, false},
	{"pairing", checkPairing, false},
	{"sequence", checkSequence, false},
	{"state-ranges", checkStateRanges, false},
	{"stream-cancel", checkStreamCancel, false},
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	semverRE = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

func checkDescribe(ctx context.Context, s *session) error {
	r, err := s.client.Describe(ctx, &pb.DescribeRequest{HubApiVersions: []string{sdk.APIVersion}})
	if err != nil {
		return fmt.Errorf("describe RPC: %w", err)
	}
	s.desc = sdk.DescriptionFrom(r)
	d := s.desc
	var errs []error
	if !nameRE.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("name %q must be lower-case letters, digits and dashes", d.Name))
	}
	if !semverRE.MatchString(d.Version) {
		errs = append(errs, fmt.Errorf("version %q is not a semantic version", d.Version))
	}
	if !slices.ContainsFunc(d.APIVersions, func(v string) bool { return strings.HasPrefix(v, "1.") }) {
		errs = append(errs, fmt.Errorf("API versions %v do not include a 1.x", d.APIVersions))
	}
	if len(d.ConfigSchema) == 0 {
		errs = append(errs, errors.New("no config schema"))
	}
	return errors.Join(errs...)
}

// schemaURL names the bridge's schema inside the compiler (never fetched).
const schemaURL = "urn:avshub:bridge-config"

func compileSchema(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("config schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("config schema does not compile: %w", err)
	}
	return sch, nil
}

func validate(sch *jsonschema.Schema, what string, cfg []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(cfg))
	if err != nil {
		return fmt.Errorf("%s is not JSON: %w", what, err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("the schema rejects the %s: %#v", what, ve)
		}
		return fmt.Errorf("the schema rejects the %s: %w", what, err)
	}
	return nil
}

func checkSchema(_ context.Context, s *session) error {
	sch, err := compileSchema(s.desc.ConfigSchema)
	if err != nil {
		return err
	}
	if len(s.desc.SampleConfig) == 0 {
		return errors.New("the manifest has no sample config")
	}
	if err := validate(sch, "sample config", s.desc.SampleConfig); err != nil {
		return err
	}
	if s.cfg.Config != nil {
		return validate(sch, "test config", s.cfg.Config)
	}
	return nil
}

func checkConfigure(ctx context.Context, s *session) error {
	s.config = s.cfg.Config
	if s.config == nil {
		s.config = s.desc.SampleConfig
	}
	if len(s.config) == 0 {
		s.config = []byte("{}")
	}
	if _, err := s.client.Configure(ctx, &pb.ConfigureRequest{ConfigJson: string(s.config), DataDir: s.cfg.DataDir,
		ApiVersion: sdk.APIVersion}); err != nil {
		return fmt.Errorf("configure RPC: %w", err)
	}
	return nil
}

func checkSnapshotFirst(ctx context.Context, s *session) error {
	if err := s.openMain(); err != nil {
		return err
	}
	i, err := s.waitFor(ctx, "the first snapshot", func(_ int, ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	if err != nil {
		return err
	}
	evs := s.received()
	if evs[0].Kind != model.EventHealth {
		return fmt.Errorf("the stream starts with %s, not health", evs[0].Kind)
	}
	for _, ev := range evs[:i] {
		if ev.Kind != model.EventHealth {
			return fmt.Errorf("a %s event came before the snapshot", ev.Kind)
		}
	}
	s.devices = evs[i].Devices
	if len(s.devices) == 0 {
		return errors.New("the snapshot has no devices: give the bridge a configuration with some " +
			"(avshub plugin check --config FILE; in a test, plugintest.Config.Config), or a sample config (Description.SampleConfig) that has some")
	}
	return nil
}

func checkEndpoints(_ context.Context, s *session) error {
	var errs []error
	seen := map[string]bool{}
	for _, d := range s.devices {
		ep := d.Endpoint
		switch {
		case ep.DeviceID == "":
			errs = append(errs, fmt.Errorf("a device has no id (%q)", ep.FriendlyName))
		case seen[ep.DeviceID]:
			errs = append(errs, fmt.Errorf("device id %q is used twice", ep.DeviceID))
		}
		seen[ep.DeviceID] = true
		if ep.ID != "" || ep.Bridge != "" {
			errs = append(errs, fmt.Errorf("%s: id and bridge are the hub's to set", ep.DeviceID))
		}
		if err := model.ValidateFriendlyName(ep.FriendlyName); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ep.DeviceID, err))
		}
		if ep.Category == "" {
			errs = append(errs, fmt.Errorf("%s: no display category", ep.DeviceID))
		}
		if len(ep.Traits.Names()) == 0 {
			errs = append(errs, fmt.Errorf("%s: no traits", ep.DeviceID))
		}
		if ct := ep.Traits.ColorTemperature; ct != nil && (ct.MinKelvin <= 0 || ct.MinKelvin > ct.MaxKelvin) {
			errs = append(errs, fmt.Errorf("%s: colour temperature range %d–%d K", ep.DeviceID, ct.MinKelvin, ct.MaxKelvin))
		}
		if th := ep.Traits.Thermostat; th != nil {
			if len(th.Modes) == 0 || th.MinC >= th.MaxC || (!th.TargetSetpoint && !th.DualSetpoints) {
				errs = append(errs, fmt.Errorf("%s: thermostat needs modes, a range and setpoints: %+v", ep.DeviceID, *th))
			}
		}
	}
	return errors.Join(errs...)
}

// goodCommands returns a valid command for every controllable trait of d.
func goodCommands(d model.Device) []model.Command {
	t, st := d.Endpoint.Traits, d.State
	var cmds []model.Command
	if t.OnOff != nil {
		cmds = append(cmds, model.SetPower(st.On == nil || !*st.On))
	}
	if t.Brightness != nil {
		cmds = append(cmds, model.SetBrightness(37))
	}
	if t.Color != nil {
		cmds = append(cmds, model.SetColor(model.HSB{Hue: 120, Saturation: 0.5, Brightness: 0.75}))
	}
	if ct := t.ColorTemperature; ct != nil {
		cmds = append(cmds, model.SetColorTemperature((ct.MinKelvin+ct.MaxKelvin)/2))
	}
	if t.Lock != nil && st.Lock != model.Jammed {
		to := model.Locked
		if st.Lock == model.Locked {
			to = model.Unlocked
		}
		cmds = append(cmds, model.SetLock(to))
	}
	if th := t.Thermostat; th != nil {
		mode := model.ThermostatMode("")
		for _, m := range th.Modes {
			if m != model.ModeOff {
				mode = m
				break
			}
		}
		if mode != "" {
			mid := math.Round((th.MinC+th.MaxC)/2*2) / 2
			ts := model.ThermostatState{Mode: mode}
			if th.TargetSetpoint {
				ts.Target = model.Ptr(mid)
			} else {
				half := math.Max(th.MinDeltaC, 1)
				ts.Lower, ts.Upper = model.Ptr(math.Max(mid-half, th.MinC)), model.Ptr(math.Min(mid+half, th.MaxC))
			}
			cmds = append(cmds, model.SetThermostat(ts))
		}
	}
	if t.Cover != nil {
		cmds = append(cmds, model.StopCover()) // a cover at rest stops where it is
	}
	for _, x := range t.Toggles {
		if !x.NonControllable {
			cmds = append(cmds, model.SetToggle(x.Instance, !st.Toggles[x.Instance]))
		}
	}
	for _, x := range t.Ranges {
		if !x.NonControllable {
			cmds = append(cmds, model.SetRange(x.Instance, x.Min))
		}
	}
	for _, x := range t.Modes {
		if !x.NonControllable && len(x.Values) > 0 {
			cmds = append(cmds, model.SetMode(x.Instance, x.Values[len(x.Values)-1].Value))
		}
	}
	return cmds
}

func checkCommands(ctx context.Context, s *session) error {
	var errs []error
	n := 0
	for _, d := range s.devices {
		if !d.Reachable {
			continue
		}
		for _, cmd := range goodCommands(d) {
			n++
			corr := fmt.Sprintf("plugintest-%d", n)
			if err := s.runGood(ctx, d, corr, cmd); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", d.Endpoint.DeviceID, cmd, err))
			}
		}
	}
	return errors.Join(errs...)
}

// runGood executes a valid command and checks that it is carried out: Done
// with the commanded value in the state, or Accepted and completed (by
// success or typed error) before the deadline.
func (s *session) runGood(ctx context.Context, d model.Device, corr string, cmd model.Command) error {
	before, known := s.currentState(ctx, d.Endpoint.DeviceID)
	req, res, err := s.execute(ctx, d.Endpoint.DeviceID, corr, cmd)
	if err != nil {
		return fmt.Errorf("a valid command failed: %w", err)
	}
	if err := inRange(d.Endpoint.Traits, "the answer's state", res.State); err != nil {
		return err
	}
	switch res.Status {
	case model.Done:
		if err := expectApplied(cmd, res.State); err != nil {
			return err
		}
		if known {
			return noCopies(cmd, before, res.State, "answer")
		}
		return nil
	case model.Accepted:
		wctx, cancel := context.WithDeadline(ctx, req.Deadline)
		defer cancel()
		i, err := s.waitFor(wctx, "the completion of "+corr, func(_ int, ev model.Event) bool {
			return ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == corr
		})
		if err != nil {
			return fmt.Errorf("accepted but not completed before its deadline: %w", err)
		}
		c := s.received()[i].Completion
		if c.Err != nil {
			return nil // a typed failure is a valid completion
		}
		if err := inRange(d.Endpoint.Traits, "the completion's state", c.State); err != nil {
			return err
		}
		if err := expectApplied(cmd, c.State); err != nil {
			return err
		}
		if known {
			return noCopies(cmd, before, c.State, "completion")
		}
		return nil
	default:
		return fmt.Errorf("unknown result status %q", res.Status)
	}
}

// currentState reads a device's state through GetState (known is false
// when the bridge gives none).
func (s *session) currentState(ctx context.Context, id string) (st model.State, known bool) {
	r, err := s.client.GetState(ctx, &pb.GetStateRequest{DeviceId: id})
	if err != nil || r.GetError() != nil || r.GetState() == nil {
		return model.State{}, false
	}
	return convert.StateFrom(r.GetState()), true
}

// noCopies checks that a command's answer (or completion) carries what the
// command did, not a copy of the device's whole state: beside the
// command's Effect, only what changed since before. A reading copied into
// it (a plug's energy count) may be older than the event that reported its
// next value, and the hub, which may get the answer after that event, would
// put the older value back.
func noCopies(cmd model.Command, before, got model.State, what string) error {
	effect, changed := cmd.Effect(got).Kinds(), model.DiffState(before, got).Kinds()
	var copied []string
	for _, k := range got.Kinds() {
		if !slices.Contains(effect, k) && !slices.Contains(changed, k) {
			copied = append(copied, string(k))
		}
	}
	if len(copied) > 0 {
		return fmt.Errorf("the %s copies the device's %s, which the command did not change: answer with what the command did (Command.Effect), or a reading reported meanwhile is overwritten", what, strings.Join(copied, ", "))
	}
	return nil
}

// expectApplied checks that st shows the commanded value.
func expectApplied(cmd model.Command, st model.State) error {
	want := cmd.Apply(model.State{})
	bad := func(field string, got, w any) error {
		return fmt.Errorf("state after the command has %s=%v, want %v", field, got, w)
	}
	switch cmd.Trait {
	case model.TraitOnOff:
		if st.On == nil || *st.On != *want.On {
			return bad("on", deref(st.On), *want.On)
		}
	case model.TraitBrightness:
		if st.Brightness == nil || *st.Brightness != *want.Brightness {
			return bad("brightness", deref(st.Brightness), *want.Brightness)
		}
	case model.TraitColorTemperature:
		if st.ColorTemperature == nil || *st.ColorTemperature != *want.ColorTemperature {
			return bad("colorTemperature", deref(st.ColorTemperature), *want.ColorTemperature)
		}
	case model.TraitLock:
		if st.Lock != want.Lock {
			return bad("lock", st.Lock, want.Lock)
		}
	case model.TraitThermostat:
		if st.Thermostat == nil || st.Thermostat.Mode != cmd.Thermostat.Mode {
			return fmt.Errorf("state after the command has thermostat %+v, want mode %s", st.Thermostat, cmd.Thermostat.Mode)
		}
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// badCommand is an invalid command and the error kinds that may answer it.
type badCommand struct {
	cmd   model.Command
	kinds []model.ErrorKind
}

// badCommands returns invalid commands for d's traits.
func badCommands(d model.Device) []badCommand {
	t := d.Endpoint.Traits
	var b []badCommand
	oor := []model.ErrorKind{model.ErrOutOfRange, model.ErrInvalidValue}
	if t.Brightness != nil {
		b = append(b, badCommand{model.SetBrightness(101), oor})
	} else {
		b = append(b, badCommand{model.SetBrightness(50), []model.ErrorKind{model.ErrNotSupported}})
	}
	if ct := t.ColorTemperature; ct != nil {
		b = append(b, badCommand{model.SetColorTemperature(ct.MaxKelvin + 1000), oor})
	}
	if t.Lock == nil {
		b = append(b, badCommand{model.SetLock(model.Locked), []model.ErrorKind{model.ErrNotSupported}})
	} else {
		b = append(b, badCommand{model.SetLock(model.Jammed), []model.ErrorKind{model.ErrInvalidValue}})
	}
	if th := t.Thermostat; th != nil {
		ts := model.ThermostatState{}
		for _, m := range th.Modes {
			if m != model.ModeOff {
				ts.Mode = m
				break
			}
		}
		if th.TargetSetpoint {
			ts.Target = model.Ptr(th.MaxC + 10)
		} else {
			ts.Lower, ts.Upper = model.Ptr(th.MinC-10), model.Ptr(th.MaxC)
		}
		b = append(b, badCommand{model.SetThermostat(ts), []model.ErrorKind{model.ErrTemperatureOutOfRange}})
		for _, m := range []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeEco, model.ModeOff} {
			if !th.SupportsMode(m) {
				b = append(b, badCommand{model.SetThermostat(model.ThermostatState{Mode: m}),
					[]model.ErrorKind{model.ErrUnsupportedThermostatMode}})
				break
			}
		}
	} else {
		b = append(b, badCommand{model.SetThermostat(model.ThermostatState{Mode: model.ModeHeat}),
			[]model.ErrorKind{model.ErrNotSupported}})
	}
	if t.Cover != nil {
		b = append(b, badCommand{model.SetCoverPosition(101), oor},
			badCommand{model.Command{Trait: model.TraitCover, CoverStop: model.Ptr(true), CoverPosition: model.Ptr(50)}, []model.ErrorKind{model.ErrInvalidValue}})
	} else {
		b = append(b, badCommand{model.StopCover(), []model.ErrorKind{model.ErrNotSupported}})
	}
	b = append(b, badCommand{model.Command{Trait: "no_such_trait"}, []model.ErrorKind{model.ErrInvalidValue, model.ErrNotSupported}})
	return b
}

func checkTypedErrors(ctx context.Context, s *session) error {
	var errs []error
	expect := func(what string, err error, kinds []model.ErrorKind) {
		var de *model.Error
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("%s: accepted, want an error %v", what, kinds))
		case !errors.As(err, &de):
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		case !slices.Contains(kinds, de.Kind):
			errs = append(errs, fmt.Errorf("%s: error %s, want one of %v", what, de.Kind, kinds))
		case de.Kind == model.ErrOutOfRange && de.Min == 0 && de.Max == 0:
			errs = append(errs, fmt.Errorf("%s: OUT_OF_RANGE without its valid range", what))
		}
	}
	for _, d := range s.devices {
		if !d.Reachable {
			continue
		}
		for _, bc := range badCommands(d) {
			_, _, err := s.execute(ctx, d.Endpoint.DeviceID, "plugintest-bad", bc.cmd)
			expect(d.Endpoint.DeviceID+" "+bc.cmd.String(), err, bc.kinds)
		}
	}
	_, _, err := s.execute(ctx, "plugintest-no-such-device", "plugintest-nodev", model.SetPower(true))
	expect("a command for an unknown device", err, []model.ErrorKind{model.ErrUnreachable, model.ErrNotSupported})
	return errors.Join(errs...)
}

func checkGetState(ctx context.Context, s *session) error {
	var errs []error
	for _, d := range s.devices {
		r, err := s.client.GetState(ctx, &pb.GetStateRequest{DeviceId: d.Endpoint.DeviceID})
		if err != nil {
			errs = append(errs, fmt.Errorf("GetState %s: transport error: %w", d.Endpoint.DeviceID, err))
			continue
		}
		if d.Reachable && r.GetError() != nil {
			errs = append(errs, fmt.Errorf("GetState %s: %s", d.Endpoint.DeviceID, r.GetError().GetMessage()))
		}
		if st := r.GetState(); st != nil {
			if err := inRange(d.Endpoint.Traits, "GetState "+d.Endpoint.DeviceID, convert.StateFrom(st)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	r, err := s.client.GetState(ctx, &pb.GetStateRequest{DeviceId: "plugintest-no-such-device"})
	if err != nil || r.GetError() == nil {
		errs = append(errs, fmt.Errorf("GetState of an unknown device: want a typed error, got %v (transport %v)", r, err))
	}
	return errors.Join(errs...)
}

// checkPairing: a bridge that declares pairing accepts StartPairing; one that
// does not answers NOT_SUPPORTED (typed, not a transport error).
func checkPairing(ctx context.Context, s *session) error {
	r, err := s.client.StartPairing(ctx, &pb.StartPairingRequest{Duration: durationpb.New(time.Second)})
	if err != nil {
		return fmt.Errorf("StartPairing: transport error: %w", err)
	}
	e := r.GetError()
	switch {
	case s.desc.Pairing && e != nil:
		return fmt.Errorf("the bridge declares pairing but StartPairing failed: %s", e.GetMessage())
	case !s.desc.Pairing && e.GetKind() != pb.ErrorKind_ERROR_KIND_NOT_SUPPORTED:
		return fmt.Errorf("the bridge does not declare pairing; StartPairing answered %v, want NOT_SUPPORTED", e)
	}
	return nil
}

// inRange fails a state with a value outside the range its trait declares
// (the hub drops such values: Alexa would otherwise hear brightness 150).
func inRange(t model.Traits, where string, st model.State) error {
	if _, bad := t.CheckState(st); len(bad) > 0 {
		return fmt.Errorf("%s has values outside their trait's range (the hub drops them): %s", where, strings.Join(bad, "; "))
	}
	return nil
}

// checkStateRanges checks every state the stream carried (snapshots, upserts,
// changes) against the ranges of the device's traits; completions and command
// answers are checked as each command runs.
func checkStateRanges(_ context.Context, s *session) error {
	var errs []error
	traits := map[string]model.Traits{}
	for _, ev := range s.received() {
		switch ev.Kind {
		case model.EventSnapshot:
			traits = map[string]model.Traits{}
			for _, d := range ev.Devices {
				traits[d.Endpoint.DeviceID] = d.Endpoint.Traits
				errs = append(errs, inRange(d.Endpoint.Traits, fmt.Sprintf("event %d (snapshot): %s", ev.Seq, d.Endpoint.DeviceID), d.State))
			}
		case model.EventUpsert:
			d := ev.Device
			traits[d.Endpoint.DeviceID] = d.Endpoint.Traits
			errs = append(errs, inRange(d.Endpoint.Traits, fmt.Sprintf("event %d (upsert): %s", ev.Seq, d.Endpoint.DeviceID), d.State))
		case model.EventState:
			errs = append(errs, inRange(traits[ev.DeviceID], fmt.Sprintf("event %d (state change): %s", ev.Seq, ev.DeviceID), ev.State))
		}
	}
	return errors.Join(errs...)
}

func checkSequence(_ context.Context, s *session) error {
	var last uint64
	for _, ev := range s.received() {
		if ev.Seq <= last {
			return fmt.Errorf("seq %d came after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
	if last == 0 {
		return errors.New("no events")
	}
	return nil
}

// checkStreamCancel opens a second stream (it must start with Health and the
// Snapshot again, seq from 1) and cancels it: the stream must end promptly.
func checkStreamCancel(ctx context.Context, s *session) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.client.StreamEvents(sctx, &pb.StreamEventsRequest{})
	if err != nil {
		return fmt.Errorf("second StreamEvents: %w", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("second stream: %w", err)
	}
	if first.GetHealth() == nil || first.GetSeq() != 1 {
		return fmt.Errorf("second stream starts with %v", first)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("second stream: %w", err)
		}
		if m.GetSnapshot() != nil {
			if len(m.GetSnapshot().GetDevices()) != len(s.devices) {
				return fmt.Errorf("second stream's snapshot has %d devices, the first had %d", len(m.GetSnapshot().GetDevices()), len(s.devices))
			}
			break
		}
		if m.GetHealth() == nil {
			return fmt.Errorf("second stream: %v before the snapshot", m)
		}
	}
	cancel()
	ended := make(chan struct{})
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				close(ended)
				return
			}
		}
	}()
	select {
	case <-ended:
		return nil
	case <-time.After(time.Second):
		return errors.New("the stream did not end within 1 s of being cancelled")
	}
}

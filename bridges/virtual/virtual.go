// Package virtual is an in-memory bridge: simulated lights, a lock, thermostats
// and a temperature sensor, configured by JSON. It is the demo's first bridge,
// the hub's test double, and the template for bridge authors: copy this
// package and cmd/bridge-virtual, replace the device simulation with your
// protocol, and keep the shape (Describe, Configure, Run emitting Health and a
// Snapshot first, Execute answering with the state after or a typed error).
package virtual

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// Version is the virtual bridge's version.
const Version = "1.0.0"

// Bridge is the virtual bridge. Create it with New; the SDK calls Configure,
// then Run, then Execute and State concurrently.
type Bridge struct {
	log *slog.Logger

	mu      sync.Mutex
	cfg     Config
	devices map[string]*simDevice
	order   []string
	em      sdk.Emitter     // set by Run
	runCtx  context.Context // Run's context, which ends lock operations
	wg      sync.WaitGroup  // lock operations in flight
	manualN int             // round-robin position of simulated manual changes
	manual  chan struct{}   // requests for a manual change (ManualChange)
}

// simDevice is one simulated device: what the bridge reports plus simulation knobs.
type simDevice struct {
	dev       model.Device
	jammed    bool // the next lock operation jams
	busy      bool // a lock operation is in flight
	coupled   bool // DeviceConfig.LevelControlsPower
	lastLevel int  // the last non-zero level (coupled lights)
}

var _ sdk.Bridge = (*Bridge)(nil)

// New returns an unconfigured virtual bridge that logs to log (slog.Default if nil).
func New(log *slog.Logger) *Bridge {
	if log == nil {
		log = slog.Default()
	}
	return &Bridge{log: log, manual: make(chan struct{}, 1)}
}

// Describe returns the manifest.
func (b *Bridge) Describe() sdk.Description {
	return sdk.Description{
		Name:         "virtual",
		Version:      Version,
		APIVersions:  []string{sdk.APIVersion},
		ConfigSchema: json.RawMessage(ConfigSchema),
		SampleConfig: json.RawMessage(SampleConfig),
	}
}

// Configure reads the configuration and builds the devices. Nothing slow
// happens here; a real bridge opens its radio or broker connection in Run.
func (b *Bridge) Configure(_ context.Context, c sdk.Config) error {
	cfg, err := ParseConfig(c.JSON)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg = cfg
	b.devices = map[string]*simDevice{}
	b.order = nil
	for _, dc := range cfg.Devices {
		d, _ := build(dc) // checked by ParseConfig
		b.devices[dc.ID] = &simDevice{dev: d, jammed: dc.Jammed, coupled: dc.LevelControlsPower, lastLevel: 100}
		b.order = append(b.order, dc.ID)
	}
	return nil
}

// build turns one device's configuration into a device with the SDK helpers.
func build(dc DeviceConfig) (model.Device, error) {
	temp := 20.0
	if dc.Temperature != nil {
		temp = *dc.Temperature
	}
	info := sdk.WithInfo("avshub", "virtual "+dc.Type, "Virtual "+dc.Type+" (avshub)")
	var d model.Device
	switch dc.Type {
	case TypeLight:
		kinds := map[string]sdk.LightKind{"": sdk.DimmableLight, "onoff": sdk.OnOffLight, "dimmable": sdk.DimmableLight,
			"color_temperature": sdk.ColorTemperatureLight, "color": sdk.ColorLight, "extended_color": sdk.ExtendedColorLight}
		k, ok := kinds[dc.Kind]
		if !ok {
			return d, fmt.Errorf("unknown light kind %q", dc.Kind)
		}
		d = sdk.Light(dc.ID, dc.Name, k, info)
	case TypeLock:
		d = sdk.Lock(dc.ID, dc.Name, info)
	case TypeThermostat:
		switch dc.Kind {
		case "", "single":
			d = sdk.SingleSetpointThermostat(dc.ID, dc.Name, temp, info)
		case "dual":
			d = sdk.DualSetpointThermostat(dc.ID, dc.Name, temp, info)
		case "heat_cool":
			// One setpoint for every mode, the range Amazon's thermostat
			// capability test plans use (their cool plan sets 36 °C).
			d = sdk.Thermostat(dc.ID, dc.Name, model.Thermostat{
				Modes:          []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeEco, model.ModeOff},
				TargetSetpoint: true, MinC: 4, MaxC: 37, StepC: 0.5, Scale: "CELSIUS",
			}, temp, info)
		default:
			return d, fmt.Errorf("unknown thermostat kind %q", dc.Kind)
		}
	case TypeTemperatureSensor:
		d = sdk.TemperatureSensor(dc.ID, dc.Name, temp, info)
	default:
		var ok bool
		if d, ok = kindDevice(dc, temp, info); !ok {
			return d, fmt.Errorf("unknown device type %q", dc.Type)
		}
	}
	if ct := d.Endpoint.Traits.ColorTemperature; ct != nil && (dc.MinKelvin != 0 || dc.MaxKelvin != 0) {
		if dc.MinKelvin != 0 {
			ct.MinKelvin = dc.MinKelvin
		}
		if dc.MaxKelvin != 0 {
			ct.MaxKelvin = dc.MaxKelvin
		}
		if ct.MinKelvin < 1000 || ct.MaxKelvin > 10000 || ct.MinKelvin >= ct.MaxKelvin {
			return d, fmt.Errorf("colour temperature range %d–%d K: use 1000–10000 K, minimum below maximum", ct.MinKelvin, ct.MaxKelvin)
		}
	}
	switch {
	case dc.Scale != "" && dc.Scale != "CELSIUS" && dc.Scale != "FAHRENHEIT":
		return d, fmt.Errorf("unknown temperature scale %q (CELSIUS or FAHRENHEIT)", dc.Scale)
	case dc.Scale != "" && d.Endpoint.Traits.Thermostat != nil:
		d.Endpoint.Traits.Thermostat.Scale = dc.Scale
	}
	d.Reachable = !dc.Unreachable
	return d, nil
}

// Run reports Health and the Snapshot, then makes simulated manual changes
// until ctx ends. It waits for lock operations in flight before returning.
func (b *Bridge) Run(ctx context.Context, em sdk.Emitter) error {
	b.mu.Lock()
	b.em, b.runCtx = em, ctx
	devices := b.snapshotLocked()
	every := time.Duration(b.cfg.ManualEvery)
	b.mu.Unlock()

	em.Health(model.Health{State: model.HealthHealthy, Description: fmt.Sprintf("%d virtual devices", len(devices))})
	em.Snapshot(devices)
	b.log.Info("virtual bridge running", "devices", len(devices), "manualEvery", every)

	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			b.wg.Wait()
			return nil
		case <-tick:
			b.manualChange()
		case <-b.manual:
			b.manualChange()
		}
	}
}

func (b *Bridge) snapshotLocked() []model.Device {
	out := make([]model.Device, 0, len(b.order))
	for _, id := range b.order {
		d := b.devices[id].dev
		d.State = d.State.Clone()
		out = append(out, d)
	}
	return out
}

// Execute carries out one command. The SDK has already checked that the device
// exists and is reachable and that the command fits its traits and state, so
// only device behaviour is left: a lock takes LockDelay (Accepted, then a
// Completion), everything else is done at once.
func (b *Bridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sd, ok := b.devices[req.DeviceID]
	if !ok {
		return model.Result{}, model.Errorf(model.ErrUnreachable, "no device %q", req.DeviceID)
	}
	if !sd.dev.Reachable || b.em == nil {
		return model.Result{}, model.Errorf(model.ErrUnreachable, "%s does not answer", sd.dev.Endpoint.FriendlyName)
	}
	if req.Command.Trait == model.TraitLock {
		return b.startLockLocked(sd, req)
	}
	before := sd.dev.State
	sd.dev.State = req.Command.Apply(sd.dev.State)
	coupleKinds(&sd.dev, req.Command)
	if sd.coupled {
		sd.couple(req.Command)
	}
	// The answer is what the command did: its effect and what the device
	// changed with it (a plug's power, a light's level), never the whole
	// state: a change by hand reported after it would reach the hub before
	// the answer's older copy.
	did := req.Command.Effect(sd.dev.State).Merge(model.DiffState(before, sd.dev.State))
	return model.Result{Status: model.Done, State: did}, nil
}

// couple applies a LevelControlsPower light's behaviour after c.
func (sd *simDevice) couple(c model.Command) {
	st := &sd.dev.State
	switch c.Trait {
	case model.TraitBrightness:
		if *c.Brightness == 0 {
			st.On = model.Ptr(false)
		} else {
			st.On = model.Ptr(true)
			sd.lastLevel = *c.Brightness
		}
	case model.TraitColor, model.TraitColorTemperature:
		st.On = model.Ptr(true)
	case model.TraitOnOff:
		if *c.Power && st.Brightness != nil && *st.Brightness == 0 {
			st.Brightness = model.Ptr(max(sd.lastLevel, 1))
		}
	}
}

// startLockLocked begins a lock operation that completes after LockDelay (or
// just before the request's deadline, whichever is sooner).
func (b *Bridge) startLockLocked(sd *simDevice, req model.Request) (model.Result, error) {
	switch {
	case sd.busy:
		return model.Result{}, model.Errorf(model.ErrBusy, "%s is already turning", sd.dev.Endpoint.FriendlyName)
	case sd.dev.State.Lock == model.Jammed:
		return model.Result{}, model.Errorf(model.ErrHardwareFault, "%s is jammed", sd.dev.Endpoint.FriendlyName)
	}
	delay := time.Duration(b.cfg.LockDelay)
	if left := time.Until(req.Deadline) * 8 / 10; !req.Deadline.IsZero() && left < delay {
		delay = max(left, 0)
	}
	sd.busy = true
	ctx := b.runCtx
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			b.finishLock(sd, req)
		case <-ctx.Done():
			// The bridge is stopping: the lock never finished turning.
			b.mu.Lock()
			sd.busy = false
			b.mu.Unlock()
			b.em.Complete(req.CorrelationID, model.State{},
				model.Errorf(model.ErrUnreachable, "the bridge stopped before the lock finished"))
		}
	}()
	return model.Result{Status: model.Accepted, State: sd.dev.State.Clone(), EstimatedDeferral: delay}, nil
}

func (b *Bridge) finishLock(sd *simDevice, req model.Request) {
	b.mu.Lock()
	sd.busy = false
	id, name := sd.dev.Endpoint.DeviceID, sd.dev.Endpoint.FriendlyName
	if sd.jammed {
		sd.jammed = false
		sd.dev.State.Lock = model.Jammed
		b.mu.Unlock()
		// The jam is a change at the device: report it, then fail the command.
		b.em.StateChanged(id, model.State{Lock: model.Jammed}, model.CausePhysical)
		b.em.Complete(req.CorrelationID, model.State{}, model.Errorf(model.ErrHardwareFault, "%s jammed", name))
		return
	}
	sd.dev.State.Lock = req.Command.Lock
	st := req.Command.Effect(sd.dev.State)
	b.mu.Unlock()
	b.em.Complete(req.CorrelationID, st, nil)
}

// State returns a device's state.
func (b *Bridge) State(_ context.Context, deviceID string) (model.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sd, ok := b.devices[deviceID]
	if !ok {
		return model.State{}, model.Errorf(model.ErrUnreachable, "no device %q", deviceID)
	}
	if !sd.dev.Reachable {
		return model.State{}, model.Errorf(model.ErrUnreachable, "%s does not answer", sd.dev.Endpoint.FriendlyName)
	}
	return sd.dev.State.Clone(), nil
}

// ---------------------------------------------------------------- simulation controls

// ManualChange asks Run to make one simulated manual change (as a timer tick
// would). It does not wait for it.
func (b *Bridge) ManualChange() {
	select {
	case b.manual <- struct{}{}:
	default:
	}
}

// manualChange makes the next simulated change, round-robin over the
// reachable devices: a light is switched, a lock turned by hand, a thermostat
// nudged, a temperature drifts, a door opens, motion or a leak appears (nudgeKind).
func (b *Bridge) manualChange() {
	b.mu.Lock()
	var id string
	var changed model.State
	for range b.order {
		sd := b.devices[b.order[b.manualN%len(b.order)]]
		b.manualN++
		if !sd.dev.Reachable || sd.busy {
			continue
		}
		var ok bool
		if changed, ok = nudge(sd.dev); !ok {
			continue
		}
		sd.dev.State = sd.dev.State.Merge(changed)
		id = sd.dev.Endpoint.DeviceID
		break
	}
	em := b.em
	b.mu.Unlock()
	if id != "" {
		em.StateChanged(id, changed, model.CausePhysical)
	}
}

// nudge returns the change a person (or the weather) would make to d.
func nudge(d model.Device) (model.State, bool) {
	if c, ok := nudgeKind(d); ok {
		return c, true
	}
	s, t := d.State, d.Endpoint.Traits
	switch {
	case t.OnOff != nil && s.On != nil:
		return model.State{On: model.Ptr(!*s.On)}, true
	case t.Lock != nil && s.Lock != model.Jammed:
		if s.Lock == model.Locked {
			return model.State{Lock: model.Unlocked}, true
		}
		return model.State{Lock: model.Locked}, true
	case t.TemperatureSensor != nil && s.Temperature != nil:
		return model.State{Temperature: model.Ptr(*s.Temperature + 0.5)}, true
	}
	return model.State{}, false
}

// SetState changes a device's state as if by hand and reports it (tests, demos).
func (b *Bridge) SetState(deviceID string, s model.State) error {
	b.mu.Lock()
	sd, ok := b.devices[deviceID]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("no device %q", deviceID)
	}
	sd.dev.State = sd.dev.State.Merge(s)
	em := b.em
	b.mu.Unlock()
	if em != nil {
		em.StateChanged(deviceID, s, model.CausePhysical)
	}
	return nil
}

// Jam makes a lock jam on its next operation.
func (b *Bridge) Jam(deviceID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	sd, ok := b.devices[deviceID]
	if !ok || sd.dev.Endpoint.Traits.Lock == nil {
		return fmt.Errorf("no lock %q", deviceID)
	}
	sd.jammed = true
	return nil
}

// SetReachable makes a device (un)reachable and reports it.
func (b *Bridge) SetReachable(deviceID string, reachable bool) error {
	b.mu.Lock()
	sd, ok := b.devices[deviceID]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("no device %q", deviceID)
	}
	sd.dev.Reachable = reachable
	em := b.em
	b.mu.Unlock()
	if em != nil {
		em.Reachability(deviceID, reachable)
	}
	return nil
}

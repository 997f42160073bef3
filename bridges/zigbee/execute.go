package zigbee

import (
	"context"
	"math"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// lockCompletionTimeout bounds how long a slow lock may take after answering Accepted.
const lockCompletionTimeout = 45 * time.Second

// Execute turns one trait command into ZCL, sends it and waits for the device's answer.
func (b *Bridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	if !req.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, req.Deadline)
		defer cancel()
	}
	b.awaitLink(ctx)
	b.mu.Lock()
	r, ok := b.devices[req.DeviceID]
	var traits model.Traits
	var cur model.State
	var caps, minM, maxM uint16
	var gamut *colorconv.Gamut
	if ok {
		traits, cur = r.traits(), r.State.Clone()
		caps, minM, maxM = r.ColorCaps, r.MinMired, r.MaxMired
		gamut = r.gamut()
	}
	link := b.link
	b.mu.Unlock()
	if !ok || !r.Interviewed {
		return model.Result{}, model.Errorf(model.ErrNotSupported, "no Zigbee device %q", req.DeviceID)
	}
	if link == nil {
		return model.Result{}, model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	cmd := req.Command
	if err := cmd.Validate(traits, cur); err != nil {
		return model.Result{}, err
	}
	b.markBusy(req.DeviceID, cmd.Trait, 1)
	defer b.markBusy(req.DeviceID, cmd.Trait, -1)
	id := req.DeviceID
	var err error
	var also model.State // what the command changes beside its own trait
	switch cmd.Trait {
	case model.TraitOnOff:
		if b.fanIsOnOff(id) {
			st, err := b.fanPower(ctx, id, *cmd.Power, cur)
			return b.result(id, st, err)
		}
		c := uint8(zcl.CmdOff)
		if *cmd.Power {
			c = zcl.CmdOn
		}
		_, err = b.clusterCommand(ctx, id, zcl.ClusterOnOff, c, nil, -1)
	case model.TraitBrightness:
		_, err = b.clusterCommand(ctx, id, zcl.ClusterLevel, zcl.CmdMoveToLevelWithOnOff, zcl.MoveToLevelWithOnOff(pctToLevel(*cmd.Brightness), 0), -1)
		also.On = model.Ptr(*cmd.Brightness > 0)
	case model.TraitColor:
		c := *cmd.Color
		if caps&zcl.ColorCapHueSat != 0 {
			_, err = b.clusterCommand(ctx, id, zcl.ClusterColor, zcl.CmdMoveToHueAndSaturation, zcl.MoveToHueAndSaturation(hueToZCL(c.Hue), satToZCL(c.Saturation), 0), -1)
		} else {
			x, y := hsbToXY(c, gamut)
			_, err = b.clusterCommand(ctx, id, zcl.ClusterColor, zcl.CmdMoveToColor, zcl.MoveToColor(xyToZCL(x), xyToZCL(y), 0), -1)
		}
	case model.TraitColorTemperature:
		m := kelvinToMired(*cmd.ColorTemperature)
		m = max(int(minM), min(int(maxM), m))
		_, err = b.clusterCommand(ctx, id, zcl.ClusterColor, zcl.CmdMoveToColorTemp, zcl.MoveToColorTemp(uint16(m), 0), -1)
	case model.TraitCover:
		if cmd.CoverStop != nil {
			st, err := b.stopCover(ctx, id)
			return b.result(id, st, err)
		}
		if cmd.CoverTilt != nil {
			st, err := b.cover(ctx, id, true, *cmd.CoverTilt)
			return b.result(id, st, err)
		}
		if traits.Cover != nil && traits.Cover.Tilt && b.tiltOnly(id) {
			// No lift: opening and closing the blind are its slats'.
			if p := *cmd.CoverPosition; p != 0 && p != 100 {
				return model.Result{}, model.Errorf(model.ErrInvalidValue, "this blind only tilts: it opens (100) and closes (0), position %d", p)
			}
			st, err := b.cover(ctx, id, true, *cmd.CoverPosition)
			return b.result(id, st, err)
		}
		st, err := b.cover(ctx, id, false, *cmd.CoverPosition)
		return b.result(id, st, err)
	case model.TraitFan:
		st, err := b.setFan(ctx, id, *cmd.FanSpeed)
		return b.result(id, st, err)
	case model.TraitSiren:
		err = b.setSiren(ctx, id, *cmd.Siren)
	case model.TraitLock:
		return b.lock(ctx, req, cur)
	case model.TraitThermostat:
		err = b.thermostat(ctx, id, *cmd.Thermostat, cur, traits.Thermostat)
	default:
		return model.Result{}, model.Errorf(model.ErrNotSupported, "Zigbee devices have no %s trait", cmd.Trait)
	}
	if err != nil {
		return model.Result{}, model.AsError(err)
	}
	return model.Result{Status: model.Done, State: b.applyCommand(id, cmd.Apply(also))}, nil
}

// result is a command's outcome: the state it reached, merged into the stored one.
func (b *Bridge) result(id string, st model.State, err error) (model.Result, error) {
	if err != nil {
		return model.Result{}, model.AsError(err)
	}
	return model.Result{Status: model.Done, State: b.applyCommand(id, st)}, nil
}

func xyToZCL(v float64) uint16 { return uint16(math.Round(math.Max(0, math.Min(v, 0.9961)) * 65536)) }

func (b *Bridge) markBusy(id string, k model.TraitKind, d int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.busy[id]
	if m == nil {
		m = map[model.TraitKind]int{}
		b.busy[id] = m
	}
	m[k] += d
	if d > 0 {
		b.news[id]++
	}
	if m[k] <= 0 {
		delete(m, k)
	}
}

// applyCommand merges a command's effect into the stored state and returns
// that effect (what the Result reports). Not the whole stored state: a
// report the device sent before answering (a plug's power after its relay)
// may not be applied yet, and the stored value from before it would reach
// the hub after the report's own change and overwrite it.
func (b *Bridge) applyCommand(id string, ch model.State) model.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.devices[id]
	if r == nil {
		return ch
	}
	if ch.Brightness != nil && r.State.Color != nil {
		c := *r.State.Color
		c.Brightness = float64(*ch.Brightness) / 100
		ch.Color = &c
	}
	r.State = r.State.Merge(ch)
	if !r.Reachable {
		r.Reachable = true
		if b.em != nil {
			b.em.Reachability(id, true)
		}
	}
	b.persistSoon()
	return ch.Clone()
}

// lock sends lockDoor/unlockDoor, then waits briefly for the bolt: a fast lock
// is answered Done, a slow one Accepted and completed when the bolt report
// arrives (a jam completes with ErrHardwareFault).
func (b *Bridge) lock(ctx context.Context, req model.Request, cur model.State) (model.Result, error) {
	id := req.DeviceID
	want := req.Command.Lock
	c := uint8(zcl.CmdLockDoor)
	if want == model.Unlocked {
		c = zcl.CmdUnlockDoor
	}
	b.mu.Lock()
	if r := b.devices[id]; r != nil && r.State.Lock == model.Jammed {
		r.State.Lock = "" // a new attempt: the jam may clear
	}
	b.mu.Unlock()
	changed := b.changes(id)
	if _, err := b.clusterCommand(ctx, id, zcl.ClusterDoorLock, c, zcl.LockDoorPayload(), int(c)); err != nil {
		return model.Result{}, model.AsError(err)
	}
	t := time.NewTimer(sdk.WaitLeft(ctx, b.lockWait))
	defer t.Stop()
	for {
		if st, done, err := b.lockOutcome(id, want); done {
			if err != nil {
				return model.Result{}, err
			}
			return model.Result{Status: model.Done, State: st}, nil
		}
		select {
		case <-changed:
			changed = b.changes(id)
		case <-t.C:
			b.goTracked(func() { b.completeLock(req) })
			return model.Result{Status: model.Accepted, State: cur, EstimatedDeferral: 5 * time.Second}, nil
		case <-ctx.Done():
			b.goTracked(func() { b.completeLock(req) })
			return model.Result{Status: model.Accepted, State: cur, EstimatedDeferral: 5 * time.Second}, nil
		}
	}
}

// lockOutcome says whether the lock reached want (or jammed), with the bolt's
// state only: the lock's battery in a copy could be older than its next report.
func (b *Bridge) lockOutcome(id string, want model.LockState) (model.State, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.devices[id]
	if r == nil {
		return model.State{}, true, model.Errorf(model.ErrUnreachable, "the device left the network")
	}
	switch r.State.Lock {
	case want:
		return model.State{Lock: want}, true, nil
	case model.Jammed:
		return model.State{}, true, model.Errorf(model.ErrHardwareFault, "the lock is jammed")
	}
	return model.State{}, false, nil
}

func (b *Bridge) completeLock(req model.Request) {
	b.mu.Lock()
	ctx, em := b.runCtx, b.em
	b.mu.Unlock()
	b.markBusy(req.DeviceID, model.TraitLock, 1)
	defer b.markBusy(req.DeviceID, model.TraitLock, -1)
	ctx, cancel := context.WithTimeout(ctx, lockCompletionTimeout)
	defer cancel()
	for {
		changed := b.changes(req.DeviceID)
		if st, done, err := b.lockOutcome(req.DeviceID, req.Command.Lock); done {
			em.Complete(req.CorrelationID, st, err)
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if b.runCtx.Err() != nil {
				return
			}
			b.setReachable(req.DeviceID, false)
			em.Complete(req.CorrelationID, model.State{}, model.Errorf(model.ErrUnreachable, "the lock did not report its bolt position"))
			return
		}
	}
}

// thermostat writes systemMode and setpoints in one Write Attributes.
func (b *Bridge) thermostat(ctx context.Context, id string, ts model.ThermostatState, cur model.State, th *model.Thermostat) error {
	var attrs []zcl.Attribute
	if ts.Mode != "" {
		v, _ := modeToZCL(ts.Mode)
		attrs = append(attrs, zcl.Attribute{ID: zcl.AttrSystemMode, Value: zcl.U(zcl.TypeEnum8, uint64(v))})
	}
	mode := ts.Mode
	if mode == "" && cur.Thermostat != nil {
		mode = cur.Thermostat.Mode
	}
	cent := func(c float64) zcl.Value { return zcl.S(zcl.TypeInt16, int64(math.Round(c*100))) }
	if ts.Target != nil {
		a := zcl.AttrOccupiedHeatingSetpoint
		if mode == model.ModeCool {
			a = zcl.AttrOccupiedCoolingSetpoint
		}
		attrs = append(attrs, zcl.Attribute{ID: a, Value: cent(*ts.Target)})
	}
	if ts.Lower != nil {
		attrs = append(attrs, zcl.Attribute{ID: zcl.AttrOccupiedHeatingSetpoint, Value: cent(*ts.Lower)})
	}
	if ts.Upper != nil {
		attrs = append(attrs, zcl.Attribute{ID: zcl.AttrOccupiedCoolingSetpoint, Value: cent(*ts.Upper)})
	}
	fails, err := b.write(ctx, id, zcl.ClusterThermostat, attrs)
	if err != nil {
		return err
	}
	for _, s := range fails {
		switch {
		case s.ID == zcl.AttrSystemMode && s.Status == zcl.StatusInvalidValue:
			return model.Errorf(model.ErrUnsupportedThermostatMode, "the thermostat refused mode %s", ts.Mode)
		case s.Status == zcl.StatusInvalidValue:
			return &model.Error{Kind: model.ErrTemperatureOutOfRange, Message: "the thermostat refused the setpoint", Min: th.MinC, Max: th.MaxC}
		default:
			return statusError(s.Status)
		}
	}
	return nil
}

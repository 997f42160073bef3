package zigbee

import (
	"context"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// The cover (Window Covering 0x0102), the fan (Fan Control 0x0202) and the
// siren (IAS WD 0x0502).

// coverWait bounds how long a cover command waits for the blind to reach
// its position (within the request's deadline).
const coverWait = 6 * time.Second

// tilt reports whether the covering has slats (windowCoveringType tilt blind).
func (r *record) tilt() bool {
	return r.has(zcl.ClusterWindowCovering) && (r.CoverType == zcl.CoverTypeTiltOnly || r.CoverType == zcl.CoverTypeTiltLiftAndTilt)
}

// tiltOnly reports whether the covering moves its slats only (no lift).
func (r *record) tiltOnly() bool {
	return r.has(zcl.ClusterWindowCovering) && r.CoverType == zcl.CoverTypeTiltOnly
}

// tiltOnly reports whether device id is a blind that only tilts its slats.
func (b *Bridge) tiltOnly(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.devices[id]
	return r != nil && r.tiltOnly()
}

// cover sends Go To Lift Percentage (lift: the position) or Go To Tilt
// Percentage (tilt: the slats, model.Cover's CoverTilt), ZCL's 0 % being
// fully open, and waits on the
// blind's reports until it is there: the answer carries the position
// reached. A blind still travelling when the time is up is answered with the
// last position it reported; its next reports follow as state changes.
func (b *Bridge) cover(ctx context.Context, id string, tilt bool, pos int) (model.State, error) {
	cmd, at := uint8(zcl.CmdGoToLiftPercentage), func(s model.State) (model.State, bool) {
		if s.CoverPosition == nil {
			return model.State{}, false
		}
		return model.State{CoverPosition: model.Ptr(*s.CoverPosition)}, *s.CoverPosition == pos
	}
	if tilt {
		cmd, at = zcl.CmdGoToTiltPercentage, func(s model.State) (model.State, bool) {
			if s.CoverTilt == nil {
				return model.State{}, false
			}
			return model.State{CoverTilt: model.Ptr(*s.CoverTilt)}, *s.CoverTilt == pos
		}
	}
	changed := b.changes(id)
	if _, err := b.clusterCommand(ctx, id, zcl.ClusterWindowCovering, cmd, []byte{byte(100 - pos)}, -1); err != nil {
		return model.State{}, err
	}
	t := time.NewTimer(sdk.WaitLeft(ctx, coverWait))
	defer t.Stop()
	for {
		b.mu.Lock()
		var cur model.State
		there := false
		if r := b.devices[id]; r != nil {
			cur, there = at(r.State)
		}
		b.mu.Unlock()
		if there {
			return cur, nil
		}
		select {
		case <-changed:
			changed = b.changes(id)
		case <-t.C:
			return cur, nil
		case <-ctx.Done():
			return cur, nil
		}
	}
}

// stopWait bounds how long a Stop waits for the blind's report of where it stopped.
const stopWait = 1500 * time.Millisecond

// stopCover sends Window Covering Stop (0x02): a moving blind stops where it
// is and reports its position (lift, and tilt where it has slats); the answer
// carries it. A blind that was not moving may report nothing new: then the
// position last known.
func (b *Bridge) stopCover(ctx context.Context, id string) (model.State, error) {
	changed := b.changes(id)
	if _, err := b.clusterCommand(ctx, id, zcl.ClusterWindowCovering, zcl.CmdStop, nil, -1); err != nil {
		return model.State{}, err
	}
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var st model.State
	if r := b.devices[id]; r != nil {
		if p := r.State.CoverPosition; p != nil {
			st.CoverPosition = model.Ptr(*p)
		}
		if v := r.State.CoverTilt; v != nil {
			st.CoverTilt = model.Ptr(*v)
		}
	}
	return st, nil
}

// fanPreset is one speed a Fan Control device offers: its fanMode and the
// speed in % it stands for.
type fanPreset struct {
	mode int64
	name string
	pct  int
}

// fanPresets are the speeds of a fanModeSequence (ZCL 6.4.2.2.2): 0
// low/medium/high, 1 low/high, 2 low/medium/high/auto, 3 low/high/auto, 4
// on/auto. Auto is no speed: it is left out.
func fanPresets(seq uint8) []fanPreset {
	low, med, high := fanPreset{zcl.FanModeLow, "low", 33}, fanPreset{zcl.FanModeMedium, "medium", 66}, fanPreset{zcl.FanModeHigh, "high", 100}
	switch seq {
	case 1, 3:
		return []fanPreset{{zcl.FanModeLow, "low", 50}, high}
	case 4:
		return []fanPreset{{zcl.FanModeOn, "on", 100}}
	}
	return []fanPreset{low, med, high}
}

// fanModeFor is the fanMode that gives speed pct: off for 0, else the
// slowest preset at or above it.
func fanModeFor(seq uint8, pct int) (int64, int) {
	if pct <= 0 {
		return zcl.FanModeOff, 0
	}
	ps := fanPresets(seq)
	for _, p := range ps {
		if p.pct >= pct {
			return p.mode, p.pct
		}
	}
	last := ps[len(ps)-1]
	return last.mode, last.pct
}

// fanSpeedOf is the speed a fanMode stands for; false for auto and smart
// (the fan picks its speed).
func fanSpeedOf(seq uint8, mode int64) (int, bool) {
	if mode == zcl.FanModeOff {
		return 0, true
	}
	for _, p := range fanPresets(seq) {
		if p.mode == mode {
			return p.pct, true
		}
	}
	switch mode {
	case zcl.FanModeLow:
		return 33, true
	case zcl.FanModeMedium:
		return 66, true
	case zcl.FanModeHigh, zcl.FanModeOn:
		return 100, true
	}
	return 0, false
}

// fanOnOff says whether the fan's own fanMode is its on/off (no On/Off cluster).
func (r *record) fanOnOff() bool { return r.has(zcl.ClusterFanControl) && !r.has(zcl.ClusterOnOff) }

// siren reports whether the device is a warning device: an IAS WD server
// that is not a detector with a sounder of its own (a smoke alarm's IAS WD
// sounds its own alarm; zigbee2mqtt offers no warning for it either).
func (r *record) siren() bool {
	return r.has(zcl.ClusterIASWD) && (!r.has(zcl.ClusterIASZone) || r.ZoneType == zcl.ZoneTypeStandardWarn)
}

// actuatorTraits adds the fan and siren traits.
func (r *record) actuatorTraits(t *model.Traits) {
	if r.has(zcl.ClusterFanControl) {
		f := &model.Fan{}
		for _, p := range fanPresets(r.FanSeq) {
			f.Presets = append(f.Presets, model.Preset{Value: float64(p.pct), Names: []model.Name{{Text: p.name, Locale: "en-US"}}})
		}
		t.Fan = f
		if r.fanOnOff() {
			t.OnOff = &model.OnOff{}
		}
	}
	if r.siren() {
		t.Siren = &model.Siren{}
	}
}

// applyActuator folds a Fan Control attribute into ch.
func (r *record) applyActuator(ch *model.State, cluster uint16, a zcl.Attribute) {
	if cluster != zcl.ClusterFanControl || a.ID != zcl.AttrFanMode {
		return
	}
	if pct, ok := fanSpeedOf(r.FanSeq, a.Value.Int); ok {
		ch.FanSpeed = model.Ptr(pct)
	}
	if r.fanOnOff() {
		ch.On = model.Ptr(a.Value.Int != zcl.FanModeOff)
	}
}

// writeAttributes writes attrs of cluster and maps a refusal to the model's errors.
func (b *Bridge) writeAttributes(ctx context.Context, id string, cluster uint16, attrs ...zcl.Attribute) error {
	fails, err := b.write(ctx, id, cluster, attrs)
	if err != nil {
		return err
	}
	for _, s := range fails {
		return statusError(s.Status)
	}
	return nil
}

// write sends Write Attributes and returns the attributes the device
// refused (a Default Response refusing the whole write is an error).
func (b *Bridge) write(ctx context.Context, id string, cluster uint16, attrs []zcl.Attribute) ([]zcl.WriteStatus, error) {
	p, err := zcl.AppendAttributes(nil, attrs...)
	if err != nil {
		return nil, err
	}
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ClientToServer, DisableDefaultResponse: true, Command: zcl.CmdWriteAttributes}
	f, err := b.request(ctx, id, cluster, h, p, isCmd(zcl.FrameGlobal, zcl.CmdWriteAttributesRsp))
	if err != nil {
		return nil, err
	}
	if f.Command == zcl.CmdDefaultRsp {
		_, st, _ := zcl.ParseDefaultRsp(f.Payload)
		return nil, statusError(st)
	}
	fails, err := zcl.ParseWriteAttributesRsp(f.Payload)
	if err != nil {
		return nil, model.Errorf(model.ErrInternal, "bad write response: %v", err)
	}
	return fails, nil
}

// setFan writes fanMode for speed pct (as zigbee2mqtt does: a write, Fan
// Control has no commands) and returns the speed the fan runs at.
func (b *Bridge) setFan(ctx context.Context, id string, pct int) (model.State, error) {
	b.mu.Lock()
	var seq uint8
	if r := b.devices[id]; r != nil {
		seq = r.FanSeq
	}
	b.mu.Unlock()
	mode, speed := fanModeFor(seq, pct)
	if err := b.writeAttributes(ctx, id, zcl.ClusterFanControl, zcl.Attribute{ID: zcl.AttrFanMode, Value: zcl.U(zcl.TypeEnum8, uint64(mode))}); err != nil {
		return model.State{}, err
	}
	st := model.State{FanSpeed: model.Ptr(speed)}
	if b.fanIsOnOff(id) {
		st.On = model.Ptr(speed > 0)
	}
	return st, nil
}

func (b *Bridge) fanIsOnOff(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.devices[id]
	return r != nil && r.fanOnOff()
}

// fanPower turns a fan without an On/Off cluster on (at its last speed, else
// its slowest) or off through fanMode.
func (b *Bridge) fanPower(ctx context.Context, id string, on bool, cur model.State) (model.State, error) {
	pct := 0
	if on {
		pct = 1
		if cur.FanSpeed != nil && *cur.FanSpeed > 0 {
			pct = *cur.FanSpeed
		}
	}
	return b.setFan(ctx, id, pct)
}

// defaultWarningSeconds is IAS WD maxDuration's default (ZCL 8.4.2.2.1).
const defaultWarningSeconds = 240

// setSiren starts a warning (emergency, with strobe, for the device's
// maxDuration) or stops it (warning mode stop). The device tells nothing when
// the warning ends by itself: the bridge reports the siren off then.
func (b *Bridge) setSiren(ctx context.Context, id string, on bool) error {
	b.mu.Lock()
	secs := uint16(defaultWarningSeconds)
	if r := b.devices[id]; r != nil && r.MaxWarning > 0 {
		secs = r.MaxWarning
	}
	b.sirenGen[id]++
	gen := b.sirenGen[id]
	b.mu.Unlock()
	p := zcl.StartWarning(zcl.WarningModeStop, 0, 0, 0, 0, 0)
	if on {
		p = zcl.StartWarning(zcl.WarningModeEmergency, 1, 0, secs, 50, 0)
	}
	if _, err := b.clusterCommand(ctx, id, zcl.ClusterIASWD, zcl.CmdStartWarning, p, -1); err != nil {
		return err
	}
	if on {
		b.goTracked(func() { b.sirenEnds(id, gen, time.Duration(secs)*time.Second) })
	}
	return nil
}

// sirenEnds reports the siren off when the warning has run its duration,
// unless a newer siren command came meanwhile.
func (b *Bridge) sirenEnds(id string, gen uint64, after time.Duration) {
	b.mu.Lock()
	ctx := b.runCtx
	b.mu.Unlock()
	if ctx == nil || sleep(ctx, after) != nil {
		return
	}
	b.mu.Lock()
	r := b.devices[id]
	if r == nil || b.sirenGen[id] != gen || r.State.Siren == nil || !*r.State.Siren {
		b.mu.Unlock()
		return
	}
	r.State.Siren = model.Ptr(false)
	em := b.em
	b.persistSoon()
	b.mu.Unlock()
	if em != nil {
		em.StateChanged(id, model.State{Siren: model.Ptr(false)}, model.CauseRule)
	}
}

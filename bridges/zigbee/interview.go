package zigbee

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// zdo sends a ZDO request and waits for its callback from nwk.
func (b *Bridge) zdo(ctx context.Context, cmd, rsp uint8, nwk uint16, payload []byte) ([]byte, error) {
	link := b.currentLink()
	if link == nil {
		return nil, model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	w := link.Wait(mt.MatchAREQ(unpi.ZDO, rsp, func(d []byte) bool { return len(d) >= 2 && binary.LittleEndian.Uint16(d) == nwk }))
	d, err := link.Request(ctx, unpi.ZDO, cmd, payload, 0)
	if err == nil {
		err = statusErr(fmt.Sprintf("ZDO request 0x%02x", cmd), d)
	}
	if err != nil {
		w.Cancel()
		return nil, err
	}
	f, err := link.Await(ctx, w, b.cfg.responseTimeout(), fmt.Sprintf("ZDO response 0x%02x", rsp))
	if err != nil {
		return nil, err
	}
	return f.Data[2:], nil
}

func retry[T any](ctx context.Context, n int, fn func() (T, error)) (T, error) {
	var v T
	var err error
	for i := 0; i < n; i++ {
		if v, err = fn(); err == nil || ctx.Err() != nil {
			return v, err
		}
	}
	return v, err
}

// reportable lists the attributes the bridge binds and configures reporting for, per cluster.
var reportable = map[uint16][]zcl.ReportConfig{
	zcl.ClusterOnOff:       {{ID: zcl.AttrOnOff, Type: zcl.TypeBool, MinInterval: 0, MaxInterval: 3600}},
	zcl.ClusterLevel:       {{ID: zcl.AttrCurrentLevel, Type: zcl.TypeUint8, MinInterval: 1, MaxInterval: 3600, Change: 1}},
	zcl.ClusterDoorLock:    {{ID: zcl.AttrLockState, Type: zcl.TypeEnum8, MinInterval: 0, MaxInterval: 3600}, {ID: zcl.AttrDoorState, Type: zcl.TypeEnum8, MinInterval: 0, MaxInterval: 3600}},
	zcl.ClusterTemperature: {{ID: zcl.AttrMeasuredValue, Type: zcl.TypeInt16, MinInterval: 10, MaxInterval: 3600, Change: 10}},
	// Power: at most every 10 s, on a change of 10 units (1 W at the usual divisor 10).
	zcl.ClusterElectricalMeas: {{ID: zcl.AttrActivePower, Type: zcl.TypeInt16, MinInterval: 10, MaxInterval: 3600, Change: 10}},
	zcl.ClusterWindowCovering: {{ID: zcl.AttrCurrentPositionLiftPercentage, Type: zcl.TypeUint8, MinInterval: 1, MaxInterval: 3600, Change: 1}},
	zcl.ClusterMetering:       {{ID: zcl.AttrCurrentSummationDelivered, Type: zcl.TypeUint48, MinInterval: 10, MaxInterval: 3600, Change: 10}},
	zcl.ClusterThermostat: {
		{ID: zcl.AttrLocalTemperature, Type: zcl.TypeInt16, MinInterval: 10, MaxInterval: 3600, Change: 10},
		{ID: zcl.AttrOccupiedHeatingSetpoint, Type: zcl.TypeInt16, MinInterval: 0, MaxInterval: 3600, Change: 10},
		{ID: zcl.AttrSystemMode, Type: zcl.TypeEnum8, MinInterval: 0, MaxInterval: 3600},
	},
}

func colorReports(caps uint16) []zcl.ReportConfig {
	var r []zcl.ReportConfig
	if caps&zcl.ColorCapHueSat != 0 {
		r = append(r, zcl.ReportConfig{ID: zcl.AttrCurrentHue, Type: zcl.TypeUint8, MinInterval: 1, MaxInterval: 3600, Change: 1},
			zcl.ReportConfig{ID: zcl.AttrCurrentSaturation, Type: zcl.TypeUint8, MinInterval: 1, MaxInterval: 3600, Change: 1})
	} else if caps&zcl.ColorCapXY != 0 {
		r = append(r, zcl.ReportConfig{ID: zcl.AttrCurrentX, Type: zcl.TypeUint16, MinInterval: 1, MaxInterval: 3600, Change: 10},
			zcl.ReportConfig{ID: zcl.AttrCurrentY, Type: zcl.TypeUint16, MinInterval: 1, MaxInterval: 3600, Change: 10})
	}
	if caps&zcl.ColorCapTemperature != 0 {
		r = append(r, zcl.ReportConfig{ID: zcl.AttrColorTemperature, Type: zcl.TypeUint16, MinInterval: 1, MaxInterval: 3600, Change: 1})
	}
	return r
}

// stateAttrs are the attributes read once after configuration for the initial state.
var stateAttrs = map[uint16][]uint16{
	zcl.ClusterOnOff:          {zcl.AttrOnOff},
	zcl.ClusterLevel:          {zcl.AttrCurrentLevel},
	zcl.ClusterDoorLock:       {zcl.AttrLockState},
	zcl.ClusterTemperature:    {zcl.AttrMeasuredValue},
	zcl.ClusterThermostat:     {zcl.AttrLocalTemperature, zcl.AttrOccupiedHeatingSetpoint, zcl.AttrSystemMode},
	zcl.ClusterElectricalMeas: {zcl.AttrActivePower},
	zcl.ClusterMetering:       {zcl.AttrCurrentSummationDelivered},
}

// stateClusters are the clusters whose attributes make up a device's state, in the order they are read.
var stateClusters = []uint16{zcl.ClusterOnOff, zcl.ClusterLevel, zcl.ClusterColor, zcl.ClusterDoorLock, zcl.ClusterThermostat, zcl.ClusterTemperature,
	zcl.ClusterElectricalMeas, zcl.ClusterMetering, zcl.ClusterWindowCovering, zcl.ClusterOccupancy, zcl.ClusterHumidity, zcl.ClusterIlluminance,
	zcl.ClusterPowerConfig, zcl.ClusterFanControl}

// stateCluster says whether cluster is part of the device's state: it serves
// it, and Power Configuration only on a battery-powered device.
func (r *record) stateCluster(cluster uint16) bool {
	if cluster == zcl.ClusterPowerConfig {
		return r.battery()
	}
	return r.has(cluster)
}

// reportsFor lists the reporting configurations of cluster on this device.
func (r *record) reportsFor(cluster uint16) []zcl.ReportConfig {
	switch cluster {
	case zcl.ClusterColor:
		return colorReports(r.ColorCaps)
	case zcl.ClusterWindowCovering:
		var cfgs []zcl.ReportConfig
		if !r.tiltOnly() {
			cfgs = reportable[cluster]
		}
		if r.tilt() {
			cfgs = append(slices.Clip(cfgs), zcl.ReportConfig{ID: zcl.AttrCurrentPositionTiltPercentage, Type: zcl.TypeUint8, MinInterval: 1, MaxInterval: 3600, Change: 1})
		}
		return cfgs
	case zcl.ClusterPowerConfig:
		cfgs := sensorReports[cluster]
		if r.BatteryAlarm {
			cfgs = append(slices.Clip(cfgs), zcl.ReportConfig{ID: zcl.AttrBatteryAlarmState, Type: zcl.TypeBitmap32, MinInterval: 3600, MaxInterval: 65000})
		}
		return cfgs
	}
	if c, ok := sensorReports[cluster]; ok {
		return c
	}
	return reportable[cluster]
}

// stateIDs lists the state attributes read from cluster: those it reports
// (for Color Control, the ones the bulb's capabilities report), and an IAS
// zone's status.
func (r *record) stateIDs(cluster uint16) []uint16 {
	if ids, ok := stateAttrs[cluster]; ok {
		return append([]uint16(nil), ids...)
	}
	if cluster == zcl.ClusterIASZone {
		return []uint16{zcl.AttrZoneStatus}
	}
	var ids []uint16
	for _, x := range r.reportsFor(cluster) {
		ids = append(ids, x.ID)
	}
	return ids
}

// interview learns a new device: endpoints, descriptors, Basic attributes,
// capabilities; binds and configures reporting; reads its state; publishes it.
func (b *Bridge) interview(ctx context.Context, ieee string) {
	defer func() {
		b.mu.Lock()
		delete(b.interviewing, ieee)
		b.mu.Unlock()
	}()
	err := b.doInterview(ctx, ieee)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("zigbee: interview failed; it is retried when the device announces itself again", "ieee", ieee, "err", err)
			b.progress(model.PairingFailed, ieee, "the interview failed: "+err.Error()+
				"; it is tried again when the device announces itself (wake it, or pair it again)", nil)
		}
		return
	}
	b.mu.Lock()
	r := b.devices[ieee]
	if r == nil {
		b.mu.Unlock()
		return
	}
	r.Interviewed = true
	r.Reachable = true
	delete(b.interviewing, ieee)
	ep, pub := r.endpoint(b.cfg.Names)
	st := r.State.Clone()
	var link *model.Link
	if l, ok := b.lastLink[ieee]; ok {
		link = l.Clone()
	}
	remote := r.remote()
	// What the device is, for a failure's reason ("IKEA TRADFRI remote
	// control"): an endpoint that is not published has no name of its own.
	what := strings.TrimSpace(model.Brand(r.Manufacturer) + " " + r.Model)
	if what == "" {
		what = "The device"
	}
	em := b.em
	b.persist()
	b.mu.Unlock()
	if !pub {
		if remote {
			// Alexa has no button: a remote's presses start nothing there, and
			// its battery alone makes no endpoint (see doc.go, "Remotes").
			b.log.Info("zigbee: remote or button paired; not an Alexa endpoint (Alexa has no button trait); remembered only", "ieee", ieee, "model", r.Model)
			b.progress(model.PairingFailed, ieee, what+" is a remote or button: Alexa has no button, so it is remembered only", nil)
			return
		}
		b.log.Info("zigbee: device has no trait avshub publishes; remembered only", "ieee", ieee, "model", r.Model)
		b.progress(model.PairingFailed, ieee, what+" has no trait avshub publishes; it is remembered only", nil)
		return
	}
	b.log.Info("zigbee: device paired", "ieee", ieee, "model", ep.Model, "category", ep.Category)
	em.Upsert(model.Device{Endpoint: ep, State: st, Reachable: true, Link: link})
	b.progress(model.PairingPublished, ieee, fmt.Sprintf("published as %q (%s)", ep.FriendlyName, ep.Category), &ep)
}

func (b *Bridge) doInterview(ctx context.Context, ieee string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	b.mu.Lock()
	r := b.devices[ieee]
	if r == nil {
		b.mu.Unlock()
		return fmt.Errorf("device vanished")
	}
	nwk := r.NWK
	b.mu.Unlock()
	nwkLE := binary.LittleEndian.AppendUint16(nil, nwk)
	// 1. Active endpoints.
	b.step(ieee, "asking for its active endpoints")
	d, err := retry(ctx, 2, func() ([]byte, error) {
		return b.zdo(ctx, mt.ZdoActiveEPReq, mt.ZdoActiveEPRsp, nwk, append(append([]byte(nil), nwkLE...), nwkLE...))
	})
	if err != nil {
		return fmt.Errorf("active endpoints: %w", err)
	}
	if len(d) < 4 || d[0] != 0 || len(d) < 4+int(d[3]) {
		return fmt.Errorf("active endpoints: bad answer")
	}
	epIDs := append([]byte(nil), d[4:4+int(d[3])]...)
	// 2. Simple descriptors.
	var eps []endpointRecord
	for _, id := range epIDs {
		b.step(ieee, "reading the simple descriptor of endpoint %d", id)
		d, err := retry(ctx, 2, func() ([]byte, error) {
			return b.zdo(ctx, mt.ZdoSimpleDescReq, mt.ZdoSimpleDescRsp, nwk, append(append(append([]byte(nil), nwkLE...), nwkLE...), id))
		})
		if err != nil {
			return fmt.Errorf("simple descriptor of endpoint %d: %w", id, err)
		}
		e, err := parseSimpleDesc(d)
		if err != nil {
			return fmt.Errorf("simple descriptor of endpoint %d: %w", id, err)
		}
		eps = append(eps, e)
	}
	b.mu.Lock()
	r.Endpoints = eps
	b.mu.Unlock()
	// 3. Basic: manufacturer, model, power source.
	if r.has(zcl.ClusterBasic) {
		b.step(ieee, "reading the Basic cluster: manufacturer, model and power source")
		v, err := retry(ctx, 2, func() (map[uint16]zcl.Value, error) {
			return b.readAttributes(ctx, ieee, zcl.ClusterBasic, zcl.AttrManufacturerName, zcl.AttrModelID, zcl.AttrPowerSource)
		})
		if err != nil {
			return fmt.Errorf("basic attributes: %w", err)
		}
		b.mu.Lock()
		r.Manufacturer, r.Model, r.PowerSource = v[zcl.AttrManufacturerName].Str, v[zcl.AttrModelID].Str, uint8(v[zcl.AttrPowerSource].Int)
		b.mu.Unlock()
	}
	// 4. Capabilities.
	if r.has(zcl.ClusterColor) {
		b.step(ieee, "reading its colour capabilities")
		v, err := b.readAttributes(ctx, ieee, zcl.ClusterColor, zcl.AttrColorCapabilities, zcl.AttrColorTempPhysMin, zcl.AttrColorTempPhysMax)
		if err != nil {
			return fmt.Errorf("color capabilities: %w", err)
		}
		b.mu.Lock()
		if c, ok := v[zcl.AttrColorCapabilities]; ok {
			r.ColorCaps = uint16(c.Int)
		} else {
			r.ColorCaps = zcl.ColorCapHueSat | zcl.ColorCapXY // ZCL before 6: assume hue/sat and xy
		}
		r.MinMired, r.MaxMired = uint16(v[zcl.AttrColorTempPhysMin].Int), uint16(v[zcl.AttrColorTempPhysMax].Int)
		if r.ColorCaps&zcl.ColorCapTemperature != 0 && (r.MinMired == 0 || r.MaxMired <= r.MinMired) {
			r.MinMired, r.MaxMired = 153, 500
		}
		caps := r.ColorCaps
		b.mu.Unlock()
		if err := b.readPrimaries(ctx, ieee, r, caps); err != nil {
			return err
		}
	}
	if r.has(zcl.ClusterThermostat) {
		b.step(ieee, "reading its thermostat limits")
		v, err := b.readAttributes(ctx, ieee, zcl.ClusterThermostat, zcl.AttrControlSequence, zcl.AttrMinHeatSetpointLimit, zcl.AttrMaxHeatSetpointLimit,
			zcl.AttrAbsMinHeatSetpoint, zcl.AttrAbsMaxHeatSetpoint)
		if err != nil {
			return fmt.Errorf("thermostat limits: %w", err)
		}
		b.mu.Lock()
		r.ControlSeq = 4
		if c, ok := v[zcl.AttrControlSequence]; ok {
			r.ControlSeq = uint8(c.Int)
		}
		lo, hi := 7.0, 30.0
		if x, ok := v[zcl.AttrAbsMinHeatSetpoint]; ok && !x.Invalid() {
			lo = float64(x.Int) / 100
		}
		if x, ok := v[zcl.AttrAbsMaxHeatSetpoint]; ok && !x.Invalid() {
			hi = float64(x.Int) / 100
		}
		if x, ok := v[zcl.AttrMinHeatSetpointLimit]; ok && !x.Invalid() {
			lo = float64(x.Int) / 100
		}
		if x, ok := v[zcl.AttrMaxHeatSetpointLimit]; ok && !x.Invalid() {
			hi = float64(x.Int) / 100
		}
		r.MinSetpointC, r.MaxSetpointC = lo, hi
		b.mu.Unlock()
	}
	// Battery alarm, fan mode sequence, warning duration.
	for _, q := range []struct {
		cluster, attr uint16
		ok            bool
		set           func(v zcl.Value, present bool)
	}{
		{zcl.ClusterPowerConfig, zcl.AttrBatteryAlarmState, r.battery(), func(_ zcl.Value, p bool) { r.BatteryAlarm = p }},
		{zcl.ClusterFanControl, zcl.AttrFanModeSequence, r.has(zcl.ClusterFanControl), func(v zcl.Value, p bool) {
			if p && v.Int <= 4 {
				r.FanSeq = uint8(v.Int)
			}
		}},
		{zcl.ClusterWindowCovering, zcl.AttrWindowCoveringType, r.has(zcl.ClusterWindowCovering), func(v zcl.Value, p bool) {
			if p {
				r.CoverType = uint8(v.Int)
			}
		}},
		{zcl.ClusterIASWD, zcl.AttrMaxDuration, r.has(zcl.ClusterIASWD), func(v zcl.Value, p bool) {
			if p && v.Int > 0 {
				r.MaxWarning = uint16(v.Int)
			}
		}},
	} {
		if !q.ok {
			continue
		}
		v, err := b.readAttributes(ctx, ieee, q.cluster, q.attr)
		if err != nil {
			return fmt.Errorf("read attribute 0x%04x of cluster 0x%04x: %w", q.attr, q.cluster, err)
		}
		x, present := v[q.attr]
		b.mu.Lock()
		q.set(x, present)
		b.mu.Unlock()
	}
	// Metering scales: watts = activePower × multiplier / divisor (Electrical
	// Measurement), kWh = summation × multiplier / divisor (Metering, in kWh).
	for _, sc := range []struct {
		cluster, mul, div uint16
		set               func(float64)
	}{
		{zcl.ClusterElectricalMeas, zcl.AttrACPowerMultiplier, zcl.AttrACPowerDivisor, func(f float64) { r.PowerScale = f }},
		{zcl.ClusterMetering, zcl.AttrMeteringMultiplier, zcl.AttrMeteringDivisor, func(f float64) { r.EnergyScale = f }},
	} {
		if !r.has(sc.cluster) {
			continue
		}
		b.step(ieee, "reading the scale of %s", clusterName(sc.cluster))
		v, err := b.readAttributes(ctx, ieee, sc.cluster, sc.mul, sc.div)
		if err != nil {
			return fmt.Errorf("read the scale of cluster 0x%04x: %w", sc.cluster, err)
		}
		f := 1.0
		if m, ok := v[sc.mul]; ok && m.Int > 0 {
			f = float64(m.Int)
		}
		if d, ok := v[sc.div]; ok && d.Int > 0 {
			f /= float64(d.Int)
		}
		b.mu.Lock()
		sc.set(f)
		b.mu.Unlock()
	}
	// 5. Bind and configure reporting; 6. read the initial state.
	link := b.currentLink()
	if link == nil {
		return fmt.Errorf("coordinator unavailable")
	}
	for _, c := range stateClusters {
		ep, ok := r.epFor(c)
		if !ok || !r.stateCluster(c) {
			continue
		}
		cfgs := r.reportsFor(c)
		b.step(ieee, "binding %s, configuring its reporting and reading its state", clusterName(c))
		if err := b.bind(ctx, nwk, ieee, ep, c, link); err != nil {
			return fmt.Errorf("bind cluster 0x%04x: %w", c, err)
		}
		if err := b.configureReporting(ctx, ieee, c, cfgs); err != nil {
			return fmt.Errorf("configure reporting of cluster 0x%04x: %w", c, err)
		}
		ids := r.stateIDs(c)
		v, err := b.readAttributes(ctx, ieee, c, ids...)
		if err != nil {
			return fmt.Errorf("read state of cluster 0x%04x: %w", c, err)
		}
		var attrs []zcl.Attribute
		for _, id := range ids {
			if x, ok := v[id]; ok {
				attrs = append(attrs, zcl.Attribute{ID: id, Value: x})
			}
		}
		b.applyAttributes(ieee, c, attrs, "")
	}
	// 7. IAS zones: enrolment, without which they report no alarm.
	if ep, ok := r.epFor(zcl.ClusterIASZone); ok {
		b.step(ieee, "enrolling its IAS zone")
		if err := b.enrollIAS(ctx, ieee, nwk, ep, link); err != nil {
			return fmt.Errorf("IAS enrolment: %w", err)
		}
		v, err := b.readAttributes(ctx, ieee, zcl.ClusterIASZone, zcl.AttrZoneType, zcl.AttrZoneStatus)
		if err != nil {
			return fmt.Errorf("read zone type and status: %w", err)
		}
		b.mu.Lock()
		r.ZoneType = uint16(v[zcl.AttrZoneType].Int)
		b.mu.Unlock()
		if zs, ok := v[zcl.AttrZoneStatus]; ok {
			b.applyAttributes(ieee, zcl.ClusterIASZone, []zcl.Attribute{{ID: zcl.AttrZoneStatus, Value: zs}}, "")
		}
	}
	return nil
}

// primaryAttrs are the Color Control attributes that declare a light's
// gamut: NumberOfPrimaries, then x and y of the first three primaries.
var primaryAttrs = []uint16{zcl.AttrNumberOfPrimaries, zcl.AttrPrimary1X, zcl.AttrPrimary1Y,
	zcl.AttrPrimary2X, zcl.AttrPrimary2Y, zcl.AttrPrimary3X, zcl.AttrPrimary3Y}

// readPrimaries reads the primaries a colour light declares (only hue/saturation
// or xy lights: a colour-temperature light has no colour gamut) and keeps them
// as its gamut when they are valid; a light without them (UNSUPPORTED_ATTRIBUTE,
// as IKEA's answer, or a read refused as a whole) keeps the gamut of its model
// identifier, or none.
func (b *Bridge) readPrimaries(ctx context.Context, ieee string, r *record, caps uint16) error {
	if caps&(zcl.ColorCapHueSat|zcl.ColorCapXY) == 0 {
		return nil
	}
	b.step(ieee, "reading the colour primaries it declares")
	v, err := b.readAttributes(ctx, ieee, zcl.ClusterColor, primaryAttrs...)
	if err != nil && !errors.Is(err, errReadRefused) {
		return fmt.Errorf("color primaries: %w", err)
	}
	g := declaredGamut(v)
	b.mu.Lock()
	r.Gamut = g
	b.mu.Unlock()
	if g != nil {
		b.log.Debug("zigbee: the light declares its colour primaries", "ieee", ieee, "gamut", *g)
	}
	return nil
}

// declaredGamut is the gamut of the primaries read (primaryAttrs' values), or
// nil when one is missing or they are no valid gamut (colorconv.PrimariesGamut).
func declaredGamut(v map[uint16]zcl.Value) *colorconv.Gamut {
	var xy [3][2]uint16
	for i, id := range primaryAttrs[1:] {
		x, ok := v[id]
		if !ok || x.Int < 0 || x.Int > 0xFFFF {
			return nil
		}
		xy[i/2][i%2] = uint16(x.Int)
	}
	n, ok := v[zcl.AttrNumberOfPrimaries]
	if !ok || n.Int < 0 || n.Int > 0xFF {
		return nil
	}
	return colorconv.PrimariesGamut(uint8(n.Int), xy)
}

func parseSimpleDesc(d []byte) (endpointRecord, error) {
	// status nwk len | ep profile device version nin in[] nout out[]
	if len(d) < 4 {
		return endpointRecord{}, fmt.Errorf("answer too short (%d bytes)", len(d))
	}
	if d[0] != 0 {
		return endpointRecord{}, fmt.Errorf("status 0x%02x", d[0])
	}
	p := d[4:]
	if len(p) < 7 {
		return endpointRecord{}, fmt.Errorf("descriptor too short")
	}
	e := endpointRecord{ID: p[0], Profile: binary.LittleEndian.Uint16(p[1:]), DeviceID: binary.LittleEndian.Uint16(p[3:])}
	p = p[6:]
	var err error
	read := func() []uint16 {
		if err != nil {
			return nil
		}
		if len(p) < 1 || len(p) < 1+2*int(p[0]) {
			err = fmt.Errorf("cluster list too short")
			return nil
		}
		n := int(p[0])
		out := make([]uint16, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint16(p[1+2*i:])
		}
		p = p[1+2*n:]
		return out
	}
	e.In = read()
	e.Out = read()
	return e, err
}

// bind binds a device cluster to the coordinator's endpoint 1.
func (b *Bridge) bind(ctx context.Context, nwk uint16, ieee string, ep uint8, cluster uint16, link *mt.Client) error {
	src, _ := parseIEEE(ieee)
	req := binary.LittleEndian.AppendUint16(nil, nwk)
	req = binary.LittleEndian.AppendUint64(req, src)
	req = append(req, ep)
	req = binary.LittleEndian.AppendUint16(req, cluster)
	req = append(req, 3)
	req = binary.LittleEndian.AppendUint64(req, b.coordIEEE(ctx, link))
	req = append(req, 1)
	d, err := b.zdo(ctx, mt.ZdoBindReq, mt.ZdoBindRsp, nwk, req)
	if err != nil {
		return err
	}
	if len(d) < 1 {
		return fmt.Errorf("empty bind answer")
	}
	if d[0] != 0 {
		return fmt.Errorf("bind refused (status 0x%02x)", d[0])
	}
	return nil
}

func (b *Bridge) coordIEEE(ctx context.Context, link *mt.Client) uint64 {
	b.mu.Lock()
	v := b.coordAddr
	b.mu.Unlock()
	if v != 0 {
		return v
	}
	co := &coordinator{c: link}
	v, err := co.extAddr(ctx)
	if err != nil {
		return 0
	}
	b.mu.Lock()
	b.coordAddr = v
	b.mu.Unlock()
	return v
}

func (b *Bridge) configureReporting(ctx context.Context, ieee string, cluster uint16, cfgs []zcl.ReportConfig) error {
	if len(cfgs) == 0 {
		return nil
	}
	p, err := zcl.ConfigureReporting(cfgs...)
	if err != nil {
		return err
	}
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ClientToServer, DisableDefaultResponse: true, Command: zcl.CmdConfigureReporting}
	f, err := b.request(ctx, ieee, cluster, h, p, isCmd(zcl.FrameGlobal, zcl.CmdConfigureReportingRsp))
	if err != nil {
		return err
	}
	if f.Command == zcl.CmdDefaultRsp {
		_, st, _ := zcl.ParseDefaultRsp(f.Payload)
		return fmt.Errorf("refused: %s", st)
	}
	// A record status like UNREPORTABLE_ATTRIBUTE is not fatal: the state is then polled.
	if len(f.Payload) > 1 || (len(f.Payload) == 1 && f.Payload[0] != 0) {
		b.log.Info("zigbee: some attributes are not reportable", "ieee", ieee, "cluster", fmt.Sprintf("0x%04x", cluster), "rsp", fmt.Sprintf("%x", f.Payload))
	}
	return nil
}

// checkAvailability reads a Basic attribute from mains-powered devices that
// have been quiet for the availability interval.
func (b *Bridge) checkAvailability(ctx context.Context) {
	b.mu.Lock()
	every := b.cfg.availability()
	var due []string
	for id, r := range b.devices {
		if r.Interviewed && r.mains() && time.Since(b.lastSeen[id]) >= every && !b.interviewing[id] {
			due = append(due, id)
			b.lastSeen[id] = time.Now() // one check per interval
		}
	}
	b.mu.Unlock()
	for _, id := range due {
		b.goTracked(func() {
			cctx, cancel := context.WithTimeout(ctx, b.cfg.responseTimeout()+time.Second)
			defer cancel()
			if _, err := b.readAttributes(cctx, id, zcl.ClusterBasic, zcl.AttrZCLVersion); err != nil {
				b.log.Info("zigbee: availability check failed", "ieee", id, "err", err)
				return
			}
			b.setReachable(id, true)
		})
	}
}

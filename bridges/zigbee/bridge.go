package zigbee

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// Version is the bridge's version.
const Version = "0.1.0"

// Opener opens the serial port.
type Opener func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error)

// OpenSerial opens a serial port (raw 8N1, no flow control, exclusive): on
// Linux read through the runtime poller (openPolled), elsewhere or at a rate
// without a termios constant with go.bug.st/serial.
func OpenSerial(_ context.Context, path string, baud int) (io.ReadWriteCloser, error) {
	if p, ok, err := openPolled(path, baud); ok {
		return p, err
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("zigbee: open %s: %w", path, err)
	}
	return p, nil
}

// Option configures a Bridge.
type Option func(*Bridge)

// WithLogger sets the logger (slog.Default() otherwise).
func WithLogger(l *slog.Logger) Option { return func(b *Bridge) { b.log = l } }

// WithOpener replaces the serial port opener.
func WithOpener(o Opener) Option { return func(b *Bridge) { b.open = o } }

// WithTrace sees every MT frame the bridge writes (out) or reads.
func WithTrace(fn func(out bool, raw []byte)) Option { return func(b *Bridge) { b.trace = fn } }

// Bridge is the Zigbee bridge. It implements sdk.Bridge and sdk.Pairer.
type Bridge struct {
	log   *slog.Logger
	open  Opener
	trace func(out bool, raw []byte)

	cfg     Config
	dataDir string

	mu           sync.Mutex
	net          network
	devices      map[string]*record
	byNWK        map[uint16]string
	lastSeen     map[string]time.Time
	lastLink     map[string]model.Link // the link of each device's last frame (a device is published with it)
	busy         map[string]map[model.TraitKind]int
	news         map[string]uint64 // commands started and reports received per device (a refresh read before one is stale)
	watch        map[string]chan struct{}
	link         *mt.Client
	em           sdk.Emitter
	transID      uint8
	tsn          uint8
	wg           sync.WaitGroup
	runCtx       context.Context
	interviewing map[string]bool
	saveTimer    *time.Timer
	starting     bool          // the first startup has not finished yet
	linkChanged  chan struct{} // closed (and replaced) when link or starting changes
	coordAddr    uint64
	sirenGen     map[string]uint64 // bumped by each siren command: a newer one outlives an older warning
	window       sdk.PairingWindow // the pairing window, for progress reports
	storedAt     time.Time         // when the loaded database was saved: the states it holds are as of then

	// retryDelay is the pause before retrying a busy channel (2 s as herdsman).
	retryDelay time.Duration
	// lockWait is how long Execute waits for a lock's bolt before answering Accepted.
	lockWait time.Duration
	// reopenMax caps the reopen backoff.
	reopenMax time.Duration
	// testHookRefreshRead, when set (tests only, under mu), runs after a
	// refresh's reads and before their values are applied.
	testHookRefreshRead func(ieee string)
}

var (
	_ sdk.Bridge = (*Bridge)(nil)
	_ sdk.Pairer = (*Bridge)(nil)
)

// New returns an unconfigured bridge.
func New(opts ...Option) *Bridge {
	b := &Bridge{open: OpenSerial, devices: map[string]*record{}, byNWK: map[uint16]string{}, lastSeen: map[string]time.Time{}, lastLink: map[string]model.Link{},
		busy: map[string]map[model.TraitKind]int{}, news: map[string]uint64{}, watch: map[string]chan struct{}{}, interviewing: map[string]bool{}, sirenGen: map[string]uint64{},
		linkChanged: make(chan struct{}),
		retryDelay:  2 * time.Second, lockWait: 1500 * time.Millisecond, reopenMax: 30 * time.Second}
	b.window.Emitter = func() sdk.Emitter {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.em
	}
	for _, o := range opts {
		o(b)
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	return b
}

// Describe returns the bridge's manifest.
func (b *Bridge) Describe() sdk.Description {
	return sdk.Description{Name: "zigbee", Version: Version, APIVersions: []string{sdk.APIVersion}, Pairing: true,
		PairingProgress: true, Remove: true,
		ConfigSchema: json.RawMessage(ConfigSchema), SampleConfig: json.RawMessage(SampleConfig)}
}

// Configure reads the configuration and loads the device database.
func (b *Bridge) Configure(_ context.Context, c sdk.Config) error {
	cfg, err := ParseConfig(c.JSON)
	if err != nil {
		return err
	}
	if c.DataDir == "" {
		return errors.New("zigbee: a data directory is required for the device database")
	}
	db, err := loadDB(c.DataDir)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg, b.dataDir = cfg, c.DataDir
	if db.Network != nil && db.Network.valid() {
		b.net = *db.Network
	} else {
		if b.net, err = newNetwork(cfg.Channel, cfg.PANID); err != nil {
			return err
		}
		db.Network = &b.net
		if err := saveDB(c.DataDir, dbFile{Version: 1, Saved: db.Saved, Network: &b.net, Devices: db.Devices}); err != nil {
			return err
		}
	}
	b.storedAt = db.Saved
	for _, r := range db.Devices {
		if _, err := parseIEEE(r.IEEE); err != nil {
			b.log.Warn("zigbee: skipping bad device record", "ieee", r.IEEE)
			continue
		}
		r.stored = true
		b.devices[r.IEEE] = r
		b.byNWK[r.NWK] = r.IEEE
	}
	return nil
}

func parseIEEE(s string) (uint64, error) {
	var v uint64
	if len(s) != 16 {
		return 0, fmt.Errorf("ieee %q must have 16 hex digits", s)
	}
	_, err := fmt.Sscanf(s, "%016x", &v)
	return v, err
}

func formatIEEE(v uint64) string { return fmt.Sprintf("%016x", v) }

// persist writes the database. Call with b.mu held.
func (b *Bridge) persist() {
	db := dbFile{Version: 1, Saved: time.Now(), Network: &b.net}
	for _, r := range b.devices {
		c := *r
		c.State = r.State.Clone()
		db.Devices = append(db.Devices, &c)
	}
	sort.Slice(db.Devices, func(i, j int) bool { return db.Devices[i].IEEE < db.Devices[j].IEEE })
	if err := saveDB(b.dataDir, db); err != nil {
		b.log.Error("zigbee: cannot save device database", "err", err)
	}
}

// published returns the devices with traits. Call with b.mu held.
func (b *Bridge) published() []model.Device {
	var out []model.Device
	for _, r := range b.devices {
		if !r.Interviewed {
			continue
		}
		if ep, ok := r.endpoint(b.cfg.Names); ok {
			out = append(out, model.Device{Endpoint: ep, State: r.State.Clone(), Reachable: r.Reachable})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint.DeviceID < out[j].Endpoint.DeviceID })
	return out
}

// Run owns the serial link: it opens the port, starts the coordinator, serves
// its events, and on loss reports UNHEALTHY and reopens with backoff.
func (b *Bridge) Run(ctx context.Context, em sdk.Emitter) error {
	b.mu.Lock()
	b.em, b.runCtx = em, ctx
	b.starting = true
	devs := b.published()
	// The states are the database's until the devices are read again (below):
	// the hub keeps what the bridge reported after the last save (a process
	// killed between a device's change and its save) over them.
	for i := range devs {
		devs[i].StateAt = b.storedAt
	}
	b.storedAt = time.Time{}
	b.mu.Unlock()
	em.Health(model.Health{State: model.HealthStarting, Description: "opening the Zigbee coordinator"})
	em.Snapshot(devs)
	defer func() {
		// Save at once: the host gives a stopping plugin a short grace period
		// (2 s), and the goroutines below may take a moment to end. Then again
		// for what they changed.
		b.flush()
		b.wg.Wait()
		b.flush()
	}()
	reopen := backoff.Policy{Min: 250 * time.Millisecond, Max: b.reopenMax}
	failures := 0 // since the coordinator last came up
	for {
		healthy, err := b.session(ctx, em)
		b.setLink(nil, false)
		if ctx.Err() != nil {
			return nil
		}
		if healthy {
			failures = 0
		}
		failures++
		wait := reopen.Delay(failures)
		b.log.Warn("zigbee: coordinator link lost; reopening", "err", err, "retryIn", wait)
		em.Health(model.Health{State: model.HealthUnhealthy, Description: fmt.Sprintf("coordinator unavailable: %v", err)})
		if sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// session runs one open-startup-serve cycle; healthy says whether the coordinator came up.
func (b *Bridge) session(ctx context.Context, em sdk.Emitter) (bool, error) {
	port, err := b.open(ctx, b.cfg.Port, b.cfg.Baud)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	link := mt.New(port, mt.Options{Logger: b.log, Trace: b.trace})
	runErr := make(chan error, 1)
	go func() { runErr <- link.Run(sctx) }()
	defer func() {
		cancel()
		<-runErr
	}()
	co := &coordinator{c: link, log: b.log, port: port}
	b.mu.Lock()
	n := b.net
	b.mu.Unlock()
	// Events that arrive during startup (e.g. an unsolicited SYS_RESET_IND) are drained by the loop below.
	startErr := make(chan error, 1)
	go func() { startErr <- co.start(sctx, n) }()
	events := link.Events()
	started := false
	for !started {
		select {
		case err := <-startErr:
			if err != nil {
				return false, fmt.Errorf("coordinator startup: %w", err)
			}
			started = true
		case _, ok := <-events:
			if !ok {
				return false, link.Err()
			}
		}
	}
	b.setLink(link, false)
	b.log.Info("zigbee: coordinator up", "channel", n.Channel, "pan", fmt.Sprintf("0x%04x", n.PANID))
	em.Health(model.Health{State: model.HealthHealthy, Description: fmt.Sprintf("coordinator up on channel %d, PAN 0x%04x", n.Channel, n.PANID)})
	b.resumeInterviews()
	// Reports sent while the bridge or the stick was away are lost: re-read the devices.
	b.goTracked(func() { b.refreshAll(sctx) })
	tick := time.NewTicker(b.checkEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case f, ok := <-events:
			if !ok {
				return true, link.Err()
			}
			if f.Subsystem == unpi.SYS && f.Cmd == mt.SysResetInd {
				return true, errors.New("the stick reset itself")
			}
			b.handleEvent(sctx, f)
		case <-tick.C:
			b.checkAvailability(sctx)
		}
	}
}

func (b *Bridge) checkEvery() time.Duration {
	d := b.cfg.availability() / 4
	if d < 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	return d
}

// go runs fn in a goroutine the bridge waits for on Run's return.
func (b *Bridge) goTracked(fn func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
}

func (b *Bridge) handleEvent(ctx context.Context, f unpi.Frame) {
	d := f.Data
	switch {
	case f.Subsystem == unpi.AF && f.Cmd == mt.AfIncomingMsg:
		b.incoming(ctx, d)
	case f.Subsystem == unpi.ZDO && f.Cmd == mt.ZdoEndDeviceAnnceInd:
		if len(d) < 13 {
			b.log.Warn("zigbee: short device announce", "len", len(d))
			return
		}
		b.announce(ctx, binary.LittleEndian.Uint16(d[2:]), binary.LittleEndian.Uint64(d[4:]), d[12])
	case f.Subsystem == unpi.ZDO && f.Cmd == mt.ZdoTCDevInd:
		if len(d) >= 10 {
			ieee, nwk := formatIEEE(binary.LittleEndian.Uint64(d[2:])), binary.LittleEndian.Uint16(d)
			b.log.Info("zigbee: device joined", "ieee", ieee, "nwk", fmt.Sprintf("0x%04x", nwk))
			b.mu.Lock()
			r, known := b.devices[ieee]
			isNew := !known || !r.Interviewed
			b.mu.Unlock()
			if isNew {
				b.progress(model.PairingAnnounced, ieee, fmt.Sprintf("joined the network (short address 0x%04x)", nwk), nil)
			}
		}
	case f.Subsystem == unpi.ZDO && f.Cmd == mt.ZdoLeaveInd:
		if len(d) < 13 {
			return
		}
		ieee := formatIEEE(binary.LittleEndian.Uint64(d[2:]))
		if d[12] != 0 { // leaving to rejoin
			return
		}
		b.mu.Lock()
		_, ok := b.devices[ieee]
		b.mu.Unlock()
		if ok {
			b.log.Info("zigbee: device left the network", "ieee", ieee)
			b.forget(ieee)
		}
	case f.Subsystem == unpi.ZDO && f.Cmd == mt.ZdoPermitJoinInd:
		if len(d) >= 1 {
			b.log.Info("zigbee: permit join", "seconds", d[0])
		}
	}
}

// announce handles a device announce: a new device is interviewed, a known one
// gets its new short address.
func (b *Bridge) announce(ctx context.Context, nwk uint16, ieeeV uint64, caps uint8) {
	ieee := formatIEEE(ieeeV)
	b.mu.Lock()
	r, known := b.devices[ieee]
	if !known {
		r = &record{IEEE: ieee}
		b.devices[ieee] = r
	}
	if old, ok := b.byNWK[r.NWK]; ok && old == ieee && r.NWK != nwk {
		delete(b.byNWK, r.NWK)
	}
	r.NWK, r.Capabilities = nwk, caps
	b.byNWK[nwk] = ieee
	b.lastSeen[ieee] = time.Now()
	needInterview := !r.Interviewed && !b.interviewing[ieee]
	if needInterview {
		b.interviewing[ieee] = true
	}
	// A known device announces after a power cycle or a rejoin: its state may
	// have changed (a bulb switched at the wall comes back on), so read it.
	needRefresh := r.Interviewed && !b.interviewing[ieee]
	b.persist()
	b.mu.Unlock()
	b.log.Info("zigbee: device announced", "ieee", ieee, "nwk", fmt.Sprintf("0x%04x", nwk), "known", known)
	b.setReachable(ieee, true)
	switch {
	case needInterview:
		b.progress(model.PairingAnnounced, ieee, fmt.Sprintf("announced itself (short address 0x%04x)", nwk), nil)
		b.goTracked(func() { b.interview(ctx, ieee) })
	case needRefresh:
		b.goTracked(func() { b.refresh(ctx, ieee) })
	}
}

// resumeInterviews restarts interviews that a restart or link loss interrupted.
func (b *Bridge) resumeInterviews() {
	b.mu.Lock()
	var todo []string
	for id, r := range b.devices {
		if !r.Interviewed && !b.interviewing[id] {
			b.interviewing[id] = true
			todo = append(todo, id)
		}
	}
	ctx := b.runCtx
	b.mu.Unlock()
	for _, id := range todo {
		b.goTracked(func() { b.interview(ctx, id) })
	}
}

func (b *Bridge) setReachable(ieee string, ok bool) {
	b.mu.Lock()
	r := b.devices[ieee]
	if r == nil || r.Reachable == ok {
		b.mu.Unlock()
		return
	}
	r.Reachable = ok
	b.persistSoon()
	pub := r.published()
	em := b.em
	b.mu.Unlock()
	if pub && em != nil {
		b.log.Info("zigbee: reachability changed", "ieee", ieee, "reachable", ok)
		em.Reachability(ieee, ok)
	}
}

// incoming handles AF_INCOMING_MSG: reports and lock events become state changes,
// and unicast frames that ask for it get a Default Response.
func (b *Bridge) incoming(ctx context.Context, d []byte) {
	m, err := parseIncoming(d)
	if err != nil {
		b.log.Warn("zigbee: bad AF_INCOMING_MSG", "err", err)
		return
	}
	now := time.Now()
	b.mu.Lock()
	ieee, ok := b.byNWK[m.src]
	var r *record
	pub := false
	q := model.LinkQualityPercent(int(m.lqi))
	link := model.Link{Quality: &q, LastSeen: now}
	if ok {
		r = b.devices[ieee]
		b.lastSeen[ieee] = now
		pub = r != nil && r.published()
		if r != nil {
			b.lastLink[ieee] = link // an interview's frames too: the device is published with it
		}
	}
	em := b.em
	b.mu.Unlock()
	if r == nil {
		b.log.Debug("zigbee: message from unknown device", "nwk", fmt.Sprintf("0x%04x", m.src))
		return
	}
	if em != nil && pub { // a device that is no endpoint (a remote) has no page to show it on
		// The page's "Signal 78 %, last seen just now" (the SDK sends it on when it moved).
		em.Link(ieee, link)
	}
	f, err := zcl.Parse(m.data)
	if err != nil {
		b.log.Warn("zigbee: bad ZCL frame", "ieee", ieee, "err", err)
		return
	}
	b.setReachable(ieee, true)
	if f.Direction == zcl.ServerToClient {
		switch {
		case f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdReportAttributes:
			attrs, err := zcl.ParseAttributes(f.Payload)
			if err != nil {
				b.log.Warn("zigbee: bad attribute report", "ieee", ieee, "err", err)
			}
			b.applyAttributes(ieee, m.cluster, attrs, model.CausePhysical)
		case f.FrameType == zcl.FrameCluster && m.cluster == zcl.ClusterIASZone && f.Command == zcl.CmdZoneStatusChangeNotification:
			z, err := zcl.ParseZoneStatusChange(f.Payload)
			if err != nil {
				b.log.Warn("zigbee: bad zone status change notification", "ieee", ieee, "err", err)
				break
			}
			b.applyAttributes(ieee, zcl.ClusterIASZone, []zcl.Attribute{{ID: zcl.AttrZoneStatus, Value: zcl.U(zcl.TypeBitmap16, uint64(z.Status))}}, model.CausePhysical)
		case f.FrameType == zcl.FrameCluster && m.cluster == zcl.ClusterDoorLock && f.Command == zcl.CmdOperationEventNotification:
			ev, err := zcl.ParseOperationEvent(f.Payload)
			if err != nil {
				b.log.Warn("zigbee: bad lock operation event", "ieee", ieee, "err", err)
				break
			}
			var ls int64 = -1
			switch ev.EventCode {
			case 1, 7, 8, 10, 11, 13:
				ls = zcl.LockStateLocked
			case 2, 9, 12, 14:
				ls = zcl.LockStateUnlocked
			}
			if ls >= 0 {
				b.applyAttributes(ieee, zcl.ClusterDoorLock, []zcl.Attribute{{ID: zcl.AttrLockState, Value: zcl.U(zcl.TypeEnum8, uint64(ls))}}, model.CausePhysical)
			}
		}
	}
	// An IAS zone asking to be enrolled gets its Zone Enroll Response (its
	// answer, so no Default Response).
	enrollReq := f.Direction == zcl.ServerToClient && f.FrameType == zcl.FrameCluster && m.cluster == zcl.ClusterIASZone && f.Command == zcl.CmdZoneEnrollRequest
	if enrollReq {
		if _, err := zcl.ParseZoneEnrollRequest(f.Payload); err != nil {
			b.log.Warn("zigbee: bad zone enroll request", "ieee", ieee, "err", err)
			return
		}
		rsp, src := enrollResponse(f.TSN), m.srcEP
		b.goTracked(func() {
			if err := b.sendRaw(ctx, m.src, src, zcl.ClusterIASZone, rsp); err != nil {
				b.log.Debug("zigbee: zone enroll response not delivered", "ieee", ieee, "err", err)
			}
		})
		return
	}
	// Default Response: for unicast frames without disable-default-response, except Default Responses.
	if !m.broadcast && !f.DisableDefaultResponse && !(f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdDefaultRsp) {
		dir := uint8(zcl.ClientToServer)
		if f.Direction == zcl.ClientToServer {
			dir = zcl.ServerToClient
		}
		h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: dir, DisableDefaultResponse: true, TSN: f.TSN, Command: zcl.CmdDefaultRsp,
			ManufacturerSpecific: f.ManufacturerSpecific, ManufacturerCode: f.ManufacturerCode}
		frame := zcl.Frame{Header: h, Payload: zcl.DefaultRsp(f.Command, zcl.StatusSuccess)}
		src, cluster := m.srcEP, m.cluster
		b.goTracked(func() {
			if err := b.sendRaw(ctx, m.src, src, cluster, frame.Marshal()); err != nil {
				b.log.Debug("zigbee: default response not delivered", "ieee", ieee, "err", err)
			}
		})
	}
}

// applyAttributes folds attribute values into a device's state and, unless
// cause is empty, reports the fields that changed with that cause (unless a
// command for that trait is in flight: then the change is its echo).
func (b *Bridge) applyAttributes(ieee string, cluster uint16, attrs []zcl.Attribute, cause model.Cause) {
	b.applyAttributeSets(ieee, []attrSet{{cluster: cluster, attrs: attrs}}, cause)
}

// attrSet is attribute values of one cluster.
type attrSet struct {
	cluster uint16
	attrs   []zcl.Attribute
}

// applyAttributeSets is applyAttributes for values of several clusters,
// reported as one state change.
func (b *Bridge) applyAttributeSets(ieee string, sets []attrSet, cause model.Cause) {
	b.applyAttributeSetsIf(ieee, sets, cause, false, nil)
}

// applyAttributeSetsIf is applyAttributeSets when still (called with b.mu
// held) accepts; nil always does. full says the sets are a whole read of the
// device's state: from then on the device's state is no longer the
// database's (record.stored).
func (b *Bridge) applyAttributeSetsIf(ieee string, sets []attrSet, cause model.Cause, full bool, still func() bool) {
	b.mu.Lock()
	r := b.devices[ieee]
	if r == nil || (still != nil && !still()) {
		b.mu.Unlock()
		return
	}
	if cause == model.CausePhysical {
		b.news[ieee]++ // a report from the device: newer than any read under way
	}
	var changed model.State
	anyChange := false
	for _, set := range sets {
		for _, a := range set.attrs {
			ch, ok := r.applyAttribute(&r.State, set.cluster, a)
			if !ok {
				continue
			}
			dch := model.DiffState(r.State, ch)
			r.State = r.State.Merge(ch)
			if r.stored {
				dch = ch // what the device says, not what differs from the database
			}
			changed = changed.Merge(dch)
			anyChange = anyChange || !dch.IsZero()
		}
	}
	if full {
		r.stored = false
	}
	if !anyChange {
		b.mu.Unlock()
		return
	}
	if w, ok := b.watch[ieee]; ok {
		close(w)
		delete(b.watch, ieee)
	}
	suppress := false
	for _, k := range changed.Kinds() {
		if b.busy[ieee][k] > 0 {
			suppress = true
		}
	}
	_, pub := r.endpoint(b.cfg.Names)
	pub = pub && r.Interviewed
	em := b.em
	b.persistSoon()
	b.mu.Unlock()
	if cause != "" && pub && !suppress && em != nil {
		em.StateChanged(ieee, changed, cause)
	}
}

// flush saves the database now, replacing a pending persistSoon.
func (b *Bridge) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.saveTimer != nil {
		b.saveTimer.Stop()
		b.saveTimer = nil
	}
	b.persist()
}

// persistSoon saves the database after state changes, coalescing bursts
// (every save is an fsync: a report storm must not become a write storm on an
// SD card). A crash can lose the last 500 ms of changes; the refresh after the
// next start reads the devices again. Call with b.mu held.
func (b *Bridge) persistSoon() {
	if b.saveTimer != nil {
		return
	}
	b.saveTimer = time.AfterFunc(500*time.Millisecond, func() {
		b.mu.Lock()
		b.saveTimer = nil
		b.persist()
		b.mu.Unlock()
	})
}

// changes returns a channel closed at the device's next state change.
func (b *Bridge) changes(ieee string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, ok := b.watch[ieee]
	if !ok {
		w = make(chan struct{})
		b.watch[ieee] = w
	}
	return w
}

type incomingMsg struct {
	cluster   uint16
	src       uint16
	srcEP     uint8
	dstEP     uint8
	broadcast bool
	lqi       uint8 // the link quality the coordinator received the frame with
	data      []byte
}

// parseIncoming decodes AF_INCOMING_MSG, reading the data by its length field.
func parseIncoming(d []byte) (incomingMsg, error) {
	if len(d) < 17 {
		return incomingMsg{}, fmt.Errorf("AF_INCOMING_MSG of %d bytes", len(d))
	}
	n := int(d[16])
	if len(d) < 17+n {
		return incomingMsg{}, fmt.Errorf("AF_INCOMING_MSG data length %d exceeds the frame", n)
	}
	return incomingMsg{cluster: binary.LittleEndian.Uint16(d[2:]), src: binary.LittleEndian.Uint16(d[4:]), srcEP: d[6], dstEP: d[7],
		broadcast: d[8] != 0, lqi: d[9], data: d[17 : 17+n]}, nil
}

// StartPairing opens the network for joining for d (at most 254 s).
func (b *Bridge) StartPairing(ctx context.Context, d time.Duration) error {
	link := b.awaitLink(ctx)
	if link == nil {
		return model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	secs := int(d.Round(time.Second) / time.Second)
	secs = max(1, min(secs, 254))
	req := []byte{0x0F, 0xFC, 0xFF, byte(secs), 1}
	// Reported before the request: the first device may join right after it.
	b.pairingWindow(time.Duration(secs) * time.Second)
	rsp, err := link.Request(ctx, unpi.ZDO, mt.ZdoMgmtPermitJoinReq, req, 0)
	if err == nil {
		err = statusErr("permit join", rsp)
	}
	if err != nil {
		b.closeWindow("the coordinator did not open the network: " + err.Error())
		return fmt.Errorf("zigbee: open the network for joining: %w", err)
	}
	b.log.Info("zigbee: network open for joining", "seconds", secs)
	return nil
}

// setLink publishes the coordinator link (nil when down) and wakes waiters.
func (b *Bridge) setLink(l *mt.Client, starting bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.link, b.starting = l, starting
	close(b.linkChanged)
	b.linkChanged = make(chan struct{})
}

// awaitLink returns the link; during the first startup it waits for it (until ctx ends).
func (b *Bridge) awaitLink(ctx context.Context) *mt.Client {
	for {
		b.mu.Lock()
		l, st, ch := b.link, b.starting, b.linkChanged
		b.mu.Unlock()
		if l != nil || !st {
			return l
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

func (b *Bridge) currentLink() *mt.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.link
}

// State returns a device's last known state.
func (b *Bridge) State(ctx context.Context, deviceID string) (model.State, error) {
	b.awaitLink(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.devices[deviceID]
	if !ok || !r.Interviewed {
		return model.State{}, model.Errorf(model.ErrNotSupported, "no Zigbee device %q", deviceID)
	}
	if b.link == nil {
		return model.State{}, model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	if !r.Reachable {
		return model.State{}, model.Errorf(model.ErrUnreachable, "the device does not answer")
	}
	return r.State.Clone(), nil
}

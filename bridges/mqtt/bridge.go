package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/internal/cleanstore"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// Version is the bridge's version, reported in its manifest.
const Version = "0.1.0"

// Timing defaults; tests shorten them.
const (
	defaultSettle       = 300 * time.Millisecond // quiet time before the snapshot when no sync marker is on its way
	defaultSettleMax    = 3 * time.Second        // the snapshot waits at most this long for retained messages (no sync marker)
	defaultSyncMax      = 60 * time.Second       // ... and at most this long for the sync marker to come back
	defaultStartupWait  = 5 * time.Second        // snapshot even if the broker cannot be reached
	defaultGetDelay     = 1 * time.Second        // /get for devices without state, after settling
	getBatch            = 20                     // /get requests sent at once ...
	getPace             = 250 * time.Millisecond // ... and the pause before the next ones
	defaultReconnectMax = 10 * time.Second
	defaultPublishWait  = 5 * time.Second
	maxQueuedMessages   = 100000
	subscribeWait       = 10 * time.Second
)

// Bridge is the MQTT bridge: zigbee2mqtt devices and Home Assistant MQTT
// discovery entities on one broker, as avshub endpoints. It implements
// sdk.Bridge.
type Bridge struct {
	log *slog.Logger
	bad *onceLog

	cfg *settings
	z2m *z2mSource
	ha  *haSource

	// timing (tests shorten these)
	settle, settleMax, syncMax, startupWait, getDelay, reconnectMax, requestWait time.Duration

	// syncTopic is the marker the bridge publishes to itself after
	// subscribing: the broker sends it after every retained message of the
	// subscriptions made before it (a 20 MB bridge/devices included), so its
	// return means the retained state has been read. syncSeq numbers the
	// markers (the payload); syncSubs is subSeq when the last one was sent.
	// subSeq counts the subscriptions to entity topics (reconcile): one made
	// after the marker was sent has retained messages the marker does not
	// vouch for, so another marker follows it (Run).
	syncTopic                 string
	syncSeq, syncSubs, subSeq uint64

	q      *queue
	client paho.Client

	// runCtx and em are Run's, for commands that complete after Execute
	// answered (Accepted); bg tracks those completions.
	runCtx context.Context
	em     sdk.Emitter
	bg     sync.WaitGroup

	mu           sync.Mutex
	connected    bool
	view         map[string]*unit
	emitted      map[string]model.Device
	snapshotSent bool
	waiters      map[string][]chan struct{}
	inflight     map[string]int
	subscribed   map[string]bool

	// Pairing and removal through zigbee2mqtt's bridge requests (pairing.go).
	window    sdk.PairingWindow
	reqSeq    uint64
	responses map[string]chan z2mResponse // by transaction
	joining   map[string]bool             // ieee addresses joining, until interviewed
	after     []func()                    // run once the current batch is emitted
}

var _ sdk.Bridge = (*Bridge)(nil)

// New returns an unconfigured bridge logging to log (slog.Default() if nil).
func New(log *slog.Logger) *Bridge {
	if log == nil {
		log = slog.Default()
	}
	b := &Bridge{log: log, bad: newOnceLog(log), settle: defaultSettle, settleMax: defaultSettleMax, syncMax: defaultSyncMax,
		startupWait: defaultStartupWait, getDelay: defaultGetDelay, reconnectMax: defaultReconnectMax, requestWait: defaultRequestWait,
		view: map[string]*unit{}, emitted: map[string]model.Device{}, waiters: map[string][]chan struct{}{},
		inflight: map[string]int{}, subscribed: map[string]bool{}, responses: map[string]chan z2mResponse{}, joining: map[string]bool{}}
	b.window.Emitter = func() sdk.Emitter {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.em
	}
	return b
}

// Describe returns the bridge's manifest.
func (b *Bridge) Describe() sdk.Description {
	return sdk.Description{Name: "mqtt", Version: Version, APIVersions: []string{sdk.APIVersion},
		Pairing: true, PairingProgress: true, Remove: true, ConfigSchema: ConfigSchema, SampleConfig: SampleConfig}
}

// Configure parses the configuration. It does not connect (Run does).
func (b *Bridge) Configure(_ context.Context, cfg sdk.Config) error {
	s, err := parseConfig(cfg.JSON)
	if err != nil {
		return err
	}
	b.cfg = s
	if s.z2m {
		b.z2m = newZ2MSource(s.z2mBase, b.bad)
		b.z2m.remotes = s.remotes
	}
	if s.ha {
		b.ha = newHASource(s.haPrefix, b.bad, b.log)
		b.ha.dup = b.bridgedByZ2M
	}
	return nil
}

// bridgedByZ2M reports whether an HA entity is one of zigbee2mqtt's own
// discovery entities for a device the zigbee2mqtt source already handles.
func (b *Bridge) bridgedByZ2M(e *haEntity) bool {
	if b.z2m == nil {
		return false
	}
	for _, id := range e.device.ids {
		if ieee, ok := strings.CutPrefix(id, "zigbee2mqtt_"); ok && b.z2m.knows(ieee) {
			return true
		}
	}
	for _, c := range e.device.conns {
		if strings.EqualFold(c[0], "zigbee") && b.z2m.knows(c[1]) {
			return true
		}
	}
	for _, s := range e.subs {
		if strings.HasPrefix(s.topic, b.cfg.z2mBase+"/") {
			return true
		}
	}
	return false
}

// Skipped lists what the bridge saw but does not bridge, with the reasons.
func (b *Bridge) Skipped() []Skip {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Skip
	if b.z2m != nil {
		for _, s := range b.z2m.skips {
			if s.Reason != "coordinator" {
				out = append(out, s)
			}
		}
	}
	if b.ha != nil {
		for _, s := range b.ha.skips {
			out = append(out, s)
		}
		for _, s := range b.ha.loose {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Source+out[i].ID+out[i].Reason < out[j].Source+out[j].ID+out[j].Reason
	})
	return out
}

func (b *Bridge) redactedBroker() string {
	u, err := url.Parse(b.cfg.broker)
	if err != nil {
		return "the broker"
	}
	return u.Redacted()
}

// Run connects to the broker and bridges until ctx ends.
func (b *Bridge) Run(ctx context.Context, em sdk.Emitter) error {
	if b.cfg == nil {
		return errors.New("mqtt bridge: Run before Configure")
	}
	em.Health(model.Health{State: model.HealthStarting, Description: "connecting to " + b.redactedBroker()})
	b.q = newQueue(maxQueuedMessages)
	o := paho.NewClientOptions().AddBroker(b.cfg.broker).SetClientID(b.cfg.clientID).
		SetUsername(b.cfg.username).SetPassword(b.cfg.password).
		SetCleanSession(true).SetOrderMatters(true).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(250 * time.Millisecond).SetMaxReconnectInterval(b.reconnectMax).
		SetConnectTimeout(10 * time.Second).SetKeepAlive(30 * time.Second).SetPingTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).SetStore(cleanstore.New())
	if b.cfg.tls != nil {
		o.SetTLSConfig(b.cfg.tls)
	}
	// paho's callbacks only hand work to the worker below; they never block.
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		b.q.push(item{kind: itemMessage, topic: m.Topic(), payload: m.Payload(), retained: m.Retained()}) // drops are reported by the worker
	})
	o.SetOnConnectHandler(func(paho.Client) { b.q.push(item{kind: itemConnected}) })
	o.SetConnectionLostHandler(func(_ paho.Client, err error) { b.q.push(item{kind: itemLost, err: err}) })
	o.SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
		if f, ok := n.(paho.ConnectionNotificationFailed); ok {
			b.q.push(item{kind: itemConnectFailed, err: f.Reason})
		}
	})
	b.client = paho.NewClient(o)
	b.mu.Lock()
	b.runCtx, b.em = ctx, em
	if b.z2m != nil {
		b.z2m.abort = func() bool { return ctx.Err() != nil }
	}
	b.mu.Unlock()
	b.client.Connect() // retries in the background; OnConnect reports success
	defer func() {
		b.mu.Lock()
		b.connected = false
		b.em = nil
		b.mu.Unlock()
		b.bg.Wait() // completions end with ctx
		b.client.Disconnect(250)
	}()

	startup := time.NewTimer(b.startupWait)
	defer startup.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	getT := time.NewTimer(time.Hour)
	getT.Stop()
	defer getT.Stop()
	// release returns pressed remotes (opted into Alexa) to clear.
	release := time.NewTimer(time.Hour)
	release.Stop()
	defer release.Stop()
	armRelease := func() {
		if b.z2m == nil {
			return
		}
		b.mu.Lock()
		at, ok := b.z2m.nextRelease()
		b.mu.Unlock()
		if ok {
			release.Reset(max(time.Until(at), 0))
		}
	}
	var settleDeadline time.Time
	settling, synced, markerBack := false, false, false
	lastFailure := ""

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-startup.C:
			if !settling {
				b.sendSnapshot(em, false) // the broker cannot be reached: report the devices as unreachable
				b.runAfter()
			}
		case <-settle.C:
			if !synced && time.Now().Before(settleDeadline) {
				settle.Reset(b.settle) // the retained messages are still coming
				continue
			}
			settling = false
			b.sendSnapshot(em, false)
			b.runAfter()
			getT.Reset(b.getDelay)
		case <-getT.C:
			if b.requestMissingState(ctx) {
				getT.Reset(getPace)
			}
		case <-release.C:
			b.mu.Lock()
			ids := b.z2m.releasePresses(time.Now())
			b.mu.Unlock()
			b.reconcile(ctx, em, ids)
			armRelease()
		case <-b.q.notify:
			items, dropped := b.q.drain()
			if len(items) == 0 && dropped == 0 {
				// A wake-up whose items the last batch took (push signals
				// after each item): nothing changed, and a reconcile would
				// rebuild the whole view for nothing (with 5,000 devices the
				// one right after the first snapshot was the import's peak).
				continue
			}
			if dropped > 0 {
				b.bad.warn("mqtt queue", fmt.Sprintf("dropped %d messages: the bridge cannot keep up", dropped))
			}
			var touched []string
			for i := range items {
				it := &items[i]
				switch it.kind {
				case itemConnected:
					lastFailure = ""
					synced = !b.onConnected(ctx, em)
					settling = true
					settleDeadline = time.Now().Add(b.settleMax)
					if !synced {
						settleDeadline = time.Now().Add(b.syncMax)
					}
					settle.Reset(b.settle)
				case itemLost:
					b.mu.Lock()
					b.connected = false
					b.subscribed = map[string]bool{}
					b.mu.Unlock()
					em.Health(model.Health{State: model.HealthUnhealthy,
						Description: fmt.Sprintf("lost the connection to %s (%v); reconnecting", b.redactedBroker(), it.err)})
					b.log.Warn("mqtt: broker connection lost; reconnecting", "broker", b.redactedBroker(), "err", it.err)
				case itemConnectFailed:
					b.mu.Lock()
					up := b.connected
					b.mu.Unlock()
					if !up {
						desc := fmt.Sprintf("cannot connect to %s: %v; retrying", b.redactedBroker(), it.err)
						if desc != lastFailure {
							lastFailure = desc
							em.Health(model.Health{State: model.HealthUnhealthy, Description: desc})
							b.log.Warn("mqtt: cannot connect to the broker; retrying", "broker", b.redactedBroker(), "err", it.err)
						}
					}
				case itemMessage:
					if it.topic == b.syncTopic {
						if settling && !synced && string(it.payload) == b.syncPayload() {
							markerBack = true
						}
						continue
					}
					touched = append(touched, b.consume(it)...)
					if b.z2m != nil && it.topic == b.cfg.z2mBase+"/bridge/devices" && !settling && b.snapshotSent {
						getT.Reset(b.getDelay) // new devices may have no state yet
					}
					if settling && it.retained && time.Now().Before(settleDeadline) {
						settle.Reset(b.settle)
					}
				}
			}
			b.reconcile(ctx, em, touched)
			if markerBack {
				// Every retained message of the subscriptions made before
				// the marker was sent has been handled (reconcile included,
				// which may have subscribed to entity topics).
				markerBack = false
				if b.subSeq == b.syncSubs {
					synced, settling = true, false
					settle.Stop()
					b.sendSnapshot(em, true) // the view reconcile has just collected
					getT.Reset(b.getDelay)
				} else {
					b.sendSync() // entity topics subscribed since: their retained state comes before the next marker
				}
			}
			b.runAfter()
			armRelease()
		}
	}
}

// sendSync publishes the next sync marker (Run's goroutine only).
func (b *Bridge) sendSync() {
	b.syncSeq++
	b.syncSubs = b.subSeq
	b.client.Publish(b.syncTopic, 1, false, []byte(b.syncPayload())) // not waited for: the worker must not block
}

func (b *Bridge) syncPayload() string { return "sync " + strconv.FormatUint(b.syncSeq, 10) }

// onConnected subscribes and publishes the sync marker; it reports whether
// the marker is on its way.
func (b *Bridge) onConnected(ctx context.Context, em sdk.Emitter) bool {
	filters := map[string]byte{}
	if b.z2m != nil {
		filters[b.cfg.z2mBase+"/#"] = 1
	}
	if b.ha != nil {
		filters[b.cfg.haPrefix+"/#"] = 1
	}
	b.mu.Lock()
	b.subscribed = map[string]bool{}
	if b.z2m != nil {
		b.z2m.reconnected()
	}
	b.mu.Unlock()
	if err := b.subscribe(ctx, filters); err != nil {
		em.Health(model.Health{State: model.HealthUnhealthy, Description: "subscribe failed: " + err.Error()})
		b.log.Error("mqtt: subscribe failed", "err", err)
		return false
	}
	// Under a source's own filter, so no further subscription (or ACL
	// entry) is needed; zigbee2mqtt ignores topics that are not /set or /get.
	base := b.cfg.haPrefix
	if b.z2m != nil {
		base = b.cfg.z2mBase
	}
	b.syncTopic = base + "/avshub-sync/" + b.cfg.clientID
	b.sendSync()
	b.mu.Lock()
	b.connected = true
	b.mu.Unlock()
	b.log.Info("mqtt: connected", "broker", b.redactedBroker())
	em.Health(model.Health{State: model.HealthHealthy, Description: "connected to " + b.redactedBroker()})
	return true
}

func (b *Bridge) subscribe(ctx context.Context, filters map[string]byte) error {
	// A broker may refuse some filters of a SUBSCRIBE (mochi 2.7 answers 0x91
	// "packet identifier in use" when the id collides with one of its own
	// in-flight publishes); those are retried a few times.
	pending := filters
	for attempt := 1; len(pending) > 0; attempt++ {
		refused, err := b.subscribeOnce(ctx, pending)
		if err != nil {
			return err
		}
		if len(refused) == 0 {
			return nil
		}
		if attempt == 5 {
			return fmt.Errorf("the broker refused the subscription to %d topics (reason codes %v)", len(refused), refused)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
		next := map[string]byte{}
		for f := range refused {
			next[f] = pending[f]
		}
		pending = next
	}
	return nil
}

// subscribeOnce sends one SUBSCRIBE and returns the filters the broker refused.
func (b *Bridge) subscribeOnce(ctx context.Context, filters map[string]byte) (map[string]byte, error) {
	t := b.client.SubscribeMultiple(filters, nil)
	wait := subscribeWait
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	if !t.WaitTimeout(wait) {
		return nil, fmt.Errorf("no SUBACK within %s", wait)
	}
	if err := t.Error(); err != nil {
		return nil, err
	}
	refused := map[string]byte{}
	if st, ok := t.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code >= 0x80 {
				refused[f] = code
			}
		}
	}
	b.mu.Lock()
	for f := range filters {
		if _, bad := refused[f]; !bad {
			b.subscribed[f] = true
		}
	}
	b.mu.Unlock()
	return refused, nil
}

// A payload of bigPayload bytes or more (zigbee2mqtt's bridge/devices of a
// big installation: 17 MB for every device zigbee2mqtt knows) is handled with
// the garbage collector at tightGCPercent and collected as soon as it is done.
// Such a payload is live until its last device is parsed and dominates the
// heap: at the GOGC=50 the hub gives the bridge the collector would let half
// of it again pile up as garbage, and after it the heap goal would still
// count it. It holds no pointers, so the extra cycles mark only what was
// built from it (BenchmarkImportDeviceList: the peak RSS).
const (
	bigPayload     = 4 << 20
	tightGCPercent = 25
)

// consume feeds one message to the sources (onMessage) and drops its payload.
func (b *Bridge) consume(it *item) []string {
	if len(it.payload) < bigPayload {
		touched := b.onMessage(*it)
		it.payload = nil
		return touched
	}
	restore := tightGC()
	touched := b.onMessage(*it)
	it.payload = nil
	runtime.GC()
	restore()
	return touched
}

// tightGC lowers the GC percentage to tightGCPercent and returns what undoes
// it; it leaves a lower setting (or the collector off) alone.
func tightGC() (restore func()) {
	old := debug.SetGCPercent(tightGCPercent)
	if old < tightGCPercent {
		debug.SetGCPercent(old)
		return func() {}
	}
	return func() { debug.SetGCPercent(old) }
}

// onMessage feeds one message to the sources and returns the device ids whose
// state it touched.
func (b *Bridge) onMessage(it item) []string {
	if len(it.payload) > b.cfg.maxMessage {
		b.bad.warn("topic "+it.topic, fmt.Sprintf("message of %d bytes is larger than maxMessageBytes (%d)", len(it.payload), b.cfg.maxMessage))
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var touched []string
	if b.z2m != nil && strings.HasPrefix(it.topic, b.cfg.z2mBase+"/") {
		b.z2m.retained = it.retained
		touched = append(touched, b.z2m.handle(it.topic, it.payload)...)
		b.z2m.retained = false
		if rest := it.topic[len(b.cfg.z2mBase)+1:]; strings.HasPrefix(rest, "bridge/") {
			b.onBridgeTopic(rest, it.payload)
		}
	}
	if b.ha != nil {
		_, keys := b.ha.handle(it.topic, it.payload)
		for _, k := range keys {
			touched = append(touched, "ha-entity:"+k)
		}
	}
	return touched
}

// collect computes the bridged device set from both sources. b.mu is held.
func (b *Bridge) collect() map[string]*unit {
	out := map[string]*unit{}
	if b.z2m != nil {
		for _, u := range b.z2m.units() {
			out[u.dev.Endpoint.DeviceID] = u
		}
	}
	if b.ha != nil {
		for _, u := range b.ha.units() {
			if _, dup := out[u.dev.Endpoint.DeviceID]; !dup {
				out[u.dev.Endpoint.DeviceID] = u
			}
		}
	}
	if !b.connected {
		for _, u := range out {
			u.dev.Reachable = false
		}
	}
	return out
}

func sortedDevices(m map[string]*unit) []model.Device {
	out := make([]model.Device, 0, len(m))
	for _, u := range m {
		out = append(out, u.dev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint.DeviceID < out[j].Endpoint.DeviceID })
	return out
}

// sendSnapshot sends the first snapshot: of b.view as it is when current
// (reconcile has just collected it: a second collect of a big installation
// would only double the snapshot's garbage), else of a fresh collect.
func (b *Bridge) sendSnapshot(em sdk.Emitter, current bool) {
	b.mu.Lock()
	if b.snapshotSent {
		b.mu.Unlock()
		return
	}
	b.snapshotSent = true
	if !current {
		b.view = b.collect()
	}
	devs := sortedDevices(b.view)
	for _, d := range devs {
		b.emitted[d.Endpoint.DeviceID] = cloneDevice(d)
	}
	b.mu.Unlock()
	em.Snapshot(devs)
}

// reconcile recomputes the device set, emits what changed since the last
// emission and wakes commands waiting for the devices touched.
func (b *Bridge) reconcile(ctx context.Context, em sdk.Emitter, touched []string) {
	b.mu.Lock()
	b.view = b.collect()
	var events []func()
	if b.snapshotSent {
		// By id, without a sorted copy of the whole view: with 5,000
		// devices that copy and a fresh clone of every device into emitted
		// were 6 MB of garbage per batch, and the batch after the first
		// snapshot was the import's peak RSS (BENCHMARKS.md).
		ids := make([]string, 0, len(b.view))
		for id := range b.view {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			d := b.view[id].dev
			old, ok := b.emitted[id]
			if ok && d.Reachable == old.Reachable && reflect.DeepEqual(old.State, d.State) &&
				reflect.DeepEqual(old.Link, d.Link) && reflect.DeepEqual(old.Endpoint, d.Endpoint) {
				continue // unchanged: emitted already holds an equal copy
			}
			switch {
			case !ok || !reflect.DeepEqual(old.Endpoint, d.Endpoint):
				dc := cloneDevice(d)
				events = append(events, func() { em.Upsert(dc) })
			default:
				if ch := model.DiffState(old.State, d.State); !ch.IsZero() {
					cause := model.CausePhysical
					if b.inflight[id] > 0 {
						// The device echoing a command the hub sent.
						cause = model.CauseAlexa
					}
					st := ch
					events = append(events, func() { em.StateChanged(id, st, cause) })
				}
				if old.Reachable != d.Reachable {
					r := d.Reachable
					events = append(events, func() { em.Reachability(id, r) })
				}
				if d.Link != nil && !reflect.DeepEqual(old.Link, d.Link) {
					l := *d.Link.Clone()
					events = append(events, func() { em.Link(id, l) })
				}
			}
			b.emitted[id] = cloneDevice(d)
		}
		var gone []string
		for id := range b.emitted {
			if _, ok := b.view[id]; !ok {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			delete(b.emitted, id)
			events = append(events, func() { em.Remove(id) })
		}
	}
	// Wake waiters of the devices whose state topics spoke.
	woken := map[string]bool{}
	for _, t := range touched {
		id := t
		if k, ok := strings.CutPrefix(t, "ha-entity:"); ok {
			id = b.ha.owner[k]
		}
		if woken[id] {
			continue
		}
		woken[id] = true
		for _, w := range b.waiters[id] {
			select {
			case w <- struct{}{}:
			default:
			}
		}
	}
	newTopics := map[string]byte{}
	var stale []string
	if b.ha != nil && b.connected {
		needed := map[string]bool{}
		for _, t := range b.ha.topics() {
			needed[t] = true
			if !b.subscribed[t] && !b.covered(t) {
				newTopics[t] = 1
			}
		}
		for t := range b.subscribed {
			if !needed[t] && !b.isSourceFilter(t) {
				stale = append(stale, t)
				delete(b.subscribed, t)
			}
		}
	}
	b.mu.Unlock()
	for _, e := range events {
		e()
	}
	if len(newTopics) > 0 {
		b.subSeq++
		if err := b.subscribe(ctx, newTopics); err != nil {
			b.log.Warn("mqtt: subscribing to entity topics failed", "err", err)
		}
	}
	if len(stale) > 0 {
		// Entities went away: stop receiving their topics (best effort).
		t := b.client.Unsubscribe(stale...)
		if !t.WaitTimeout(subscribeWait) || t.Error() != nil {
			b.log.Warn("mqtt: unsubscribing from removed entity topics failed", "err", t.Error())
		}
	}
}

// isSourceFilter reports whether f is one of the two wildcard subscriptions.
func (b *Bridge) isSourceFilter(f string) bool {
	return (b.z2m != nil && f == b.cfg.z2mBase+"/#") || (b.ha != nil && f == b.cfg.haPrefix+"/#")
}

func (b *Bridge) covered(topic string) bool {
	return (b.z2m != nil && strings.HasPrefix(topic, b.cfg.z2mBase+"/")) ||
		(b.ha != nil && strings.HasPrefix(topic, b.cfg.haPrefix+"/"))
}

// requestMissingState asks zigbee2mqtt (/get) for the state of at most
// getBatch devices that have none yet and reports whether more are left: the
// Run loop comes back for them after getPace. A big installation (thousands
// of devices, none with a retained state: zigbee2mqtt's default) is asked a
// few at a time, so the loop keeps serving commands and stops when asked,
// and the Zigbee network is not flooded with reads.
func (b *Bridge) requestMissingState(ctx context.Context) bool {
	if b.z2m == nil {
		return false
	}
	b.mu.Lock()
	if !b.connected {
		b.mu.Unlock()
		return false
	}
	msgs, more := b.z2m.getRequests(getBatch)
	b.mu.Unlock()
	deadline := time.Now().Add(defaultPublishWait)
	toks := make([]paho.Token, len(msgs))
	for i, m := range msgs {
		toks[i] = b.client.Publish(m.topic, 1, m.retain, m.payload)
	}
	for i, t := range toks {
		if err := b.awaitPublish(ctx, t, msgs[i].topic, deadline); err != nil {
			b.log.Warn("mqtt: /get failed", "topic", msgs[i].topic, "err", err)
		}
	}
	return more && ctx.Err() == nil
}

func (b *Bridge) publish(ctx context.Context, m outMsg, deadline time.Time) error {
	return b.awaitPublish(ctx, b.client.Publish(m.topic, 1, m.retain, m.payload), m.topic, deadline)
}

// awaitPublish waits for the acknowledgement of a publication to topic until
// deadline or until ctx ends, whichever is first.
func (b *Bridge) awaitPublish(ctx context.Context, t paho.Token, topic string, deadline time.Time) error {
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wait := time.Until(deadline)
	if wait <= 0 {
		return fmt.Errorf("publish to %s: not acknowledged in time", topic)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-t.Done():
	case <-ctx.Done():
		return fmt.Errorf("publish to %s: %w", topic, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("publish to %s: not acknowledged in time", topic)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

// Execute publishes the command and answers with what the device did: Done
// with its state once it shows the command carried out; an error when the
// peer reports the command failed (zigbee2mqtt's "Publish 'set' … failed");
// and when the device has not confirmed by commandTimeout (a slow lock
// publishes "state": null first; a sleeping valve answers nothing), Accepted,
// completed later with the state it really reached or an error after
// confirmTimeout. It always answers before req.Deadline and ctx's deadline.
func (b *Bridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	b.mu.Lock()
	u := b.view[req.DeviceID]
	switch {
	case u == nil:
		b.mu.Unlock()
		return model.Result{}, model.Errorf(model.ErrUnreachable, "no device %q", req.DeviceID)
	case !b.connected:
		b.mu.Unlock()
		return model.Result{}, model.Errorf(model.ErrUnreachable, "the MQTT broker is not connected")
	case !u.dev.Reachable:
		b.mu.Unlock()
		return model.Result{}, model.Errorf(model.ErrUnreachable, "%s is offline", u.dev.Endpoint.FriendlyName)
	}
	cur := u.dev.State.Clone()
	if err := req.Command.Validate(u.dev.Endpoint.Traits, cur); err != nil {
		b.mu.Unlock()
		return model.Result{}, err
	}
	msgs, err := u.command(req.Command, cur)
	if err != nil {
		b.mu.Unlock()
		return model.Result{}, model.AsError(err)
	}
	id := req.DeviceID
	var since uint64
	if u.failSeq != nil {
		since = u.failSeq()
	}
	var props []string
	for _, m := range msgs {
		props = append(props, m.props...)
	}
	w := b.watchLocked(id)
	b.mu.Unlock()
	defer b.unwatch(id, w)

	deadline := req.Deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(b.cfg.commandTimeout + time.Second)
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	answerBy := sdk.AnswerBy(deadline)
	for _, m := range msgs {
		if err := b.publish(ctx, m, answerBy); err != nil {
			return model.Result{}, model.Errorf(model.ErrUnreachable, "%v", err)
		}
	}
	// What the command sets, merged into the state as it is now (not into
	// cur: a message since may have changed another field).
	set := req.Command.Apply(model.State{})
	if u.assume != nil {
		b.mu.Lock()
		u.assume(set)
		u.dev.State = u.dev.State.Merge(set)
		if d, ok := b.emitted[id]; ok {
			d.State = d.State.Merge(set)
			b.emitted[id] = d
		}
		b.mu.Unlock()
		return model.Result{Status: model.Done, State: set}, nil
	}
	if len(msgs) == 0 {
		return model.Result{Status: model.Done, State: set}, nil
	}
	c := &pendingCommand{req: req, since: since, props: props, needEcho: u.failSeq != nil}
	timer := time.NewTimer(max(0, min(b.cfg.commandTimeout, time.Until(answerBy))))
	defer timer.Stop()
	for {
		if st, done, err := b.outcome(c); done {
			if err != nil {
				return model.Result{}, err
			}
			return model.Result{Status: model.Done, State: st}, nil
		}
		select {
		case <-w:
			c.spoke = true
		case <-timer.C:
			return b.deferCommand(c, cur)
		case <-ctx.Done():
			return model.Result{}, model.AsError(ctx.Err())
		}
	}
}

// pendingCommand is a command sent to a device and not yet confirmed.
type pendingCommand struct {
	req   model.Request
	since uint64   // the unit's failSeq before it was sent
	props []string // the properties it set
	spoke bool     // the device published state since
	// needEcho: only a state published after the command confirms it
	// (zigbee2mqtt publishes after every command a device acknowledged);
	// otherwise a state that already matched confirms it too.
	needEcho bool
}

// outcome reports whether the command is settled: the device's state shows
// it carried out (done, nil), or the peer reported it failed (done, err).
// The state is the command's Effect on the device's (what it set, as the
// device reported it, with a brightness's on/off), never the whole state: a
// reading that comes next (a plug's power) is an event that may reach the
// hub before this answer, and the answer's older copy would overwrite it.
// Every change the device published is an event of its own anyway.
func (b *Bridge) outcome(c *pendingCommand) (model.State, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.view[c.req.DeviceID]
	if u == nil {
		return model.State{}, true, model.Errorf(model.ErrUnreachable, "the device was removed")
	}
	if u.failure != nil {
		if err := u.failure(c.since, c.props); err != nil {
			return model.State{}, true, err
		}
	}
	if (c.spoke || !c.needEcho) && satisfies(c.req.Command, u.dev.State, u.dev.Endpoint.Traits) {
		return c.req.Command.Effect(u.dev.State), true, nil
	}
	return model.State{}, false, nil
}

// deferCommand answers Accepted and completes the command in the background
// when the device confirms it, the peer reports its failure, or
// confirmTimeout passes.
func (b *Bridge) deferCommand(c *pendingCommand, cur model.State) (model.Result, error) {
	id := c.req.DeviceID
	b.mu.Lock()
	runCtx, em := b.runCtx, b.em
	if em == nil || runCtx == nil || runCtx.Err() != nil {
		b.mu.Unlock()
		return model.Result{}, model.Errorf(model.ErrUnreachable, "the device did not confirm the command")
	}
	w := b.watchLocked(id)
	b.bg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.bg.Done()
		defer b.unwatch(id, w)
		t := time.NewTimer(b.cfg.confirmTimeout)
		defer t.Stop()
		for {
			if st, done, err := b.outcome(c); done {
				em.Complete(c.req.CorrelationID, st, err)
				return
			}
			select {
			case <-w:
				c.spoke = true
			case <-t.C:
				err := model.Errorf(model.ErrUnreachable, "the device did not confirm the command within %s", b.cfg.confirmTimeout)
				if c.spoke {
					err = model.Errorf(model.ErrHardwareFault, "the device did not carry out the command within %s", b.cfg.confirmTimeout)
				}
				em.Complete(c.req.CorrelationID, model.State{}, err)
				return
			case <-runCtx.Done():
				return
			}
		}
	}()
	return model.Result{Status: model.Accepted, State: cur, EstimatedDeferral: b.cfg.confirmTimeout}, nil
}

// watchLocked registers a channel signalled when the device's state topics
// speak, and counts a command in flight for it (its echo is CauseAlexa).
// b.mu is held.
func (b *Bridge) watchLocked(id string) chan struct{} {
	w := make(chan struct{}, 1)
	b.waiters[id] = append(b.waiters[id], w)
	b.inflight[id]++
	return w
}

// unwatch undoes watchLocked.
func (b *Bridge) unwatch(id string, w chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.waiters[id]
	for i, x := range ws {
		if x == w {
			b.waiters[id] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(b.waiters[id]) == 0 {
		delete(b.waiters, id)
	}
	b.inflight[id]--
	if b.inflight[id] <= 0 {
		delete(b.inflight, id)
	}
}

func (b *Bridge) currentState(id string) (model.State, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.view[id]
	if u == nil {
		return model.State{}, false
	}
	return u.dev.State.Clone(), true
}

// State returns a device's last known state.
func (b *Bridge) State(_ context.Context, deviceID string) (model.State, error) {
	st, ok := b.currentState(deviceID)
	if !ok {
		return model.State{}, model.Errorf(model.ErrUnreachable, "no device %q", deviceID)
	}
	return st, nil
}

// satisfies reports whether st shows the command carried out, within the
// rounding the device's units cause.
func satisfies(c model.Command, st model.State, tr model.Traits) bool {
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	switch c.Trait {
	case model.TraitOnOff:
		return st.On != nil && *st.On == *c.Power
	case model.TraitBrightness:
		if *c.Brightness == 0 {
			return (st.On != nil && !*st.On) || (st.Brightness != nil && *st.Brightness == 0)
		}
		return st.Brightness != nil && near(float64(*st.Brightness), float64(*c.Brightness), 1)
	case model.TraitColorTemperature:
		return st.ColorTemperature != nil && near(float64(*st.ColorTemperature), float64(*c.ColorTemperature), float64(*c.ColorTemperature)*0.03)
	case model.TraitColor:
		if st.Color == nil {
			return false
		}
		dh := math.Abs(st.Color.Hue - c.Color.Hue)
		dh = math.Min(dh, 360-dh)
		return (dh <= 4 || c.Color.Saturation < 0.05) && near(st.Color.Saturation, c.Color.Saturation, 0.04)
	case model.TraitLock:
		return st.Lock == c.Lock
	case model.TraitThermostat:
		t := c.Thermostat
		s := st.Thermostat
		if s == nil {
			return false
		}
		ok := t.Mode == "" || s.Mode == t.Mode
		tol := 0.26 // setpoints go out rounded to the device's step
		if tr.Thermostat != nil && tr.Thermostat.StepC/2+0.01 > tol {
			tol = tr.Thermostat.StepC/2 + 0.01
		}
		for _, p := range [][2]*float64{{t.Target, s.Target}, {t.Lower, s.Lower}, {t.Upper, s.Upper}} {
			if p[0] != nil {
				ok = ok && p[1] != nil && near(*p[0], *p[1], tol)
			}
		}
		return ok
	case model.TraitCover:
		if c.CoverStop != nil {
			return true // stopped where it is: the next state is what it reports
		}
		if c.CoverTilt != nil {
			return st.CoverTilt != nil && near(float64(*st.CoverTilt), float64(*c.CoverTilt), 2)
		}
		return st.CoverPosition != nil && near(float64(*st.CoverPosition), float64(*c.CoverPosition), 2)
	case model.TraitFan:
		// A speed goes out as the nearest of the fan's speeds: the
		// coarsest fans have three (33 % apart).
		const tol = 18
		if *c.FanSpeed == 0 {
			return (st.On != nil && !*st.On) || (st.FanSpeed != nil && *st.FanSpeed == 0)
		}
		return st.FanSpeed != nil && near(float64(*st.FanSpeed), float64(*c.FanSpeed), tol)
	case model.TraitSiren:
		return st.Siren != nil && *st.Siren == *c.Siren
	}
	return true
}

func cloneDevice(d model.Device) model.Device {
	d.State = d.State.Clone()
	d.Link = d.Link.Clone()
	ep := d.Endpoint
	ep.Connections = slices.Clone(ep.Connections) // nil stays nil, empty stays empty: a clone compares equal
	d.Endpoint = ep
	return d
}

// Package z2msim is a zigbee2mqtt emulator for demos and tests. It connects to
// any MQTT broker as zigbee2mqtt 2.x would, publishes a realistic device set
// (bridge/state, bridge/info, bridge/devices with real exposes, availability and
// device states), answers <name>/set, <name>/set/<property> and <name>/get the
// way zigbee2mqtt does (state echoed on the device topic, values clamped to the
// exposes' ranges) and handles bridge/request/device/rename, permit_join and
// device/remove (a removed device joins again when the network next opens).
//
// Devices can be changed "by hand" or taken offline through the Go API (Set,
// SetOnline, Rename) or the small admin HTTP API (Handler).
package z2msim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/internal/cleanstore"

	"github.com/avshub/avshub/bridges/mqtt/internal/colorconv"
	locus "github.com/avshub/avshub/discovery/colorconv"
)

// Options configures a Sim.
type Options struct {
	// Broker is the broker URL (tcp://127.0.0.1:1883 when empty).
	Broker string
	// BaseTopic is zigbee2mqtt's mqtt.base_topic ("zigbee2mqtt" when empty).
	BaseTopic string
	// Username and Password for the broker, if it needs them.
	Username, Password string
	// ClientID is the MQTT client id (random when empty).
	ClientID string
	// LegacyAvailability publishes plain online/offline instead of JSON.
	LegacyAvailability bool
	// Logger receives the simulator's log; nil means slog.Default().
	Logger *slog.Logger
	// LockDelay is how long a lock's bolt takes after it acknowledged a
	// command (0: DefaultLockDelay; negative: none, the state comes at once).
	LockDelay time.Duration
	// SendTimeout is how long a command to a device that does not answer
	// (SetAsleep) takes to be logged as failed (0: DefaultSendTimeout;
	// negative: never).
	SendTimeout time.Duration
	// Kinds adds the devices of the newer kinds (a blind, a blind with
	// slats, door, leak, motion, smoke and CO sensors, a siren, a metering
	// plug, a fan and a button) as the real zigbee2mqtt described them
	// (kinds.go).
	Kinds bool
	// TravelStep is how long a blind takes for 10 % of its lift
	// (0: DefaultTravelStep); its slats take half as long.
	TravelStep time.Duration
	// OnAnswer, when set, is called with every message the simulator
	// publishes in answer to a /set, just before it publishes it: replays
	// compare the delays it scheduled with the real zigbee2mqtt's, which
	// the machine's load does not change (Answers tells when all are out).
	OnAnswer func(Answer)
}

// Answer is one message the simulator publishes in answer to a /set.
type Answer struct {
	// Device is the device's friendly name; Set numbers the device's /sets
	// in the order the simulator handled them (1: its first).
	Device string
	Set    int
	// Delay is when the simulator scheduled the message, after the /set: 0
	// for what it publishes at once, Options.LockDelay for a lock's bolt,
	// Options.SendTimeout for a command logged as failed.
	Delay   time.Duration
	Topic   string
	Payload []byte
}

// Device is what the Go and admin APIs report about a simulated device.
type Device struct {
	FriendlyName string         `json:"friendly_name"`
	IEEEAddress  string         `json:"ieee_address"`
	Model        string         `json:"model"`
	Online       bool           `json:"online"`
	State        map[string]any `json:"state"`
	// Warning is the mode a siren sounds ("" when silent): zigbee2mqtt
	// never publishes it.
	Warning string `json:"warning,omitempty"`
}

// ErrUnknownDevice is returned for a friendly name the simulator does not have.
var ErrUnknownDevice = errors.New("z2msim: no such device")

// Sim is a running zigbee2mqtt emulator.
type Sim struct {
	opts   Options
	log    *slog.Logger
	client paho.Client

	mu      sync.Mutex
	devices []*device
	sets    int // /set messages handled, for tests
	conns   int // connections fully set up (subscribed and published)
	timers  []*time.Timer
	closed  bool
	// The network is open for joining until permitEnd (permitSeq numbers
	// the windows); left are the removed devices, which join again then.
	permitEnd time.Time
	permitSeq int
	left      []*device
	running   sync.WaitGroup // delayed actions in progress
	answering map[*device]*answering

	in     chan paho.Message
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a simulator with the default device set; Start connects it.
func New(opts Options) *Sim {
	if opts.Broker == "" {
		opts.Broker = "tcp://127.0.0.1:1883"
	}
	if opts.BaseTopic == "" {
		opts.BaseTopic = "zigbee2mqtt"
	}
	if opts.LockDelay == 0 {
		opts.LockDelay = DefaultLockDelay
	}
	if opts.SendTimeout == 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.TravelStep <= 0 {
		opts.TravelStep = DefaultTravelStep
	}
	if opts.ClientID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.ClientID = "z2m-sim-" + hex.EncodeToString(b[:])
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	devs := defaultDevices()
	if opts.Kinds {
		kinds, err := kindDevices()
		if err != nil {
			// The recording is embedded and tested: it cannot fail to load.
			panic(err)
		}
		devs = append(devs, kinds...)
	}
	return &Sim{opts: opts, log: log, devices: devs, in: make(chan paho.Message, 1024), answering: map[*device]*answering{}}
}

// BaseTopic returns the simulator's base topic.
func (s *Sim) BaseTopic() string { return s.opts.BaseTopic }

// Start connects to the broker and publishes the bridge and device topics. It
// returns once the first connection is up and the broker has acknowledged
// those publications (or ctx ends). The simulator keeps
// reconnecting, and republishes everything, until Close.
func (s *Sim) Start(ctx context.Context) error {
	base := s.opts.BaseTopic
	o := paho.NewClientOptions().AddBroker(s.opts.Broker).SetClientID(s.opts.ClientID).
		SetUsername(s.opts.Username).SetPassword(s.opts.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(100*time.Millisecond).SetMaxReconnectInterval(500*time.Millisecond).
		SetConnectTimeout(5*time.Second).SetKeepAlive(30*time.Second).SetStore(cleanstore.New()).
		SetWill(base+"/bridge/state", string(s.bridgeStatePayload(false)), 1, true)
	connected := make(chan struct{}, 1)
	o.SetOnConnectHandler(func(c paho.Client) {
		// Never block in a paho callback: subscribe and publish from a goroutine.
		go s.onConnect(c, connected)
	})
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		select {
		case s.in <- m:
		default:
			s.log.Warn("z2m-sim: inbound queue full, dropping message", "topic", m.Topic())
		}
	})
	s.client = paho.NewClient(o)
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.loop(runCtx)
	s.client.Connect()
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("z2m-sim: connect to %s: %w", s.opts.Broker, ctx.Err())
	}
}

func (s *Sim) onConnect(c paho.Client, connected chan<- struct{}) {
	base := s.opts.BaseTopic
	// Some brokers refuse a SUBSCRIBE now and then (mochi 2.7: 0x91 when its
	// own in-flight packet ids collide); try a few times.
	for attempt := 1; ; attempt++ {
		t := c.Subscribe(base+"/#", 1, nil)
		if !t.WaitTimeout(5*time.Second) || t.Error() != nil {
			s.log.Error("z2m-sim: subscribe failed", "err", t.Error())
			return
		}
		if t.(*paho.SubscribeToken).Result()[base+"/#"] < 0x80 {
			break
		}
		if attempt == 5 {
			s.log.Error("z2m-sim: the broker refused the subscription")
			return
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
	toks := []paho.Token{
		s.publish(base+"/bridge/state", s.bridgeStatePayload(true), true),
		s.publish(base+"/bridge/info", s.infoPayload(), true),
		s.publishDevices(),
		s.publish(base+"/bridge/groups", []byte("[]"), true),
	}
	s.mu.Lock()
	devs := append([]*device(nil), s.devices...)
	s.mu.Unlock()
	for _, d := range devs {
		toks = append(toks, s.publishAvailability(d))
	}
	// zigbee2mqtt sends every device's cached state on startup (cache_state_send_on_startup).
	for _, d := range devs {
		toks = append(toks, s.publishState(d))
	}
	// Start's caller (and the binary's ready line) may rely on the retained
	// topics being at the broker: signal only once the broker has them.
	deadline := time.Now().Add(5 * time.Second)
	for _, t := range toks {
		if t != nil {
			t.WaitTimeout(time.Until(deadline))
		}
	}
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	select {
	case connected <- struct{}{}:
	default:
	}
}

// Close publishes bridge/state offline (as zigbee2mqtt does on a clean stop)
// and disconnects.
func (s *Sim) Close() {
	if s.client == nil {
		return
	}
	if s.client.IsConnectionOpen() {
		// Wait for this one: it must reach the broker before the disconnect.
		t := s.client.Publish(s.opts.BaseTopic+"/bridge/state", 1, true, s.bridgeStatePayload(false))
		t.WaitTimeout(2 * time.Second)
	}
	s.stopTimers()
	s.client.Disconnect(250)
	s.cancel()
	<-s.done
	s.client = nil
}

func (s *Sim) loop(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.in:
			s.handle(m.Topic(), m.Payload())
		}
	}
}

// publish sends one QoS 1 message without waiting; the returned token (nil
// without a client) completes when the broker acknowledges it.
func (s *Sim) publish(topic string, payload []byte, retain bool) paho.Token {
	c := s.client
	if c == nil {
		return nil
	}
	t := c.Publish(topic, 1, retain, payload)
	go func() {
		if !t.WaitTimeout(5*time.Second) || t.Error() != nil {
			s.log.Debug("z2m-sim: publish not acknowledged", "topic", topic, "err", t.Error())
		}
	}()
	return t
}

func (s *Sim) bridgeStatePayload(online bool) []byte {
	st := "offline"
	if online {
		st = "online"
	}
	if s.opts.LegacyAvailability {
		return []byte(st)
	}
	return mustJSON(map[string]any{"state": st})
}

func (s *Sim) infoPayload() []byte {
	s.mu.Lock()
	end := s.permitEnd
	s.mu.Unlock()
	info := map[string]any{
		"version": "2.14.1", "commit": "unknown", "zigbee_herdsman_converters": map[string]any{"version": "26.112.0"},
		"zigbee_herdsman": map[string]any{"version": "4.5.1"},
		"coordinator": map[string]any{"ieee_address": "0x00124b0024c0ffee", "type": "zStack3x0",
			"meta": map[string]any{"majorrel": 2, "minorrel": 7, "product": 1, "revision": 20240710, "transportrev": 2}},
		"network":   map[string]any{"channel": 11, "pan_id": 6754, "extended_pan_id": "0xdddddddddddddddd"},
		"log_level": "info", "permit_join": false, "restart_required": false,
		"config": map[string]any{"mqtt": map[string]any{"base_topic": s.opts.BaseTopic}, "advanced": map[string]any{
			"legacy_availability_payload": s.opts.LegacyAvailability, "output": "json"}, "availability": map[string]any{"enabled": true}},
	}
	if time.Now().Before(end) {
		info["permit_join"], info["permit_join_end"] = true, end.UnixMilli()
	}
	return mustJSON(info)
}

// BridgeDevices returns the bridge/devices payload of the default device set,
// exactly as the simulator publishes it.
func BridgeDevices() []byte {
	s := &Sim{devices: defaultDevices()}
	return s.devicesPayload()
}

func (s *Sim) publishDevices() paho.Token {
	return s.publish(s.opts.BaseTopic+"/bridge/devices", s.devicesPayload(), true)
}

func (s *Sim) devicesPayload() []byte {
	s.mu.Lock()
	list := []any{map[string]any{
		"ieee_address": "0x00124b0024c0ffee", "type": "Coordinator", "network_address": 0, "supported": true,
		"friendly_name": "Coordinator", "disabled": false, "endpoints": map[string]any{"1": endpointJSON(nil, []string{"genBasic"})},
		"interview_completed": true, "interview_state": "SUCCESSFUL", "interviewing": false,
	}}
	for _, d := range s.devices {
		list = append(list, d.json())
	}
	s.mu.Unlock()
	return mustJSON(list)
}

func endpointJSON(input, output []string) map[string]any {
	if input == nil {
		input = []string{}
	}
	if output == nil {
		output = []string{}
	}
	return map[string]any{"bindings": []any{}, "clusters": map[string]any{"input": input, "output": output},
		"configured_reportings": []any{}, "scenes": []any{}}
}

func (d *device) json() map[string]any {
	exposes := append(append([]any(nil), d.Exposes...), linkquality())
	if d.entry != nil && !d.joining {
		// As the real zigbee2mqtt described it, under the name it has here.
		e := make(map[string]any, len(d.entry))
		for k, v := range d.entry {
			e[k] = v
		}
		e["friendly_name"], e["disabled"] = d.Name, d.Disabled
		return e
	}
	if d.joining {
		// Joined, interview in progress: no definition yet.
		return map[string]any{
			"ieee_address": d.IEEE, "type": "Unknown", "network_address": d.NetworkAddr, "supported": false,
			"friendly_name": d.Name, "disabled": false, "definition": nil, "interview_completed": false,
			"interview_state": "IN_PROGRESS", "interviewing": true, "endpoints": map[string]any{},
		}
	}
	return map[string]any{
		"ieee_address": d.IEEE, "type": d.Type, "network_address": d.NetworkAddr, "supported": d.Supported,
		"friendly_name": d.Name, "disabled": d.Disabled, "power_source": d.PowerSource, "model_id": d.ModelID,
		"manufacturer": d.Manufacturer, "interview_completed": true, "interview_state": "SUCCESSFUL", "interviewing": false,
		"software_build_id": "1.0.0", "date_code": "20230101",
		"endpoints": map[string]any{"1": endpointJSON([]string{"genBasic", "genIdentify", "genGroups", "genScenes"}, []string{"genOta"})},
		"definition": map[string]any{"model": d.Model, "vendor": d.Vendor, "description": d.Description,
			"exposes": exposes, "options": []any{}, "supports_ota": d.PowerSource != "Battery", "source": "native"},
	}
}

func (s *Sim) publishAvailability(d *device) paho.Token {
	s.mu.Lock()
	name, online := d.Name, d.Online
	s.mu.Unlock()
	return s.publish(s.opts.BaseTopic+"/"+name+"/availability", s.bridgeStatePayload(online), true)
}

func (s *Sim) publishState(d *device) paho.Token {
	s.mu.Lock()
	st := copyState(d.State)
	s.mu.Unlock()
	return s.publishRaw(d, st)
}

// publishRaw publishes st (a copy of d's state) as d's state, the way
// zigbee2mqtt does with its Home Assistant integration on (as most run it):
// every property a Home Assistant entity of its own reads (the top-level
// exposes but actions) is null while unknown, and hue/saturation have h/s
// copies.
func (s *Sim) publishRaw(d *device, st map[string]any) paho.Token {
	return s.publish(s.stateMessage(d, st))
}

// stateMessage is publishRaw's message.
func (s *Sim) stateMessage(d *device, st map[string]any) (topic string, payload []byte, retain bool) {
	s.mu.Lock()
	st["linkquality"] = 120 + len(d.Name)%100
	name, retain := d.Name, d.Retain
	for _, e := range d.Exposes {
		o, _ := e.(obj)
		if p, ok := o["property"].(string); ok && p != "action" {
			if _, known := st[p]; !known {
				st[p] = nil
			}
		}
	}
	if c, ok := st["color"].(map[string]any); ok {
		// zigbee2mqtt adds h/s copies of hue/saturation for Home Assistant.
		if h, ok := c["hue"]; ok {
			c["h"] = h
		}
		if sat, ok := c["saturation"]; ok {
			c["s"] = sat
		}
	}
	s.mu.Unlock()
	return s.opts.BaseTopic + "/" + name, mustJSON(st), retain
}

// handle processes one message on <base>/#.
func (s *Sim) handle(topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, s.opts.BaseTopic+"/")
	if !ok {
		return
	}
	switch rest {
	case "bridge/request/device/rename":
		s.handleRename(payload)
		return
	case "bridge/request/permit_join":
		s.handlePermitJoin(payload)
		return
	case "bridge/request/device/remove":
		s.handleRemove(payload)
		return
	}
	if strings.HasPrefix(rest, "bridge/") {
		return
	}
	s.mu.Lock()
	d, suffix := s.match(rest)
	s.mu.Unlock()
	if d == nil {
		return
	}
	switch {
	case suffix == "/set":
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil {
			s.log.Warn("z2m-sim: invalid JSON in /set", "device", d.Name, "err", err)
			return
		}
		s.applySet(d, m)
	case strings.HasPrefix(suffix, "/set/"):
		prop := suffix[len("/set/"):]
		var v any
		if err := json.Unmarshal(payload, &v); err != nil {
			v = string(payload)
		}
		s.applySet(d, map[string]any{prop: v})
	case suffix == "/get":
		s.mu.Lock()
		answers := d.Online && !d.asleep
		s.mu.Unlock()
		if answers {
			s.publishState(d)
		}
	}
}

// match resolves a topic tail against the friendly names (longest match).
// The caller holds s.mu.
func (s *Sim) match(rest string) (*device, string) {
	var best *device
	for _, d := range s.devices {
		if (rest == d.Name || strings.HasPrefix(rest, d.Name+"/")) && (best == nil || len(d.Name) > len(best.Name)) {
			best = d
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, rest[len(best.Name):]
}

func (s *Sim) handleRename(payload []byte) {
	var req struct {
		From        string `json:"from"`
		To          string `json:"to"`
		Transaction any    `json:"transaction,omitempty"`
	}
	resp := map[string]any{}
	err := json.Unmarshal(payload, &req)
	if err == nil {
		err = s.Rename(req.From, req.To)
	}
	if err != nil {
		resp["status"], resp["error"], resp["data"] = "error", err.Error(), map[string]any{}
	} else {
		resp["status"], resp["data"] = "ok", map[string]any{"from": req.From, "to": req.To, "homeassistant_rename": false}
	}
	if req.Transaction != nil {
		resp["transaction"] = req.Transaction
	}
	s.publish(s.opts.BaseTopic+"/bridge/response/device/rename", mustJSON(resp), false)
}

// Rename changes a device's friendly name as zigbee2mqtt's device/rename does:
// the old retained availability is cleared and bridge/devices republished.
func (s *Sim) Rename(from, to string) error {
	if to == "" || strings.ContainsAny(to, "+#") {
		return fmt.Errorf("z2m-sim: invalid friendly name %q", to)
	}
	s.mu.Lock()
	var d *device
	for _, x := range s.devices {
		if x.Name == from {
			d = x
		}
		if x.Name == to {
			s.mu.Unlock()
			return fmt.Errorf("z2m-sim: friendly name %q is already in use", to)
		}
	}
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownDevice, from)
	}
	d.Name = to
	s.mu.Unlock()
	s.publish(s.opts.BaseTopic+"/"+from+"/availability", nil, true)
	if d.Retain {
		s.publish(s.opts.BaseTopic+"/"+from, nil, true)
	}
	s.publishDevices()
	s.publishAvailability(d)
	s.publishState(d)
	return nil
}

// applySet applies a /set payload the way zigbee2mqtt's converters do and
// publishes the device's full state, as peer.go describes: an offline
// device does not answer; an asleep one neither, and its command is logged
// as failed after SendTimeout; a refused key is logged as failed at once
// (neither is logged for a key the converter sends without awaiting an
// answer); a lock publishes nothing until its bolt has moved (LockDelay),
// then its state and the operation event.
func (s *Sim) applySet(d *device, m map[string]any) {
	s.mu.Lock()
	s.sets++
	a := s.answering[d]
	if a == nil {
		a = &answering{}
		s.answering[d] = a
	}
	a.sets++
	now := cause{set: a.sets}
	defer func() {
		s.mu.Lock()
		a.done++
		s.mu.Unlock()
	}()
	name := d.Name
	if !d.Online {
		s.mu.Unlock()
		s.log.Info("z2m-sim: publish to offline device failed (no response)", "device", name)
		return
	}
	keys := sortedKeys(m)
	if d.asleep {
		var logged []string
		for _, k := range keys {
			if !d.unanswered[k] {
				logged = append(logged, k)
			}
		}
		s.mu.Unlock()
		if s.opts.SendTimeout > 0 && len(logged) > 0 {
			s.answerAfter(d, s.opts.SendTimeout, func() {
				for _, k := range logged {
					s.logFailed(cause{now.set, s.opts.SendTimeout}, name, k, fmt.Sprintf("Error: ZCL command %s/1 failed (Timeout - %d - 1 - 42 - 6 - 11 after 10000ms)", d.IEEE, d.NetworkAddr))
				}
			})
		}
		return
	}
	var refused []string
	for _, k := range keys {
		if d.refused[k] {
			if !d.unanswered[k] {
				refused = append(refused, k)
			}
			delete(m, k)
		}
	}
	sirenSet(d, m)
	mv, coverNow := s.coverSet(d, m)
	var lockTo any
	if v, ok := m["state"]; ok && isLock(d) && s.opts.LockDelay > 0 {
		// The lock acknowledges now; its bolt reports later.
		lockTo = v
		delete(m, "state")
	}
	changed := applyToState(d, m, s.log) || coverNow
	kindEffects(d, m)
	st := copyState(d.State)
	s.mu.Unlock()
	for _, k := range refused {
		s.logFailed(now, name, k, fmt.Sprintf("Error: ZCL command %s/1 failed (Status 'INVALID_VALUE')", d.IEEE))
	}
	if changed {
		s.answerState(now, d, st)
	}
	if lockTo != nil {
		s.answerAfter(d, s.opts.LockDelay, func() { s.boltMoved(cause{now.set, s.opts.LockDelay}, d, lockTo) })
	}
	if mv != nil {
		s.travelReports(now, d, mv)
	}
}

// boltMoved is a lock's bolt reaching its position: its lockState report,
// then its operation event notification (the action and its source, which
// zigbee2mqtt publishes once, not kept in the state) and the action topic.
func (s *Sim) boltMoved(c cause, d *device, to any) {
	s.mu.Lock()
	applyToState(d, map[string]any{"state": to}, s.log)
	action := "lock"
	if d.State["state"] == "UNLOCK" {
		action = "unlock"
	}
	name := d.Name
	s.mu.Unlock()
	s.mu.Lock()
	st := copyState(d.State)
	s.mu.Unlock()
	if t := s.answerState(c, d, st); t != nil {
		t.WaitTimeout(time.Second) // in order, as zigbee2mqtt handles the report, then the event
	}
	s.mu.Lock()
	st = copyState(d.State)
	s.mu.Unlock()
	st["action"], st["action_source"], st["action_source_name"], st["action_user"] = action, 1, "rf", 0
	if t := s.answerState(c, d, st); t != nil {
		t.WaitTimeout(time.Second)
	}
	s.answer(c, name, s.opts.BaseTopic+"/"+name+"/action", []byte(action), false)
}

// isLock reports whether d is a lock (its state is LOCK/UNLOCK).
func isLock(d *device) bool {
	f := findFeature(d.Exposes, "state")
	return f != nil && f["value_on"] == "LOCK"
}

// Connections returns how many broker connections the simulator has set up
// (subscribed and published everything); it grows after each reconnect.
func (s *Sim) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// SetCount returns how many /set messages the simulator has handled.
func (s *Sim) SetCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sets
}

func applyToState(d *device, m map[string]any, log *slog.Logger) bool {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	changed := false
	for _, k := range keys {
		v := m[k]
		f := findFeature(d.Exposes, k)
		if f == nil || f["access"].(int)&accessSet == 0 {
			if k != "transition" {
				log.Info("z2m-sim: no converter available", "device", d.Name, "key", k)
			}
			continue
		}
		switch f["type"] {
		case "binary":
			val := v
			if t, ok := f["value_toggle"]; ok && v == t {
				if d.State[k] == f["value_on"] {
					val = f["value_off"]
				} else {
					val = f["value_on"]
				}
			}
			if val != f["value_on"] && val != f["value_off"] {
				log.Info("z2m-sim: invalid value", "device", d.Name, "key", k, "value", v)
				continue
			}
			d.State[k] = val
			if k == "state" && f["value_on"] == "LOCK" {
				if val == "LOCK" {
					d.State["lock_state"] = "locked"
				} else {
					d.State["lock_state"] = "unlocked"
				}
			}
		case "numeric":
			n, ok := toFloat(v)
			if !ok {
				log.Info("z2m-sim: value is not a number", "device", d.Name, "key", k, "value", v)
				continue
			}
			if mn, ok := toFloat(f["value_min"]); ok {
				n = math.Max(n, mn)
			}
			if mx, ok := toFloat(f["value_max"]); ok {
				n = math.Min(n, mx)
			}
			if step, ok := toFloat(f["value_step"]); ok && step > 0 {
				n = math.Round(n/step) * step
				d.State[k] = n
			} else {
				d.State[k] = int(math.Round(n))
			}
			switch k {
			case "brightness":
				if n == 0 {
					d.State["state"] = "OFF"
					d.State[k] = orInt(d.State[k], 1)
				} else {
					d.State["state"] = "ON"
				}
			case "color_temp":
				d.State["color_mode"] = "color_temp"
				if hasFeature(d.Exposes, "color_xy") {
					ct := d.State[k].(int)
					x, y := miredToXY(ct)
					d.State["color"] = map[string]any{"x": x, "y": y}
				}
			case "occupied_heating_setpoint":
				if lt, ok := toFloat(d.State["local_temperature"]); ok && n > lt {
					d.State["running_state"] = "heat"
				} else {
					d.State["running_state"] = "idle"
				}
			}
		case "enum":
			sv, _ := v.(string)
			okv := false
			for _, x := range f["values"].([]string) {
				okv = okv || x == sv
			}
			if !okv {
				log.Info("z2m-sim: value not allowed", "device", d.Name, "key", k, "value", v, "allowed", f["values"])
				continue
			}
			if f["access"].(int)&accessState != 0 {
				d.State[k] = sv
			}
		case "composite":
			if k != "color" {
				continue
			}
			cm, ok := v.(map[string]any)
			if !ok {
				continue
			}
			hue, hok := toFloat(firstOf(cm, "hue", "h"))
			sat, sok := toFloat(firstOf(cm, "saturation", "s"))
			x, xok := toFloat(cm["x"])
			y, yok := toFloat(cm["y"])
			switch {
			case hok && sok && hasFeature(d.Exposes, "color_hs"):
				hue = math.Mod(math.Max(hue, 0), 360)
				sat = math.Max(0, math.Min(100, sat))
				cx, cy := colorconv.HSToXY(hue, sat/100)
				d.State["color"] = map[string]any{"hue": math.Round(hue), "saturation": math.Round(sat), "x": cx, "y": cy}
				d.State["color_mode"] = "hs"
			case hok && sok:
				cx, cy := colorconv.HSToXY(hue, math.Max(0, math.Min(100, sat))/100)
				d.State["color"] = map[string]any{"x": cx, "y": cy}
				d.State["color_mode"] = "xy"
			case xok && yok:
				x, y = math.Max(0, math.Min(1, x)), math.Max(0, math.Min(1, y))
				h, sa := colorconv.XYToHS(x, y)
				c := map[string]any{"x": x, "y": y}
				if hasFeature(d.Exposes, "color_hs") {
					c["hue"], c["saturation"] = math.Round(h), math.Round(sa*100)
				}
				d.State["color"] = c
				d.State["color_mode"] = "xy"
			default:
				continue
			}
		default:
			continue
		}
		changed = true
	}
	return changed
}

func orInt(v any, def int) any {
	if v == nil {
		return def
	}
	return v
}

func firstOf(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

// miredToXY is the point of the Planckian locus zigbee2mqtt reports for a
// colour-temperature change on an xy bulb.
func miredToXY(mired int) (float64, float64) {
	p := locus.KelvinToXY(1e6 / float64(mired))
	return p.X, p.Y
}

func findFeature(exposes []any, property string) obj {
	for _, e := range exposes {
		o, ok := e.(obj)
		if !ok {
			continue
		}
		if o["property"] == property {
			return o
		}
		if fs, ok := o["features"].([]any); ok && o["type"] != "composite" {
			if f := findFeature(fs, property); f != nil {
				return f
			}
		}
	}
	return nil
}

func hasFeature(exposes []any, name string) bool {
	for _, e := range exposes {
		o, ok := e.(obj)
		if !ok {
			continue
		}
		if o["name"] == name {
			return true
		}
		if fs, ok := o["features"].([]any); ok && hasFeature(fs, name) {
			return true
		}
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func copyState(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if c, ok := v.(map[string]any); ok {
			v = copyState(c)
		}
		out[k] = v
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Devices lists the simulated devices (the coordinator excluded).
func (s *Sim) Devices() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Device, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, Device{FriendlyName: d.Name, IEEEAddress: d.IEEE, Model: d.Model, Online: d.Online, State: copyState(d.State), Warning: d.warning})
	}
	return out
}

// Device returns one device by friendly name.
func (s *Sim) Device(name string) (Device, bool) {
	for _, d := range s.Devices() {
		if d.FriendlyName == name {
			return d, true
		}
	}
	return Device{}, false
}

// Set changes a device "by hand" (a wall switch, a knob on the radiator): the
// values are applied as a /set would be, even while the device is offline to
// the network, and the new state is published when it is online.
func (s *Sim) Set(name string, values map[string]any) (Device, error) {
	s.mu.Lock()
	d := s.byName(name)
	if d == nil {
		s.mu.Unlock()
		return Device{}, fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	changed := make(map[string]any, len(values))
	for k, v := range values {
		changed[k] = v
	}
	// Values a person changes need not be writable over Zigbee (a measured
	// temperature), so state-only properties are accepted here too.
	for k, v := range values {
		if f := findFeature(d.Exposes, k); f != nil && f["access"].(int)&accessSet == 0 {
			if n, ok := toFloat(v); ok {
				d.State[k] = n
			} else {
				d.State[k] = v
			}
			delete(values, k)
		}
	}
	// A button's press: published once with the state and on <device>/action,
	// never kept in the state.
	action, pressed := d.State["action"].(string)
	delete(d.State, "action")
	applyToState(d, values, s.log)
	kindEffects(d, changed)
	online := d.Online
	st := copyState(d.State)
	if pressed {
		st["action"] = action
	}
	s.mu.Unlock()
	if online {
		if t := s.publishRaw(d, st); pressed && t != nil {
			t.WaitTimeout(time.Second) // in order, as zigbee2mqtt publishes them
			s.publish(s.opts.BaseTopic+"/"+name+"/action", []byte(action), false)
		}
	}
	dev, _ := s.Device(name)
	return dev, nil
}

// SetOnline takes a device offline or brings it back (availability topic).
func (s *Sim) SetOnline(name string, online bool) error {
	s.mu.Lock()
	d := s.byName(name)
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	d.Online = online
	s.mu.Unlock()
	s.publishAvailability(d)
	if online {
		s.publishState(d)
	}
	return nil
}

func (s *Sim) byName(name string) *device {
	for _, d := range s.devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

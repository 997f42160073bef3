package hub

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.bug.st/serial"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/web"
)

// The directive round trip through each device bridge, as BenchmarkDirectiveRoundTrip
// measures it for the virtual bridge: the avshub binary (built in TestMain)
// against the AVS emulator, which validates every event on receipt; one
// directive at a time, TurnOn and TurnOff alternating on one light; p50/p99
// per directive from the emulator's send to the final event's receipt.
//
//	go test -run '^$' -bench 'RoundTrip' -benchtime 500x ./gateway/hub/
//
// Each has baselines measured in the same run that show the floor of the
// bridge's own transport, without the hub, the plugin and AVS:
//
//   - Zigbee (bridge-zigbee on the Z-Stack emulator znpsim behind a real pty):
//     "baseline-znp-onoff" is one ZCL On/Off command written by the test
//     itself on the same pty with the bridge's MT client (bridges/zigbee/mt):
//     AF_DATA_REQUEST, its SRSP, AF_DATA_CONFIRM and the bulb's ZCL Default
//     Response in an AF_INCOMING_MSG: the exchange the bridge waits for
//     before it answers a PowerController directive. znpsim's simulated radio
//     round trip (Options.Latency: 5 ms by default, 2 ms in the fault tests;
//     0 means the default) is 1 ns here, in the baseline and the hub run
//     alike, so both figures are software cost only: a real coordinator adds
//     its radio round trip to each.
//   - MQTT (bridge-mqtt and the zigbee2mqtt emulator z2msim, both on the
//     embedded mochi broker that mqtttest runs in the test process, as in the
//     fault tests): "baseline-mqtt-pubsub" is one QoS 1 publish (PUBACK
//     awaited) to a topic the same client subscribes to, delivered back
//     through the broker; "baseline-z2m-set" is what the bridge does for a
//     directive, done by the test's own paho client: a QoS 1 publish to
//     "zigbee2mqtt/<bulb>/set" and the emulator's state echo on
//     "zigbee2mqtt/<bulb>". z2msim has no artificial latency.
//
// The hub runs with the virtual bridge too (as every harness environment),
// idle during the measurement.

// benchZNPLatency is znpsim's simulated radio round trip in these benchmarks.
const benchZNPLatency = time.Nanosecond

// BenchmarkDirectiveRoundTripZigbee: emulator → downchannel → hub → go-plugin
// → bridge-zigbee → pty → znpsim (the bulb's Default Response) → bridge →
// hub → event POST → emulator. The baseline runs after the hub has stopped
// (the bridge holds the pty while it runs; the coordinator emulator keeps the
// network it formed and the devices that joined).
func BenchmarkDirectiveRoundTripZigbee(b *testing.B) {
	r := startZigbeeSim(b, func(o *znpsim.Options) { o.Latency = benchZNPLatency })
	var hue string // the light the benchmark drives
	for _, d := range r.sim.Devices() {
		if d.Type == "hue-color-bulb" {
			hue = d.IEEE
		}
	}
	if hue == "" {
		b.Fatal("the coordinator emulator has no hue-color-bulb")
	}
	e := newEnv(b, envOptions{ExtraBridges: zigbeeBridgeYAML(r.link)})
	hub := e.startDaemon()
	ctx := ctxFor(b, 60*time.Second) // setup only
	api := e.waitDaemonBridge(ctx, "zigbee")
	if err := api.Pair(ctx, "zigbee", time.Minute); err != nil { // as `avshub pair zigbee` does
		b.Fatalf("pair: %v", err)
	}
	for _, ieee := range r.ids { // every device interviewed: nothing else runs during the measurement
		e.waitDaemonEndpoint(ctx, "zigbee", func(ep model.Endpoint) bool { return ep.DeviceID == ieee })
	}
	var k int
	b.Run("hub", func(b *testing.B) {
		last := directiveRoundTrips(b, e, zid(hue), &k)
		benchPoll(b, "the bulb's onOff to follow the last directive", func() error {
			for _, d := range r.sim.Devices() {
				if d.IEEE == hue && (d.Attributes["onOff"] != 0) != last {
					return fmt.Errorf("onOff %d after the last directive (on=%v)", d.Attributes["onOff"], last)
				}
			}
			return nil
		})
	})
	hub.stop()
	e.noRefusedEvents()

	b.Run("baseline-znp-onoff", func(b *testing.B) {
		var nwk uint16
		for _, d := range r.sim.Devices() {
			if d.IEEE == hue {
				v, err := strconv.ParseUint(strings.TrimPrefix(d.NWK, "0x"), 16, 16)
				if err != nil || !d.Joined {
					b.Fatalf("the bulb is not joined (nwk %q, joined %v): %v", d.NWK, d.Joined, err)
				}
				nwk = uint16(v)
			}
		}
		z := openZNP(b, r.link)
		// The Hue bulb's On/Off cluster is on endpoint 11 (znpsim's model, as
		// the product); a wrong endpoint would be answered UNSUPPORTED_CLUSTER
		// and fail the benchmark.
		for i := 0; i < 2; i++ { // warm-up, and the bulb left as the hub left it
			if err := z.onOff(nwk, 11, k%2 == 0); err != nil {
				b.Fatalf("warm-up: %v", err)
			}
			k++
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			err := z.onOff(nwk, 11, k%2 == 0)
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatalf("command %d: %v", i, err)
			}
			k++
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
}

// BenchmarkDirectiveRoundTripMQTT: emulator → downchannel → hub → go-plugin
// → bridge-mqtt → broker → z2msim → broker (state echo) → bridge → hub →
// event POST → emulator. The baselines run before the hub starts.
func BenchmarkDirectiveRoundTripMQTT(b *testing.B) {
	ctx := ctxFor(b, 60*time.Second) // setup only
	brk, sim := startZ2MSim(b, ctx)
	if _, ok := sim.Device(z2mBulb); !ok {
		b.Fatalf("z2msim has no %q", z2mBulb)
	}

	b.Run("baseline-mqtt-pubsub", func(b *testing.B) {
		topic := "avshub-bench/" + randomHex()
		c, in := benchMQTTClient(b, brk.URL, topic)
		payload := []byte(`{"state":"ON"}`)
		roundTrip := func() error {
			if err := mqttPublish(c, topic, payload); err != nil {
				return err
			}
			select {
			case <-in:
				return nil
			case <-time.After(5 * time.Second):
				return errors.New("the message did not come back")
			}
		}
		if err := roundTrip(); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			err := roundTrip()
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatalf("round trip %d: %v", i, err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})

	b.Run("baseline-z2m-set", func(b *testing.B) {
		topic := sim.BaseTopic() + "/" + z2mBulb
		c, in := benchMQTTClient(b, brk.URL, topic)
		set := func(on bool) error {
			want := map[bool]string{true: "ON", false: "OFF"}[on]
			if err := mqttPublish(c, topic+"/set", []byte(`{"state":"`+want+`"}`)); err != nil {
				return err
			}
			timeout := time.After(5 * time.Second)
			for {
				select {
				case m := <-in:
					var st struct{ State string }
					if json.Unmarshal(m, &st) == nil && st.State == want {
						return nil
					}
				case <-timeout:
					return fmt.Errorf("no echo with state %s", want)
				}
			}
		}
		for i := 0; i < 2; i++ { // warm-up; the retained state is consumed
			if err := set(i == 0); err != nil {
				b.Fatalf("warm-up: %v", err)
			}
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			err := set(i%2 == 0)
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatalf("set %d: %v", i, err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})

	e := newEnv(b, envOptions{ExtraBridges: mqttBridgeYAML(brk.URL)})
	hub := e.startDaemon()
	e.waitDaemonBridge(ctx, "mqtt")
	bulb := e.waitDaemonEndpoint(ctx, "mqtt", func(ep model.Endpoint) bool {
		return ep.FriendlyName == z2mBulb && ep.Traits.OnOff != nil
	})
	var k int
	b.Run("hub", func(b *testing.B) {
		last := directiveRoundTrips(b, e, bulb, &k)
		want := map[bool]string{true: "ON", false: "OFF"}[last]
		benchPoll(b, "the bulb to follow the last directive", func() error {
			if d, ok := sim.Device(z2mBulb); !ok || d.State["state"] != want {
				return fmt.Errorf("the bulb's state is %v, want %s", d.State["state"], want)
			}
			return nil
		})
	})
	hub.stop()
	e.noRefusedEvents()
}

// directiveRoundTrips sends b.N PowerController directives to endpoint one at
// a time (after one warm-up), TurnOn and TurnOff alternating from *k on, and
// reports p50/p99. Every one must be answered with an Alexa.Response. It
// returns whether the last one turned the light on.
func directiveRoundTrips(b *testing.B, e *testEnv, endpoint string, k *int) bool {
	ctx := context.Background()
	names := []string{"TurnOn", "TurnOff"}
	send := func() (time.Duration, error) {
		name := names[*k%2]
		*k++
		t0 := time.Now()
		res, err := e.emu.SendDirective(ctx, avstest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: name, EndpointID: endpoint, Payload: []byte("{}")}, true)
		el := time.Since(t0)
		if err != nil || !res.Complete || len(res.Events) == 0 {
			return el, fmt.Errorf("%s: %v (complete %v, %d events)", name, err, res.Complete, len(res.Events))
		}
		p, err := parseEvent(res.Events[len(res.Events)-1])
		if err != nil {
			return el, err
		}
		if p.Header.Namespace != "Alexa" || p.Header.Name != "Response" {
			return el, fmt.Errorf("%s answered %s.%s %v", name, p.Header.Namespace, p.Header.Name, p.Payload)
		}
		return el, nil
	}
	if _, err := send(); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		el, err := send()
		lat = append(lat, el)
		if err != nil {
			b.Fatalf("directive %d: %v", i, err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat)
	return (*k-1)%2 == 0
}

// benchPoll is testEnv.poll for a sub-benchmark (whose b is not the environment's).
func benchPoll(b *testing.B, what string, f func() error) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pollErr(ctx, f); err != nil {
		b.Fatalf("waiting for %s: %v", what, err)
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	p50, p99 := percentiles(lat)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
}

// waitDaemonBridge waits, through the daemon's local API (as `avshub status`
// reads it), until the named bridge runs and is healthy, and returns the client.
func (e *testEnv) waitDaemonBridge(ctx context.Context, bridge string) *web.Client {
	e.t.Helper()
	api := web.NewClient(filepath.Join(e.dir, "avshub.sock"))
	e.poll(ctx, "the daemon's "+bridge+" bridge to be healthy", func() error {
		st, err := api.Status(ctx)
		if err != nil {
			return err
		}
		for _, br := range st.Bridges {
			if br.Name == bridge {
				if br.State != "running" || br.Health != string(model.HealthHealthy) {
					return fmt.Errorf("%s bridge %s %s", bridge, br.State, br.Health)
				}
				return nil
			}
		}
		return fmt.Errorf("no %s bridge among %v", bridge, st.Bridges)
	})
	return api
}

// waitDaemonEndpoint waits until the daemon holds a reachable endpoint of
// bridge that match accepts and Alexa (the emulator) knows it; it returns
// the endpoint's global id.
func (e *testEnv) waitDaemonEndpoint(ctx context.Context, bridge string, match func(model.Endpoint) bool) string {
	e.t.Helper()
	api := web.NewClient(filepath.Join(e.dir, "avshub.sock"))
	var found string
	e.poll(ctx, "a "+bridge+" endpoint published, reachable and known by Alexa", func() error {
		eps, err := api.Endpoints(ctx)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.Endpoint.Bridge != bridge || !match(ep.Endpoint) {
				continue
			}
			if !ep.Reachable {
				return fmt.Errorf("%s unreachable", ep.Endpoint.ID)
			}
			if _, ok := e.emu.Endpoint(ep.Endpoint.ID); !ok {
				return fmt.Errorf("Alexa does not know %s", ep.Endpoint.ID)
			}
			found = ep.Endpoint.ID
			return nil
		}
		return fmt.Errorf("no such %s endpoint among %d", bridge, len(eps))
	})
	return found
}

// znpLink is the test's own MT client on the coordinator emulator's pty.
type znpLink struct {
	c     *mt.Client
	trans uint8
	tsn   uint8
}

// openZNP opens the pty as the bridge does (go.bug.st/serial, 115200 8N1) and
// runs an MT client on it until the benchmark ends.
func openZNP(b *testing.B, link string) *znpLink {
	port, err := serial.Open(link, &serial.Mode{BaudRate: 115200, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		b.Fatalf("open %s: %v", link, err)
	}
	c := mt.New(port, mt.Options{Logger: e2eQuietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx) // closes the port when ctx ends
	}()
	go func() {
		for range c.Events() { // reports and other callbacks nobody waits for
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return &znpLink{c: c}
}

// onOff sends a ZCL On or Off command to nwk/ep and waits for everything the
// bridge waits for: the SRSP, AF_DATA_CONFIRM and the ZCL Default Response,
// which must say SUCCESS.
func (z *znpLink) onOff(nwk uint16, ep uint8, on bool) error {
	z.trans++
	z.tsn++
	trans, tsn := z.trans, z.tsn
	cmd := uint8(zcl.CmdOff)
	if on {
		cmd = zcl.CmdOn
	}
	frame := zcl.Frame{Header: zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ClientToServer, TSN: tsn, Command: cmd}}.Marshal()
	req := binary.LittleEndian.AppendUint16(nil, nwk)
	req = append(req, ep, 1)
	req = binary.LittleEndian.AppendUint16(req, zcl.ClusterOnOff)
	req = append(req, trans, 0, 30, byte(len(frame)))
	req = append(req, frame...)

	conf := z.c.Wait(mt.MatchAREQ(unpi.AF, mt.AfDataConfirm, func(d []byte) bool { return len(d) >= 3 && d[2] == trans }))
	rsp := z.c.Wait(mt.MatchAREQ(unpi.AF, mt.AfIncomingMsg, func(d []byte) bool {
		// group(2) cluster(2) src(2) srcEP dstEP broadcast lqi security timestamp(4) seq len data
		if len(d) < 17 || binary.LittleEndian.Uint16(d[2:]) != zcl.ClusterOnOff || binary.LittleEndian.Uint16(d[4:]) != nwk || len(d) < 17+int(d[16]) {
			return false
		}
		f, err := zcl.Parse(d[17 : 17+int(d[16])])
		return err == nil && f.TSN == tsn && f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdDefaultRsp
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srsp, err := z.c.Request(ctx, unpi.AF, mt.AfDataRequest, req, 0)
	if err == nil && (len(srsp) < 1 || srsp[0] != mt.StatusSuccess) {
		err = fmt.Errorf("AF_DATA_REQUEST answered % x", srsp)
	}
	if err != nil {
		conf.Cancel()
		rsp.Cancel()
		return err
	}
	f, err := z.c.Await(ctx, conf, 0, "AF_DATA_CONFIRM")
	if err != nil {
		rsp.Cancel()
		return err
	}
	if f.Data[0] != mt.StatusSuccess {
		rsp.Cancel()
		return fmt.Errorf("AF_DATA_CONFIRM status 0x%02x", f.Data[0])
	}
	f, err = z.c.Await(ctx, rsp, 0, "ZCL Default Response")
	if err != nil {
		return err
	}
	zf, _ := zcl.Parse(f.Data[17 : 17+int(f.Data[16])])
	if c, st, err := zcl.ParseDefaultRsp(zf.Payload); err != nil || c != cmd || st != zcl.StatusSuccess {
		return fmt.Errorf("Default Response to 0x%02x: command 0x%02x status %v (%v)", cmd, c, st, err)
	}
	return nil
}

// benchMQTTClient connects a paho client to broker, subscribed (QoS 1) to
// topic; in receives the payload of every message on it.
func benchMQTTClient(b *testing.B, broker, topic string) (paho.Client, <-chan []byte) {
	in := make(chan []byte, 1024)
	o := paho.NewClientOptions().AddBroker(broker).SetClientID("avshub-bench-" + randomHex()).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		b.Fatalf("connect to %s: %v", broker, t.Error())
	}
	b.Cleanup(func() { c.Disconnect(100) })
	t := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		select {
		case in <- m.Payload():
		default: // the benchmark fails on the missing message
		}
	})
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		b.Fatalf("subscribe %s: %v", topic, t.Error())
	}
	return c, in
}

// mqttPublish publishes at QoS 1 and waits for the PUBACK, as bridge-mqtt does.
func mqttPublish(c paho.Client, topic string, payload []byte) error {
	t := c.Publish(topic, 1, false, payload)
	if !t.WaitTimeout(5 * time.Second) {
		return fmt.Errorf("publish to %s: no PUBACK", topic)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

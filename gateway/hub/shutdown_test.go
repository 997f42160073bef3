package hub

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/discovery/model"
)

// freeAddr returns a loopback address with a free port.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestShutdownMarksOfflineOnOwnBroker: on shutdown the hub publishes
// avshub/status offline on its own embedded broker before that broker
// closes (it used to close first: the publish waited 5 s and failed with a warning).
func TestShutdownMarksOfflineOnOwnBroker(t *testing.T) {
	addr := freeAddr(t)
	e := newEnv(t, envOptions{EmbeddedBroker: addr})
	e.start()
	e.waitConnected()
	msgs := make(chan string, 16)
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("watcher").SetAutoReconnect(false).
		SetConnectRetry(true).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to the hub's broker: %v", tok.Error())
	}
	defer cl.Disconnect(0)
	if tok := cl.Subscribe("avshub/status", 1, func(_ paho.Client, m paho.Message) { msgs <- string(m.Payload()) }); !tok.WaitTimeout(5 * time.Second) {
		t.Fatal("subscribe timed out")
	}
	for got := ""; got != "online"; {
		select {
		case got = <-msgs:
		case <-time.After(15 * time.Second):
			t.Fatal("the hub never said online")
		}
	}
	from := strings.Count(e.log.tail(100000), "\n")
	e.stop()
	select {
	case got := <-msgs:
		if got != "offline" {
			t.Fatalf("got %q on shutdown, want offline", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hub did not publish offline on its own broker when it stopped")
	}
	lines := strings.Split(e.log.tail(100000), "\n")
	for _, l := range lines[min(from, len(lines)):] {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "component=dashboard") {
			t.Errorf("a dashboard warning on shutdown: %s", l)
		}
	}
}

// quietStop starts a hub with the three bundled bridges (virtual; Zigbee on
// znp-sim behind a pty; MQTT on the hub's own embedded broker) and its
// dashboard, waits until every bridge is healthy and stops it; it returns
// how long the stop took and the hub's warning and error lines from the stop.
func quietStop(tb testing.TB, zr *zigbeeRig) (time.Duration, []string) {
	tb.Helper()
	broker := freeAddr(tb)
	e := newEnv(tb, envOptions{EmbeddedBroker: broker, ExtraBridges: zigbeeBridgeYAML(zr.link) + mqttBridgeYAML("tcp://"+broker)})
	e.start()
	e.waitConnected()
	e.poll(deadlineCtx(tb), "every bridge healthy", func() error {
		for _, b := range []string{"virtual", "zigbee", "mqtt"} {
			if state, health, _, _ := e.bridgeStatus(b); state != "running" || health != string(model.HealthHealthy) {
				return fmt.Errorf("bridge %s %s %s", b, state, health)
			}
		}
		return nil
	})
	from := strings.Count(e.log.tail(1<<30), "\n")
	start := time.Now()
	e.stop()
	took := time.Since(start)
	lines := strings.Split(e.log.tail(1<<30), "\n")
	var bad []string
	for _, l := range lines[min(from, len(lines)):] {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			bad = append(bad, l)
		}
	}
	return took, bad
}

// TestShutdownQuietWithEveryBridge (issue 16 point 7): a hub running the
// three bundled bridges and its embedded broker stops without a warning or
// an error in its log (it used to log two warnings and take about 5 s; how
// long it takes is BenchmarkShutdown's).
func TestShutdownQuietWithEveryBridge(t *testing.T) {
	took, bad := quietStop(t, startZigbeeSim(t))
	t.Logf("the hub stopped in %v", took)
	for _, l := range bad {
		t.Errorf("logged while stopping: %s", l)
	}
}

// BenchmarkShutdown measures how long the hub takes to stop (cancel to Run
// returning: bridges stopped, broker closed, database closed) with the three
// bundled bridges and its embedded broker (the goal: under a second).
func BenchmarkShutdown(b *testing.B) {
	zr := startZigbeeSim(b)
	var total time.Duration
	for range b.N {
		took, bad := quietStop(b, zr)
		total += took
		for _, l := range bad {
			b.Errorf("logged while stopping: %s", l)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/stop")
}

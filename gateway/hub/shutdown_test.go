package hub

import (
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
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

package dashboard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentBroker is an MQTT 3.1.1 broker that accepts a connection and its
// subscriptions but never acknowledges a publication (but the hub's
// "offline" as it stops): a QoS 1 publish waits for its PUBACK until the
// publisher stops. published is signalled for each PUBLISH it receives.
func silentBroker(t *testing.T) (url string, published <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pub := make(chan string, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					kind, body, err := readPacket(r)
					if err != nil {
						return
					}
					var reply []byte
					switch kind >> 4 {
					case 1: // CONNECT
						reply = []byte{0x20, 2, 0, 0}
					case 8: // SUBSCRIBE: grant every filter at QoS 1
						n := 0
						for rest := body[2:]; len(rest) >= 2; n++ {
							l := int(binary.BigEndian.Uint16(rest))
							rest = rest[min(2+l+1, len(rest)):]
						}
						reply = append([]byte{0x90, byte(2 + n), body[0], body[1]}, bytes.Repeat([]byte{1}, n)...)
					case 12: // PINGREQ
						reply = []byte{0xD0, 0}
					case 3: // PUBLISH: acknowledged only for the hub's last word, offline
						l := int(binary.BigEndian.Uint16(body))
						id, payload := body[2+l:4+l], string(body[4+l:])
						if payload == PayloadOffline {
							reply = []byte{0x40, 2, id[0], id[1]}
							break
						}
						select {
						case pub <- string(body[2 : 2+l]):
						default:
						}
					}
					if reply != nil {
						if _, err := c.Write(reply); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "tcp://" + l.Addr().String(), pub
}

// readPacket reads one MQTT control packet: its first byte and its body.
func readPacket(r *bufio.Reader) (byte, []byte, error) {
	kind, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, shift := 0, 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
	}
	body := make([]byte, n)
	_, err = io.ReadFull(r, body)
	return kind, body, err
}

// TestStopWhilePublishing (issue 16 point 7): a hub stopped while a
// publication waits for the broker's acknowledgement (its first burst of
// discovery and state, a device changing as it stops) stops at once and
// without a warning: the publication was abandoned because the hub is
// stopping, not lost ("MQTT publish failed … timed out" was logged at every
// such stop).
func TestStopWhilePublishing(t *testing.T) {
	url, published := silentBroker(t)
	h := newTestHub(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	lw := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(b) })
	_, stop := runPublisher(t, Config{Broker: url, Logger: slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))}, h.reg, h)
	select {
	case topic := <-published:
		t.Logf("the publisher waits for the acknowledgement of %s", topic)
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher published nothing")
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("logged while stopping: %s", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

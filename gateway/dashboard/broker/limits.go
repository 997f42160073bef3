package broker

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Limits bound what MQTT clients may make the broker hold. A zero field takes
// its default; the hub's own clients are exempt from the client cap, the queue
// bound and the retained caps (what they publish is bounded by the registry).
type Limits struct {
	// MaxPacketSize is the largest MQTT packet accepted, in bytes (default 1 MiB).
	// It is checked on the packet's fixed header, before anything is allocated;
	// a larger packet ends the connection.
	MaxPacketSize int
	// SessionExpiry is how long a disconnected client's session (subscriptions,
	// queued messages) is kept (default 1 h; MQTT 5 clients may ask for less).
	SessionExpiry time.Duration
	// MaxQueueBytes bounds the payload bytes queued for one client, online or
	// not (default 256 KiB); messages beyond it are dropped for that client.
	// One message is always allowed into an empty queue.
	MaxQueueBytes int
	// MaxClients bounds the sessions, connected or kept for a disconnected
	// client (default 100); a new client beyond it is refused.
	MaxClients int
	// MaxRetained bounds the retained topics (default 10,000).
	MaxRetained int
	// MaxRetainedBytes bounds the payload bytes of retained messages (default 16 MiB).
	MaxRetainedBytes int
	// MaxSubscriptions bounds the topic filters one client may subscribe to
	// (default 1,000); a filter beyond it is refused in the SUBACK.
	MaxSubscriptions int
}

// The Limits defaults.
const (
	DefaultMaxPacketSize    = 1 << 20
	DefaultSessionExpiry    = time.Hour
	DefaultMaxQueueBytes    = 256 << 10
	DefaultMaxClients       = 100
	DefaultMaxRetained      = 10000
	DefaultMaxRetainedBytes = 16 << 20
	DefaultMaxSubscriptions = 1000
)

// Pre-login bounds, fixed: a CONNECT is small (a Will payload is its largest
// part), and connections that have not logged in yet cost memory without
// anyone answering for them.
const (
	// maxConnectSize is the largest CONNECT packet accepted, in bytes.
	maxConnectSize = 64 << 10
	// maxPendingLogins bounds the connections that have not been answered a CONNACK yet.
	maxPendingLogins = 64
	// maxInflight bounds the QoS 1/2 messages held per client (mochi's default is 8,192).
	maxInflight = 1024
	// maxWritesPending bounds the packets waiting to be written to one client (mochi: 8,192).
	maxWritesPending = 256
)

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxPacketSize, DefaultMaxPacketSize)
	def(&l.MaxQueueBytes, DefaultMaxQueueBytes)
	def(&l.MaxClients, DefaultMaxClients)
	def(&l.MaxRetained, DefaultMaxRetained)
	def(&l.MaxRetainedBytes, DefaultMaxRetainedBytes)
	def(&l.MaxSubscriptions, DefaultMaxSubscriptions)
	if l.SessionExpiry <= 0 {
		l.SessionExpiry = DefaultSessionExpiry
	}
	return l
}

// capabilities applies l to mochi's capabilities.
func (l Limits) capabilities(c *mqtt.Capabilities) {
	c.MaximumPacketSize = uint32(l.MaxPacketSize)
	c.MaximumSessionExpiryInterval = uint32(max(1, l.SessionExpiry/time.Second))
	c.MaximumClients = int64(l.MaxClients)
	c.MaximumInflight = maxInflight
	c.MaximumClientWritesPending = maxWritesPending
}

// limitsHook enforces the session, queue and retained caps mochi lacks.
type limitsHook struct {
	mqtt.HookBase
	server   *mqtt.Server
	limits   Limits
	internal func(cl *mqtt.Client) bool // a hub client, exempt

	mu       sync.Mutex
	retained map[string]int // topic → retained payload bytes
	total    int            // sum of retained
}

// ID names the hook.
func (h *limitsHook) ID() string { return "avshub-limits" }

// Provides says which hook methods are implemented.
func (h *limitsHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnPublish, mqtt.OnRetainMessage, mqtt.OnClientExpired, mqtt.OnSubscribe:
		return true
	}
	return false
}

// errTooManyClients ends a connection refused by the session cap.
var errTooManyClients = errors.New("mqtt broker: too many client sessions")

// OnConnect refuses a new session (a client id the broker does not hold)
// beyond MaxClients, with "server unavailable" (MQTT 5: "server busy").
func (h *limitsHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if _, ok := h.server.Clients.Get(cl.ID); ok || h.server.Clients.Len() < h.limits.MaxClients || h.internal(cl) {
		return nil
	}
	h.Log.Warn("MQTT client refused: the broker holds its maximum of client sessions (mqtt.embedded.limits.maxClients)",
		"max", h.limits.MaxClients, "client", cl.ID, "remote", cl.Net.Remote)
	code := packets.ErrServerBusy
	if cl.Properties.ProtocolVersion < 5 {
		code = packets.Err3ServerUnavailable
	}
	if err := h.server.SendConnack(cl, code, false, nil); err != nil {
		return fmt.Errorf("%w (CONNACK: %w)", errTooManyClients, err)
	}
	return errTooManyClients
}

// queueFull reports whether the QoS 1/2 messages held for cl (sent but
// unacknowledged, or waiting while it is offline) reach MaxQueueBytes: the
// broker then delivers it nothing more until they shrink. A queue thus holds
// at most MaxQueueBytes plus one packet.
func (h *limitsHook) queueFull(cl *mqtt.Client, topic string) bool {
	if h.internal(cl) || cl.State.Inflight.Len() == 0 {
		return false
	}
	if !cl.Closed() {
		// A connected client drains its own queue; its outbound buffer is
		// bounded separately. Counting its in-flight messages here dropped
		// live deliveries (TestQueueBytes's live subscriber lost one now and then).
		return false
	}
	queued := 0
	for _, q := range cl.State.Inflight.GetAll(false) {
		queued += len(q.Payload)
	}
	if queued < h.limits.MaxQueueBytes {
		return false
	}
	h.Log.Warn("MQTT message dropped for a client whose queue is full (mqtt.embedded.limits.maxQueueBytes)",
		"client", cl.ID, "topic", topic, "queued_bytes", queued, "max", h.limits.MaxQueueBytes)
	return true
}

// OnPublish keeps a retained publication beyond MaxRetained topics or
// MaxRetainedBytes from being retained (it is still delivered live).
func (h *limitsHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if !pk.FixedHeader.Retain || len(pk.Payload) == 0 || h.internal(cl) {
		return pk, nil
	}
	h.mu.Lock()
	old, exists := h.retained[pk.TopicName]
	count, total := len(h.retained), h.total-old+len(pk.Payload)
	h.mu.Unlock()
	if (exists || count < h.limits.MaxRetained) && total <= h.limits.MaxRetainedBytes {
		return pk, nil
	}
	h.Log.Warn("MQTT retained message not retained: the broker holds its maximum (mqtt.embedded.limits.maxRetained, maxRetainedBytes)",
		"client", cl.ID, "topic", pk.TopicName, "retained", count, "max", h.limits.MaxRetained,
		"retained_bytes", h.total, "max_bytes", h.limits.MaxRetainedBytes)
	pk.FixedHeader.Retain = false
	return pk, nil
}

// refusedFilter stands, in a SUBSCRIBE, for a filter past the client's
// MaxSubscriptions: the auth hook refuses it, so its SUBACK code says "not
// authorized" (MQTT 3: failure) and nothing is subscribed.
const refusedFilter = "$avshub/refused/too-many-subscriptions"

// OnSubscribe replaces every new filter past MaxSubscriptions (counting the
// client's subscriptions and this packet's earlier new filters) with
// refusedFilter; a filter it already holds is renewed.
func (h *limitsHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if h.internal(cl) {
		return pk
	}
	n := cl.State.Subscriptions.Len()
	seen := map[string]bool{}
	var refused int
	for i, sub := range pk.Filters {
		if _, held := cl.State.Subscriptions.Get(sub.Filter); held || seen[sub.Filter] {
			continue
		}
		if n >= h.limits.MaxSubscriptions {
			pk.Filters[i].Filter = refusedFilter
			refused++
			continue
		}
		seen[sub.Filter] = true
		n++
	}
	if refused > 0 {
		h.Log.Warn("MQTT subscriptions refused: the client holds its maximum (mqtt.embedded.limits.maxSubscriptions)",
			"client", cl.ID, "refused", refused, "max", h.limits.MaxSubscriptions)
	}
	return pk
}

// OnClientExpired drops an expired session's subscriptions and queue (mochi
// v2.7.9 forgets the session but leaves its subscriptions in the topic index).
func (h *limitsHook) OnClientExpired(cl *mqtt.Client) {
	h.server.UnsubscribeClient(cl)
	cl.ClearInflights()
}

// OnRetainMessage keeps the retained sizes current.
func (h *limitsHook) OnRetainMessage(_ *mqtt.Client, pk packets.Packet, _ int64) {
	h.setRetained(pk.TopicName, len(pk.Payload))
}

// setRetained records topic's retained payload size (0: none). The broker's
// own $SYS topics are not counted.
func (h *limitsHook) setRetained(topic string, n int) {
	if strings.HasPrefix(topic, "$") {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total -= h.retained[topic]
	if n == 0 {
		delete(h.retained, topic)
		return
	}
	h.retained[topic] = n
	h.total += n
}

// loadRetained counts the retained messages the broker restored from its store.
func (h *limitsHook) loadRetained() {
	for topic, pk := range h.server.Topics.Retained.GetAll() {
		h.mu.Lock()
		_, known := h.retained[topic]
		h.mu.Unlock()
		if !known {
			h.setRetained(topic, len(pk.Payload))
		}
	}
}

package broker

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/avshub/avshub/discovery/model"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Limits bound what MQTT clients may make the broker hold. A zero field takes
// its default; the hub's own clients (logged in as InternalUsername) are exempt
// from the client cap, the queue bounds and the retained caps and budgets
// (what they publish is bounded by the registry), so that no client filling a
// budget can make the broker drop the hub's own state and discovery messages.
//
// Three budgets bound the broker's memory as a whole, whatever the number of
// clients: MaxQueueBytesTotal the messages held for all clients,
// MaxRetainedBytes the retained messages and MaxWillBytes the Wills held for
// connected clients. They count a message as the memory it takes: its
// payload and topic plus MessageOverhead. The Wills have their own budget so
// that a flood of retained messages does not lock out clients that leave a
// Will (Home Assistant does), nor a flood of Wills stop retained state.
type Limits struct {
	// MaxPacketSize is the largest MQTT packet accepted, in bytes (default 1 MiB).
	// It is checked on the packet's fixed header, before anything is allocated;
	// a larger packet ends the connection.
	MaxPacketSize int
	// SessionExpiry is how long a disconnected client's session (subscriptions,
	// queued messages) is kept (default 1 h; MQTT 5 clients may ask for less).
	SessionExpiry time.Duration
	// MaxQueueBytes bounds the payload bytes queued for one disconnected
	// client (default 256 KiB); messages beyond it are dropped for that
	// client. One message is always allowed into an empty queue. A connected
	// client's unacknowledged messages are bounded by MaxOutboundBytes and
	// MaxQueueBytesTotal; they stay in its session when it disconnects.
	MaxQueueBytes int
	// MaxClients bounds the sessions, connected or kept for a disconnected
	// client (default 100); a new client beyond it is refused.
	MaxClients int
	// MaxRetained bounds the retained topics (default 10,000).
	MaxRetained int
	// MaxQueueBytesTotal bounds the QoS 1/2 messages held for all clients
	// together, connected (sent, not yet acknowledged) or not (queued), in
	// bytes (default 4 MiB). A message that would go past it is dropped for
	// the client it was for, the newest first: what the client was sent or
	// queued before stays, in order.
	MaxQueueBytesTotal int
	// MaxRetainedBytes bounds the retained messages, in bytes (default 4
	// MiB): past it a retained message (or Will) on a new topic, or larger
	// than the one it replaces, is delivered but not retained.
	MaxRetainedBytes int
	// MaxWillBytes bounds the Wills held for connected clients, in bytes
	// (default 1 MiB): past it a CONNECT with a Will is refused.
	MaxWillBytes int
	// MaxSubscriptions bounds the topic filters one client may subscribe to
	// (default 1,000); a filter beyond it is refused in the SUBACK.
	MaxSubscriptions int
	// MaxOutboundBytes bounds the messages waiting in one connected
	// client's outbound buffer, not yet written to its socket (default 1
	// MiB); a message past it is dropped for that client. One message is
	// always let into an empty buffer.
	MaxOutboundBytes int
	// MaxOutboundBytesTotal bounds the messages waiting in all connected
	// clients' outbound buffers together (default 4 MiB); a message past it
	// is dropped for the client it was for.
	MaxOutboundBytesTotal int

	// outboundStall is how long a client may write nothing while messages
	// are dropped for it before it is disconnected (10 s; tests shorten it).
	outboundStall time.Duration
}

// The Limits defaults.
const (
	DefaultMaxPacketSize      = 1 << 20
	DefaultSessionExpiry      = time.Hour
	DefaultMaxQueueBytes      = 256 << 10
	DefaultMaxClients         = 100
	DefaultMaxRetained        = 10000
	DefaultMaxRetainedBytes   = 4 << 20
	DefaultMaxSubscriptions   = 1000
	DefaultMaxQueueBytesTotal = 4 << 20
	DefaultMaxWillBytes       = 1 << 20

	DefaultMaxOutboundBytes      = 1 << 20
	DefaultMaxOutboundBytesTotal = 4 << 20
)

// MessageOverhead is what the budgets count for one message beyond its
// payload and topic: the broker's copy of its packet (800 bytes in mochi
// v2.7.9) and its index entries.
const MessageOverhead = 1024

// messageSize is what a message counts against a budget.
func messageSize(topic string, payload []byte) int {
	return len(topic) + len(payload) + MessageOverhead
}

// retainedOverhead and topicLevelOverhead are what the retained messages
// count in MaxRetainedBytes beyond their payloads and topics: mochi (v2.7.9)
// keeps a copy of each message's packet in its retained store and a node in
// its topic index for each level of a topic (about 600 bytes: the node and
// its three maps). retainedOverhead is a message's packet and its topic's
// last level; topicLevelOverhead each parent level (a topic's prefix up to
// a '/') that no other counted retained topic has, with the broker's count
// of it. Measured (TestRetainedBytesCountWhatIsHeld): 1,454 bytes for a
// message whose last level alone is new, about 640 more for each new parent
// level.
const (
	retainedOverhead   = 1536
	topicLevelOverhead = 704
)

// retainedSize is what a retained message counts in MaxRetainedBytes,
// besides its topic's parent levels (topicLevelOverhead each, once for all
// the topics under them).
func retainedSize(topic string, payload []byte) int {
	return len(topic) + len(payload) + retainedOverhead
}

// parents calls f with each parent level of topic: its prefixes up to a '/'.
func parents(topic string, f func(prefix string)) {
	for i := range len(topic) {
		if topic[i] == '/' {
			f(topic[:i])
		}
	}
}

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
	// maxTopicLevels bounds the levels of a topic a client publishes on
	// (its Will's included) or a filter it subscribes to. Mochi's topic
	// index holds a node of about 600 bytes for each level of a retained
	// topic or a filter that no other shares: a 60 KB topic of 30,000
	// levels took 18 MB, from one packet. Mosquitto refuses more than 200
	// levels; Home Assistant's and zigbee2mqtt's topics have 2 to 6.
	maxTopicLevels = 32
)

// topicLevels is the number of levels of an MQTT topic or filter.
func topicLevels(topic string) int { return strings.Count(topic, "/") + 1 }

// tooDeep reports whether a client other than the hub's own publishes on
// (or leaves a Will on, or subscribes to) a topic of more than
// maxTopicLevels levels; a refusal is logged and counted.
func (h *limitsHook) tooDeep(cl *mqtt.Client, topic, what string) bool {
	if h.internal(cl) || topicLevels(topic) <= maxTopicLevels {
		return false
	}
	h.count("maxTopicLevels")
	h.Log.Warn("MQTT "+what+" refused: its topic has more levels than the broker takes",
		"client", cl.ID, "remote", cl.Net.Remote, "levels", topicLevels(topic), "max", maxTopicLevels, "topic", model.Abbreviate(topic, 120))
	return true
}

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
	def(&l.MaxQueueBytesTotal, DefaultMaxQueueBytesTotal)
	def(&l.MaxWillBytes, DefaultMaxWillBytes)
	def(&l.MaxOutboundBytes, DefaultMaxOutboundBytes)
	def(&l.MaxOutboundBytesTotal, DefaultMaxOutboundBytesTotal)
	if l.outboundStall <= 0 {
		l.outboundStall = defaultOutboundStall
	}
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

// limitsHook enforces the session, queue and retained caps and the memory
// budgets mochi lacks.
type limitsHook struct {
	mqtt.HookBase
	server   *mqtt.Server
	limits   Limits
	internal func(cl *mqtt.Client) bool // a hub client, exempt
	// refused, when set, counts a refusal by the limit's name (for metrics).
	refused func(limit string)

	mu       sync.Mutex
	retained map[string]int // topic → retained size (retainedSize), the hub's own not counted
	parents  map[string]int // parent level of a topic in retained → how many of them it has
	total    int            // sum of retained, and topicLevelOverhead for each of parents

	qmu     sync.Mutex
	queued  int       // bytes held for clients: counted at the last scan, plus what was queued since
	scanned time.Time // when the held messages were last counted

	wmu     sync.Mutex
	delayed map[string]delayedWill // client id → its Will, delayed after its connection ended

	smu             sync.Mutex
	subPending      map[*mqtt.Client]int // filter bytes admitted by OnSubscribe, not yet in the index
	subPendingTotal int
}

// delayedWill is a Will (MQTT 5 Will Delay Interval) the broker holds after
// its client's connection ended, until it is published or cancelled.
type delayedWill struct {
	client *mqtt.Client // whose connection ended
	size   int          // messageSize
	until  time.Time    // when mochi has published it at the latest
}

// delayedWillGrace is how long after its delay a Will may still wait:
// mochi publishes delayed Wills once a second, on whole seconds.
const delayedWillGrace = 2 * time.Second

// queueRescan is how often, at most, the messages held for all clients are
// counted again while MaxQueueBytesTotal looks full: between two counts only
// the messages added are counted (acknowledged ones are not seen), so the
// total is never under-estimated.
const queueRescan = 100 * time.Millisecond

// ID names the hook.
func (h *limitsHook) ID() string { return "avshub-limits" }

// Provides says which hook methods are implemented.
func (h *limitsHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnPublish, mqtt.OnRetainMessage, mqtt.OnClientExpired, mqtt.OnSubscribe, mqtt.OnSubscribed,
		mqtt.OnQosPublish, mqtt.OnWill, mqtt.OnWillSent, mqtt.OnSessionEstablished:
		return true
	}
	return false
}

// errTooManyClients ends a connection refused by the session cap.
var errTooManyClients = errors.New("mqtt broker: too many client sessions")

// errWillBudget ends a connection whose Will does not fit in MaxWillBytes.
var errWillBudget = errors.New("mqtt broker: no room for the client's Will")

// OnConnect refuses a new session (a client id the broker does not hold)
// beyond MaxClients, with "server unavailable" (MQTT 5: "server busy"), and a
// client whose Will does not fit in what MaxWillBytes leaves, with
// "server unavailable" (MQTT 5: "quota exceeded").
func (h *limitsHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if h.internal(cl) {
		return nil
	}
	if _, ok := h.server.Clients.Get(cl.ID); !ok && h.server.Clients.Len() >= h.limits.MaxClients {
		h.Log.Warn("MQTT client refused: the broker holds its maximum of client sessions (mqtt.embedded.limits.maxClients)",
			"max", h.limits.MaxClients, "client", cl.ID, "remote", cl.Net.Remote)
		return h.refuseConnect(cl, "maxClients", packets.ErrServerBusy, errTooManyClients)
	}
	if !pk.Connect.WillFlag {
		return nil
	}
	size := messageSize(pk.Connect.WillTopic, pk.Connect.WillPayload)
	if wills := h.willsHeld(); wills+size > h.limits.MaxWillBytes {
		h.Log.Warn("MQTT client refused: its Will does not fit in the broker's budget for Wills (mqtt.embedded.limits.maxWillBytes)",
			"client", cl.ID, "remote", cl.Net.Remote, "will_bytes", size, "wills_bytes", wills, "max", h.limits.MaxWillBytes)
		return h.refuseConnect(cl, "maxWillBytes", packets.ErrQuotaExceeded, errWillBudget)
	}
	return nil
}

// refuseConnect answers cl's CONNECT with code (MQTT 3: "server
// unavailable"), counts the refusal by limit and returns err.
func (h *limitsHook) refuseConnect(cl *mqtt.Client, limit string, code packets.Code, err error) error {
	h.count(limit)
	if cl.Properties.ProtocolVersion < 5 {
		code = packets.Err3ServerUnavailable
	}
	if cerr := h.server.SendConnack(cl, code, false, nil); cerr != nil {
		return fmt.Errorf("%w (CONNACK: %w)", err, cerr)
	}
	return err
}

// count reports a refusal by limit to the metrics.
func (h *limitsHook) count(limit string) {
	if h.refused != nil {
		h.refused(limit)
	}
}

// willsHeld is the size of the Wills the broker holds for its clients (the
// hub's own not counted): those of its clients, and the delayed Wills of
// connections that ended, until they are published or cancelled. Clients
// still logging in are not among them: at most maxPendingLogins CONNECTs of
// maxConnectSize may pass the check at once.
func (h *limitsHook) willsHeld() int {
	now := time.Now()
	h.wmu.Lock()
	n := 0
	for id, w := range h.delayed {
		if now.After(w.until) {
			delete(h.delayed, id) // published by now
			continue
		}
		n += w.size
	}
	delayed := maps.Clone(h.delayed)
	h.wmu.Unlock()
	for id, cl := range h.server.Clients.GetAll() {
		if w, ok := delayed[id]; ok && (cl.Closed() || w.client == cl) {
			// Counted above. Mochi (v2.7.9) calls OnWill before it marks
			// the client closed, and clears the client's Will after: in
			// between, the same Will is both delayed and the client's.
			continue
		}
		if !h.internal(cl) && atomic.LoadUint32(&cl.Properties.Will.Flag) == 1 {
			n += messageSize(cl.Properties.Will.TopicName, cl.Properties.Will.Payload)
		}
	}
	return n
}

// OnWill keeps a Will from being retained when the retained caps are
// reached (it is still published): the broker retains a Will past OnPublish.
//
// A delayed Will (MQTT 5) waits no longer than its client's session (MQTT
// 3.1.2.5: it is published when the delay ends or the session does, the
// earlier): mochi v2.7.9 held it for its whole delay after a session that
// ended with the connection, or one cut to the broker's SessionExpiry,
// although the client was gone. While it waits, it counts in MaxWillBytes.
func (h *limitsHook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if h.internal(cl) {
		return will, nil
	}
	if will.Retain && !h.mayRetain(cl, will.TopicName, will.Payload) {
		will.Retain = false
	}
	// Mochi reads the delay from the client, after this hook.
	if delay := cl.Properties.Will.WillDelayInterval; delay > 0 {
		session := uint32(0) // MQTT 3, or MQTT 5 without a Session Expiry Interval: ends with the connection
		if cl.Properties.ProtocolVersion == 5 {
			session = min(cl.Properties.Props.SessionExpiryInterval, uint32(h.limits.SessionExpiry/time.Second))
		}
		if delay > session {
			delay = session
			cl.Properties.Will.WillDelayInterval = delay
		}
		if delay > 0 {
			h.wmu.Lock()
			h.delayed[cl.ID] = delayedWill{client: cl, size: messageSize(will.TopicName, will.Payload),
				until: time.Now().Add(time.Duration(delay)*time.Second + delayedWillGrace)}
			h.wmu.Unlock()
		}
	}
	return will, nil
}

// OnWillSent forgets a delayed Will once published.
func (h *limitsHook) OnWillSent(cl *mqtt.Client, _ packets.Packet) {
	h.forgetDelayedWill(cl.ID)
}

// OnSessionEstablished forgets the delayed Will of a client that is back:
// mochi has cancelled it (MQTT 3.1.3.2.2).
func (h *limitsHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	h.forgetDelayedWill(cl.ID)
}

func (h *limitsHook) forgetDelayedWill(id string) {
	h.wmu.Lock()
	delete(h.delayed, id)
	h.wmu.Unlock()
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
	h.count("maxQueueBytes")
	h.Log.Warn("MQTT message dropped for a client whose queue is full (mqtt.embedded.limits.maxQueueBytes)",
		"client", cl.ID, "topic", topic, "queued_bytes", queued, "max", h.limits.MaxQueueBytes)
	return true
}

// OnQosPublish holds the messages queued for all clients to
// MaxQueueBytesTotal: mochi has just added a new QoS 1/2 message for cl to its
// in-flight store; one that does not fit is taken out again, so it is not
// kept for cl (a connected client is still sent it once, without redelivery).
// Redeliveries (DUP) were counted when first queued; the hub's own clients
// are exempt (their messages are neither counted nor dropped).
func (h *limitsHook) OnQosPublish(cl *mqtt.Client, pk packets.Packet, _ int64, _ int) {
	if pk.FixedHeader.Type != packets.Publish || pk.FixedHeader.Dup || h.internal(cl) {
		return
	}
	size := messageSize(pk.TopicName, pk.Payload)
	held, ok := h.admitQueued(size)
	if ok {
		return
	}
	if cl.State.Inflight.Delete(pk.PacketID) {
		atomic.AddInt64(&h.server.Info.Inflight, -1)
		// mochi takes one from the client's send quota (MQTT 5 receive
		// maximum) after this hook: give it back first.
		cl.State.Inflight.IncreaseSendQuota()
	}
	h.count("maxQueueBytesTotal")
	h.Log.Warn("MQTT message not queued: the messages held for all clients reach the broker's budget (mqtt.embedded.limits.maxQueueBytesTotal)",
		"client", cl.ID, "connected", !cl.Closed(), "topic", pk.TopicName, "bytes", size, "held_bytes", held,
		"max", h.limits.MaxQueueBytesTotal)
}

// admitQueued reports whether a message of size bytes, just queued, fits in
// MaxQueueBytesTotal, with the bytes held.
func (h *limitsHook) admitQueued(size int) (int, bool) {
	h.qmu.Lock()
	defer h.qmu.Unlock()
	if h.queued+size <= h.limits.MaxQueueBytesTotal {
		h.queued += size
		return h.queued, true
	}
	if time.Since(h.scanned) < queueRescan {
		return h.queued, false
	}
	h.scanned = time.Now()
	h.queued = h.queuedBytes() // the new message among them
	if h.queued <= h.limits.MaxQueueBytesTotal {
		return h.queued, true
	}
	h.queued -= size
	return h.queued, false
}

// queuedBytes counts the QoS 1/2 messages held for every client but the hub's own.
func (h *limitsHook) queuedBytes() int {
	n := 0
	for _, cl := range h.server.Clients.GetAll() {
		if h.internal(cl) {
			continue
		}
		for _, pk := range cl.State.Inflight.GetAll(false) {
			if pk.FixedHeader.Type == packets.Publish {
				n += messageSize(pk.TopicName, pk.Payload)
			}
		}
	}
	return n
}

// OnPublish keeps a retained publication beyond MaxRetained topics or
// MaxRetainedBytes from being retained (it is still delivered live). The
// DUP flag of an incoming PUBLISH is not passed on to subscribers (MQTT
// 3.3.1.1; mochi v2.7.9 passes it on, and OnQosPublish tells redeliveries by it).
//
// The topic is copied: mochi v2.7.9 decodes it as a string sharing the
// memory of the whole packet as read, so each subscriber's copy of the
// message, queued or in flight, and each retained message kept the packet's
// read buffer alive besides its own copy of the payload (a 1 MB message
// held for 3 slow readers: 3 copies and the 1 MB buffer the topic pinned;
// BenchmarkSlowReaders).
func (h *limitsHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	pk.FixedHeader.Dup = false
	pk.TopicName = strings.Clone(pk.TopicName)
	if !pk.FixedHeader.Retain || len(pk.Payload) == 0 || h.internal(cl) {
		return pk, nil
	}
	if !h.mayRetain(cl, pk.TopicName, pk.Payload) {
		pk.FixedHeader.Retain = false
	}
	return pk, nil
}

// mayRetain reports whether a client's retained message (or Will) on topic
// fits in MaxRetained topics and MaxRetainedBytes; a refusal is logged and counted.
func (h *limitsHook) mayRetain(cl *mqtt.Client, topic string, payload []byte) bool {
	size := retainedSize(topic, payload)
	h.mu.Lock()
	old, exists := h.retained[topic]
	count, total := len(h.retained), h.total
	if !exists {
		parents(topic, func(p string) {
			if h.parents[p] == 0 {
				size += topicLevelOverhead
			}
		})
	}
	h.mu.Unlock()
	if !exists && count >= h.limits.MaxRetained {
		h.count("maxRetained")
		h.Log.Warn("MQTT retained message not retained: the broker holds its maximum of retained topics (mqtt.embedded.limits.maxRetained)",
			"client", cl.ID, "topic", topic, "retained", count, "max", h.limits.MaxRetained)
		return false
	}
	if size <= old {
		return true
	}
	if total-old+size > h.limits.MaxRetainedBytes {
		h.count("maxRetainedBytes")
		h.Log.Warn("MQTT retained message not retained: the broker's budget for retained messages is full (mqtt.embedded.limits.maxRetainedBytes)",
			"client", cl.ID, "topic", topic, "bytes", size, "retained_bytes", total, "max", h.limits.MaxRetainedBytes)
		return false
	}
	return true
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
	var refused, overBudget int
	h.smu.Lock()
	defer h.smu.Unlock()
	held, parentLevels := h.subscriptionBytes()
	held += h.subPendingTotal
	for i, sub := range pk.Filters {
		if h.tooDeep(cl, sub.Filter, "subscription") {
			pk.Filters[i].Filter = refusedFilter
			continue
		}
		if _, ok := cl.State.Subscriptions.Get(sub.Filter); ok || seen[sub.Filter] {
			continue
		}
		if n >= h.limits.MaxSubscriptions {
			pk.Filters[i].Filter = refusedFilter
			refused++
			continue
		}
		size := subscriptionSize(sub.Filter)
		var added []string
		parents(sub.Filter, func(p string) {
			if !parentLevels[p] {
				added = append(added, p)
			}
		})
		size += len(added) * topicLevelOverhead
		if held+size > maxSubscriptionBytes {
			pk.Filters[i].Filter = refusedFilter
			overBudget++
			continue
		}
		for _, p := range added {
			parentLevels[p] = true
		}
		held += size
		h.subPending[cl] += size
		h.subPendingTotal += size
		seen[sub.Filter] = true
		n++
	}
	if refused > 0 {
		h.Log.Warn("MQTT subscriptions refused: the client holds its maximum (mqtt.embedded.limits.maxSubscriptions)",
			"client", cl.ID, "refused", refused, "max", h.limits.MaxSubscriptions)
	}
	if overBudget > 0 {
		for range overBudget {
			h.count("maxSubscriptionBytes")
		}
		h.Log.Warn("MQTT subscriptions refused: the filters of all clients reach the broker's budget for them",
			"client", cl.ID, "refused", overBudget, "held_bytes", held, "max", maxSubscriptionBytes)
	}
	return pk
}

// OnSubscribed: the filters admitted by OnSubscribe are in the index now
// (subscriptionBytes counts them).
func (h *limitsHook) OnSubscribed(cl *mqtt.Client, _ packets.Packet, _ []byte) {
	h.smu.Lock()
	defer h.smu.Unlock()
	h.subPendingTotal -= h.subPending[cl]
	delete(h.subPending, cl)
}

// maxSubscriptionBytes bounds the topic filters of all clients but the hub's
// own together, counted by subscriptionSize and topicLevelOverhead for each
// parent level (fixed): maxSubscriptions bounds one client's filters, and
// mochi's topic index holds a node of about 600 bytes per level of a filter,
// so 100 clients of 1,000 filters of 32 levels each could make it hold about
// 2 GB (3 such clients took 58 MB). A filter past it is refused in the
// SUBACK. Dashboards subscribe to a few filters, Home Assistant to one or
// two per entity (about 1 KiB each beside their common parent levels).
const maxSubscriptionBytes = 4 << 20

// subscriptionSize is what a filter counts in maxSubscriptionBytes besides
// its parent levels: its length and MessageOverhead for its subscription
// entries and its last level.
func subscriptionSize(filter string) int {
	return len(filter) + MessageOverhead
}

// subscriptionBytes is what the filters of every client but the hub's own
// count (subscriptionSize, and topicLevelOverhead for each of their distinct
// parent levels, returned); there are at most maxSubscriptionBytes /
// MessageOverhead of them to go through. h.smu is held.
func (h *limitsHook) subscriptionBytes() (int, map[string]bool) {
	n, levels := 0, map[string]bool{}
	for _, cl := range h.server.Clients.GetAll() {
		if h.internal(cl) {
			continue
		}
		for f := range cl.State.Subscriptions.GetAll() {
			n += subscriptionSize(f)
			parents(f, func(p string) {
				if !levels[p] {
					levels[p] = true
					n += topicLevelOverhead
				}
			})
		}
	}
	return n, levels
}

// OnClientExpired drops an expired session's subscriptions and queue (mochi
// v2.7.9 forgets the session but leaves its subscriptions in the topic index).
func (h *limitsHook) OnClientExpired(cl *mqtt.Client) {
	h.server.UnsubscribeClient(cl)
	cl.ClearInflights()
}

// OnRetainMessage keeps the retained sizes current; the hub's own retained
// messages are not counted (they are exempt from the caps).
func (h *limitsHook) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, _ int64) {
	n := 0
	if len(pk.Payload) > 0 && !h.internal(cl) {
		n = retainedSize(pk.TopicName, pk.Payload)
	}
	h.setRetained(pk.TopicName, n)
}

// setRetained records topic's retained size (0: none, or not counted). The
// broker's own $SYS topics are not counted.
func (h *limitsHook) setRetained(topic string, n int) {
	if strings.HasPrefix(topic, "$") {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old, exists := h.retained[topic]
	h.total -= old
	if n == 0 {
		if exists {
			delete(h.retained, topic)
			parents(topic, func(p string) {
				if h.parents[p]--; h.parents[p] == 0 {
					delete(h.parents, p)
					h.total -= topicLevelOverhead
				}
			})
		}
		return
	}
	if !exists {
		parents(topic, func(p string) {
			if h.parents[p]++; h.parents[p] == 1 {
				h.total += topicLevelOverhead
			}
		})
	}
	h.retained[topic] = n
	h.total += n
}

// loadRetained counts the retained messages the broker restored from its
// store, the hub's own among them until it publishes them again.
func (h *limitsHook) loadRetained() {
	for topic, pk := range h.server.Topics.Retained.GetAll() {
		h.mu.Lock()
		_, known := h.retained[topic]
		h.mu.Unlock()
		if !known {
			h.setRetained(topic, retainedSize(topic, pk.Payload))
		}
	}
}

package broker

import (
	"errors"
	"reflect"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// outboundHook bounds the messages waiting in connected clients' outbound
// buffers (mochi's per-client channel of packets still to be written, up to
// maxWritesPending packets of up to MaxPacketSize each): a client that
// subscribes and never reads its socket would otherwise make the broker hold
// hundreds of MiB for it. A message is counted from the moment the broker
// decides to deliver it (the read ACL check) until it has been written to the
// client's socket; one that would take the client past MaxOutboundBytes, or
// all clients past MaxOutboundBytesTotal, is not delivered to that client.
// A client that has written nothing for outboundStall while messages are
// dropped for it is disconnected (its connection closed, which also frees a
// write blocked in the socket). The hub's own clients are exempt.
//
// mochi v2.7.9 names no hook for "queued for a client": the read ACL check
// that precedes it carries only the topic, so the size of the message being
// delivered is taken from the publications being fanned out right now
// (OnPublish to OnPublished, OnWill to OnWillSent) or, for the retained
// messages sent after a SUBSCRIBE, from the retained store.
type outboundHook struct {
	mqtt.HookBase
	server   *mqtt.Server
	perCl    int           // MaxOutboundBytes
	total    int           // MaxOutboundBytesTotal
	stall    time.Duration // guarded by mu
	internal func(cl *mqtt.Client) bool
	refused  func(limit string)

	mu          sync.Mutex
	clients     map[*mqtt.Client]*outState
	sum         int                      // held + writing of every client in clients
	publishing  map[string][]publication // topic → messages being fanned out
	subscribing map[*mqtt.Client][]string
}

// outState is what one client's outbound buffer holds.
type outState struct {
	held     int       // messages admitted and not yet taken by the write loop
	writing  int       // the message being written (its packet and its encoding)
	progress time.Time // when the client last took a write, or its buffer was last empty
}

// publication is a message being fanned out to subscribers.
type publication struct {
	size  int
	since time.Time
}

// staleFanOut is how long a publication stays in publishing at most (one
// whose fan-out ended without OnPublished, e.g. a publisher whose ack failed).
const staleFanOut = 5 * time.Second

// defaultOutboundStall is how long a client may take no write while
// messages are dropped for it before it is disconnected.
const defaultOutboundStall = 10 * time.Second

// errOutboundStalled ends the connection of a client that reads nothing.
var errOutboundStalled = errors.New("mqtt broker: client reads nothing while its outbound buffer is full")

// outboundSize is what a message counts in an outbound buffer: the broker's
// copy of its payload (each subscriber gets one) and MessageOverhead. The
// topic is left out: mochi may replace it by an alias before writing.
func outboundSize(payload []byte) int { return len(payload) + MessageOverhead }

// ID names the hook.
func (h *outboundHook) ID() string { return "avshub-outbound" }

// Provides says which hook methods are implemented.
func (h *outboundHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnPublish, mqtt.OnPublished, mqtt.OnWill, mqtt.OnWillSent, mqtt.OnSubscribe, mqtt.OnSubscribed,
		mqtt.OnPacketEncode, mqtt.OnPacketSent, mqtt.OnPublishDropped, mqtt.OnPacketIDExhausted,
		mqtt.OnDisconnect, mqtt.OnClientExpired:
		return true
	}
	return false
}

// OnPublish records the size of a message about to be fanned out.
func (h *outboundHook) OnPublish(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.fanOut(pk.TopicName, pk.Payload)
	return pk, nil
}

// OnPublished forgets a message once it has been fanned out.
func (h *outboundHook) OnPublished(_ *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
}

// OnWill records the size of a Will about to be published.
func (h *outboundHook) OnWill(_ *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	h.fanOut(will.TopicName, will.Payload)
	return will, nil
}

// OnWillSent forgets a Will once it has been published.
func (h *outboundHook) OnWillSent(_ *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
}

func (h *outboundHook) fanOut(topic string, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishing[topic] = append(h.publishing[topic], publication{size: outboundSize(payload), since: time.Now()})
}

func (h *outboundHook) fannedOut(topic string, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := outboundSize(payload)
	ps := h.publishing[topic]
	for i, p := range ps {
		if p.size == size {
			ps = append(ps[:i], ps[i+1:]...)
			break
		}
	}
	if len(ps) == 0 {
		delete(h.publishing, topic)
		return
	}
	h.publishing[topic] = ps
}

// OnSubscribe notes the filters of a SUBSCRIBE: the read ACL checks of
// these filters, up to OnSubscribed, are not deliveries.
func (h *outboundHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if h.internal(cl) {
		return pk
	}
	fs := make([]string, 0, len(pk.Filters))
	for _, f := range pk.Filters {
		fs = append(fs, f.Filter)
	}
	h.mu.Lock()
	h.subscribing[cl] = fs
	h.mu.Unlock()
	return pk
}

// OnSubscribed ends the filter checks of a SUBSCRIBE (the retained messages follow).
func (h *outboundHook) OnSubscribed(cl *mqtt.Client, _ packets.Packet, _ []byte) {
	h.mu.Lock()
	delete(h.subscribing, cl)
	h.mu.Unlock()
}

// sizeOf is the size of the message on topic about to be delivered: the
// largest being fanned out, else the retained one.
func (h *outboundHook) sizeOf(topic string, now time.Time) int {
	size := 0
	ps := h.publishing[topic]
	for i := 0; i < len(ps); i++ {
		if now.Sub(ps[i].since) > staleFanOut {
			ps = append(ps[:i], ps[i+1:]...)
			i--
			continue
		}
		size = max(size, ps[i].size)
	}
	if len(ps) == 0 {
		delete(h.publishing, topic)
	} else {
		h.publishing[topic] = ps
	}
	if size > 0 {
		return size
	}
	if pk, ok := h.server.Topics.Retained.Get(topic); ok {
		return outboundSize(pk.Payload)
	}
	return outboundSize(nil)
}

// full reports whether delivering the message on topic to cl would take its
// outbound buffer past MaxOutboundBytes or all buffers past
// MaxOutboundBytesTotal; if not, the message is counted. Called from the
// read ACL check, just before mochi queues the message for cl. One message
// is always let into an empty buffer that fits in the total.
func (h *outboundHook) full(cl *mqtt.Client, topic string) bool {
	if h.internal(cl) || cl.Closed() {
		return false
	}
	now := time.Now()
	h.mu.Lock()
	if fs, ok := h.subscribing[cl]; ok {
		for i, f := range fs {
			if f == topic {
				// The SUBSCRIBE's own check of this filter, not a delivery.
				h.subscribing[cl] = append(fs[:i], fs[i+1:]...)
				h.mu.Unlock()
				return false
			}
		}
	}
	size := h.sizeOf(topic, now)
	st := h.clients[cl]
	if st == nil {
		st = &outState{progress: now}
		h.clients[cl] = st
	}
	if st.held+st.writing == 0 {
		st.progress = now
	}
	// The client's bound is on what waits; the total counts the message
	// being written too.
	mine := st.held
	limit := ""
	switch {
	case mine > 0 && mine+size > h.perCl:
		limit = "maxOutboundBytes"
	case h.sum+size > h.total:
		h.prune()
		if h.sum+size > h.total {
			limit = "maxOutboundBytesTotal"
		}
	}
	if limit == "" {
		st.held += size
		h.sum += size
		h.mu.Unlock()
		return false
	}
	sum, stalled, stall := h.sum, now.Sub(st.progress), h.stall
	h.mu.Unlock()

	if h.refused != nil {
		h.refused(limit)
	}
	h.Log.Warn("MQTT message dropped for a client whose outbound buffer is full: it reads too slowly or not at all (mqtt.embedded.limits."+limit+")",
		"client", cl.ID, "remote", cl.Net.Remote, "topic", topic, "bytes", size, "waiting_bytes", mine,
		"total_bytes", sum, "max_client", h.perCl, "max_total", h.total)
	if stalled > stall {
		h.Log.Warn("MQTT client disconnected: it has read nothing while its outbound buffer is full",
			"client", cl.ID, "remote", cl.Net.Remote, "stalled", stalled.Round(time.Second), "waiting_bytes", mine)
		cl.Stop(errOutboundStalled)
	}
	return true
}

// prune forgets the clients the broker no longer holds (expired, or taken
// over by a new connection with their id). h.mu is held.
func (h *outboundHook) prune() {
	for cl, st := range h.clients {
		if cur, ok := h.server.Clients.Get(cl.ID); !ok || cur != cl {
			h.sum -= st.held + st.writing
			delete(h.clients, cl)
		}
	}
}

// OnPacketEncode moves a message the write loop took from cl's buffer from
// held to writing (it is held twice while written: packet and encoding).
func (h *outboundHook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type != packets.Publish || pk.FixedHeader.Dup {
		return pk
	}
	size := outboundSize(pk.Payload)
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.clients[cl]
	if st == nil {
		return pk
	}
	taken := min(size, st.held)
	st.held -= taken
	// A write that failed after its encoding left writing set: replaced here.
	h.sum += taken - st.writing
	st.writing = 2 * taken
	return pk
}

// OnPacketSent ends a write to cl: its bytes are freed, and the client made progress.
func (h *outboundHook) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.clients[cl]
	if st == nil {
		return
	}
	st.progress = time.Now()
	if pk.FixedHeader.Type != packets.Publish {
		return
	}
	h.sum -= st.writing
	st.writing = 0
	if st.held > 0 && outboundEmpty(cl) {
		// Counted but never queued (mochi refused it after the ACL check):
		// nothing is waiting any more.
		h.sum -= st.held
		st.held = 0
	}
}

// OnPublishDropped uncounts a message mochi could not queue for cl (its
// buffer full by count, maxWritesPending).
func (h *outboundHook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.uncount(cl, outboundSize(pk.Payload))
}

// OnPacketIDExhausted uncounts a message mochi could not number for cl.
func (h *outboundHook) OnPacketIDExhausted(cl *mqtt.Client, pk packets.Packet) {
	h.uncount(cl, outboundSize(pk.Payload))
}

func (h *outboundHook) uncount(cl *mqtt.Client, size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.clients[cl]; st != nil {
		n := min(size, st.held)
		st.held -= n
		h.sum -= n
	}
}

// OnDisconnect forgets a client whose session ends with its connection, or
// whose buffer is empty; a kept session's buffer stays counted (mochi keeps
// its packets) until it expires or is taken over.
func (h *outboundHook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subscribing, cl)
	if st := h.clients[cl]; st != nil && (expire || outboundEmpty(cl)) {
		h.sum -= st.held + st.writing
		delete(h.clients, cl)
	}
}

// OnClientExpired forgets an expired session.
func (h *outboundHook) OnClientExpired(cl *mqtt.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.clients[cl]; st != nil {
		h.sum -= st.held + st.writing
		delete(h.clients, cl)
	}
}

// outboundEmpty reports whether cl's outbound channel (unexported in mochi
// v2.7.9: State.outbound) is empty; false when it cannot be read.
func outboundEmpty(cl *mqtt.Client) bool {
	ch := reflect.ValueOf(&cl.State).Elem().FieldByName("outbound")
	return ch.IsValid() && ch.Kind() == reflect.Chan && ch.Len() == 0
}

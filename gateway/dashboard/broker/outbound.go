package broker

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// outboundHook bounds the bytes waiting to be written to connected clients
// (each client's outConn buffer, and the messages mochi has queued for the
// client and not yet encoded): a client that subscribes and never reads its
// socket would otherwise make the broker hold hundreds of MiB for it. A
// message is counted from the moment the broker decides to deliver it (the
// read ACL check, before mochi numbers it and keeps it in flight) until its
// socket has taken it; one that would take the client past
// MaxOutboundBytes, or all clients past MaxOutboundBytesTotal, is not
// delivered to that client (counted, and logged once per run of drops).
// Mochi's writes never wait on a client (outConn), so a client that reads
// slowly holds neither a publisher nor another client's deliveries, and a
// healthy client whose reading stalls for a moment loses nothing while its
// buffer has room. A client whose socket has taken nothing for the stall
// time while messages are dropped for it is disconnected (a write that
// makes no progress for that time also ends its connection). The hub's own
// clients are exempt.
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
	// buffered counts the bytes in the outConn buffers of every client but the hub's own.
	buffered *atomic.Int64

	mu          sync.Mutex
	clients     map[*mqtt.Client]*outState
	held        int                      // sum of the clients' held
	publishing  map[string][]publication // topic → messages being fanned out
	subscribing map[*mqtt.Client][]string
}

// outState is what one client has waiting before its outConn buffer.
type outState struct {
	held int // messages admitted and not yet taken by mochi's write loop
	// encoding is the message mochi's write loop is encoding for the client
	// (from OnPacketEncode), neither held nor in its outConn buffer yet. It
	// is counted until the buffer has taken as many bytes as its payload
	// since (encIn and encLen: the buffer's written count then, and the
	// payload's length), or OnPacketSent; since is when it was taken (a
	// write that ended without either, e.g. a packet too large for the
	// client, is forgotten after staleFanOut).
	encoding int
	encIn    int64
	encLen   int
	since    time.Time
	dropped  int // messages dropped for it since it last got one (logged once a run)
}

// encodingAt is the size of the message being encoded for the client, its
// outConn buffer having taken in bytes so far (-1: unknown), at now; it
// forgets one that is in the buffer or stale. h.mu is held.
func (h *outboundHook) encodingAt(st *outState, in int64, now time.Time) int {
	if st.encoding > 0 && (in >= st.encIn+int64(st.encLen) || now.Sub(st.since) > staleFanOut) {
		h.held -= st.encoding
		st.encoding = 0
	}
	return st.encoding
}

// publication is a message being fanned out to subscribers.
type publication struct {
	size  int
	since time.Time
}

// staleFanOut is how long a publication stays in publishing at most (one
// whose fan-out ended without OnPublished, e.g. a publisher whose ack failed).
const staleFanOut = 5 * time.Second

// defaultOutboundStall is how long a client's socket may take nothing while
// messages are dropped for it before it is disconnected; a write to its
// socket that makes no progress for that long also ends its connection.
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
	case mqtt.OnSessionEstablish, mqtt.OnPublish, mqtt.OnPublished, mqtt.OnWill, mqtt.OnWillSent, mqtt.OnSubscribe,
		mqtt.OnSubscribed, mqtt.OnPacketEncode, mqtt.OnPacketSent, mqtt.OnPublishDropped, mqtt.OnPacketIDExhausted,
		mqtt.OnDisconnect, mqtt.OnClientExpired:
		return true
	}
	return false
}

// OnSessionEstablish takes the hub's own clients' connections out of the
// budgets (before their CONNACK is written).
func (h *outboundHook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	if oc, ok := cl.Net.Conn.(*outConn); ok && h.internal(cl) {
		oc.setExempt()
	}
}

// OnPublish records the size of a message about to be fanned out.
func (h *outboundHook) OnPublish(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.fanOut(pk.TopicName, pk.Payload)
	return pk, nil
}

// OnPublished forgets a message once it has been fanned out; after a large
// one from a client other than the hub's own it waits for a collection
// when the process is near its soft memory limit (collectNearLimit).
func (h *outboundHook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
	if len(pk.Payload) >= largeMessage && !h.internal(cl) {
		collectNearLimit()
	}
}

// largeMessage is the payload size from which a publication's fan-out waits
// for the collector when memory is tight (collectNearLimit).
const largeMessage = 64 << 10

// nearLimit is the share of the soft memory limit from which
// collectNearLimit collects.
const nearLimit = 0.9

// memSamples are the runtime metrics collectNearLimit reads: the memory the
// soft limit counts is the total mapped by the runtime less what it has
// returned to the system.
var memSamples = []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}

var memMu sync.Mutex // guards memSamples

// collectNearLimit runs a collection, in the caller's goroutine, when the
// process's Go memory is within 10 % of its soft memory limit
// (runtime/debug.SetMemoryLimit; none set: never).
//
// Mochi (v2.7.9) allocates about 2 + N copies of a publication's payload
// for N subscribers: it reads the packet twice and copies the message for
// each subscriber before the read ACL check where a full outbound buffer
// drops it. A flood of 1 MB messages for clients that read nothing is
// about 5 MB of garbage a message; under the soft limit the collector runs
// back to back, and on a loaded machine its CPU limiter (half the CPU at
// most) let the heap run past the limit: the hub reached 80 MiB resident
// in the attack soak (TestSoakAttackMemory, slow reader). Called after the
// fan-out in the publisher's turn, it holds that client's next packet
// until the garbage of its last large one is collected: a publisher of
// large messages is read no faster than the collector frees what it costs.
func collectNearLimit() {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return
	}
	memMu.Lock()
	metrics.Read(memSamples)
	used := memSamples[0].Value.Uint64() - memSamples[1].Value.Uint64()
	memMu.Unlock()
	if float64(used) >= nearLimit*float64(limit) {
		runtime.GC()
		nearLimitCollections.Add(1)
	}
}

// nearLimitCollections counts the collections collectNearLimit ran (the
// runtime's count of forced cycles leaves out a runtime.GC that joins a
// cycle the limit had started).
var nearLimitCollections atomic.Uint64

// OnWill records the size of a Will about to be published.
func (h *outboundHook) OnWill(_ *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	h.fanOut(will.TopicName, will.Payload)
	return will, nil
}

// OnWillSent forgets a Will once it has been published.
func (h *outboundHook) OnWillSent(_ *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
}

// fanOut records a message about to be fanned out.
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
// these filters, up to OnSubscribed, are not deliveries. A SUBSCRIBE with a
// wildcard filter waits for its turn to have retained messages delivered
// (outConn.startScan).
func (h *outboundHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if h.internal(cl) {
		return pk
	}
	fs := make([]string, 0, len(pk.Filters))
	wild := false
	for _, f := range pk.Filters {
		fs = append(fs, f.Filter)
		wild = wild || strings.ContainsAny(f.Filter, "+#")
	}
	if oc, ok := cl.Net.Conn.(*outConn); ok && wild {
		oc.startScan()
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
// largest being fanned out, else the retained one. h.mu is held.
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

// full reports whether delivering the message on topic to cl would take
// what waits for it past MaxOutboundBytes, or what waits for all clients
// past MaxOutboundBytesTotal; if not, the message is counted. Called from
// the read ACL check, just before mochi numbers and queues the message for
// cl. One message is always let into an empty buffer that fits in the
// total. A client whose socket has taken nothing for the stall time when a
// message is dropped for it is disconnected.
func (h *outboundHook) full(cl *mqtt.Client, topic string) bool {
	if h.internal(cl) || cl.Closed() {
		return false
	}
	now := time.Now()
	// The bound is on what waits for the socket: the packet being written
	// (the socket takes it, or the stall time ends the connection) is left out.
	var waiting int
	var stalled time.Duration
	in := int64(-1)
	if oc, ok := cl.Net.Conn.(*outConn); ok {
		// The written count first: a message that enters the buffer in
		// between is counted twice (for a moment), never not at all.
		in = oc.written()
		waiting, _, stalled = oc.buffered(now)
	}
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
		st = &outState{}
		h.clients[cl] = st
	}
	mine := st.held + h.encodingAt(st, in, now) + waiting
	limit := ""
	switch {
	case mine > 0 && mine+size > h.perCl:
		limit = "maxOutboundBytes"
	case h.held+int(h.buffered.Load())+size > h.total:
		h.prune()
		if h.held+int(h.buffered.Load())+size > h.total {
			limit = "maxOutboundBytesTotal"
		}
	}
	if limit == "" {
		st.held += size
		h.held += size
		dropped := st.dropped
		st.dropped = 0
		h.mu.Unlock()
		if dropped > 0 {
			h.Log.Info("MQTT client gets messages again: its outbound buffer has room",
				"client", cl.ID, "remote", cl.Net.Remote, "dropped", dropped)
		}
		return false
	}
	st.dropped++
	first, sum := st.dropped == 1, h.held+int(h.buffered.Load())
	stall := h.stall
	h.mu.Unlock()

	h.count(limit)
	if first {
		h.Log.Warn("MQTT messages dropped for a client whose outbound buffer is full: it reads too slowly or not at all (mqtt.embedded.limits."+limit+")",
			"client", cl.ID, "remote", cl.Net.Remote, "topic", topic, "bytes", size, "waiting_bytes", mine,
			"total_bytes", sum, "max_client", h.perCl, "max_total", h.total)
	}
	if stalled > stall {
		h.Log.Warn("MQTT client disconnected: it has read nothing while its outbound buffer is full",
			"client", cl.ID, "remote", cl.Net.Remote, "stalled", stalled.Round(time.Second), "waiting_bytes", mine)
		cl.Stop(errOutboundStalled)
	}
	return true
}

// count reports a dropped message by limit to the metrics.
func (h *outboundHook) count(limit string) {
	if h.refused != nil {
		h.refused(limit)
	}
}

// prune forgets the clients the broker no longer holds (expired, or taken
// over by a new connection with their id). h.mu is held.
func (h *outboundHook) prune() {
	for cl, st := range h.clients {
		if cur, ok := h.server.Clients.Get(cl.ID); !ok || cur != cl {
			h.held -= st.held + st.encoding
			delete(h.clients, cl)
		}
	}
}

// OnPacketEncode moves a message mochi's write loop took for cl from held
// to encoding: it stays counted while mochi encodes it, until its bytes are
// in cl's outConn buffer. Uncounted here, as it was, a message being
// encoded was counted nowhere, and the read ACL check of the next one could
// find an empty budget and let it in: two messages waited past
// MaxOutboundBytes (TestSlowReader under load). The write loop writes one
// packet at a time, so a new one ends the last one's write.
func (h *outboundHook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type != packets.Publish || pk.FixedHeader.Dup {
		return pk
	}
	oc, ok := cl.Net.Conn.(*outConn)
	if !ok {
		h.uncount(cl, outboundSize(pk.Payload))
		return pk
	}
	in := oc.written()
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.clients[cl]; st != nil {
		n := min(outboundSize(pk.Payload), st.held)
		st.held -= n          // h.held still counts it, as encoding
		h.held -= st.encoding // the last write, ended without OnPacketSent
		st.encoding, st.encIn, st.encLen, st.since = n, in, len(pk.Payload), time.Now()
	}
	return pk
}

// OnPacketSent uncounts the message just written to cl's outConn buffer
// (its bytes are counted there now) if full has not yet, and forgets what was counted for cl
// but never queued (mochi refused it after the ACL check: in-flight store
// or send quota full) once nothing waits in mochi's queue.
func (h *outboundHook) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	if pk.FixedHeader.Type != packets.Publish {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.clients[cl]
	if st != nil && !pk.FixedHeader.Dup {
		h.held -= st.encoding
		st.encoding = 0
	}
	if st != nil && st.held > 0 && outboundLen(cl) == 0 {
		h.held -= st.held
		st.held = 0
	}
}

// OnPublishDropped uncounts a message mochi could not queue for cl (its
// queue full by count, maxWritesPending).
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
		h.held -= n
	}
}

// OnDisconnect forgets a client whose session ends with its connection, or
// whose queue is empty; a kept session's queue stays counted (mochi keeps
// its packets) until it expires or is taken over.
func (h *outboundHook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subscribing, cl)
	if st := h.clients[cl]; st != nil && (expire || outboundLen(cl) == 0) {
		h.held -= st.held + st.encoding
		delete(h.clients, cl)
	}
}

// OnClientExpired forgets an expired session.
func (h *outboundHook) OnClientExpired(cl *mqtt.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.clients[cl]; st != nil {
		h.held -= st.held + st.encoding
		delete(h.clients, cl)
	}
}

// outboundField is the index of mochi's per-client channel of packets not
// yet taken by the client's write loop: ClientState.outbound, unexported in
// v2.7.9, which offers no other way to tell how many packets wait (no hook
// runs when a packet is queued, and some deliveries the read ACL check let
// through are never queued: inflight store or send quota full). nil when
// this mochi has no such field: Start then refuses to run (checkMochi).
var outboundField = func() []int {
	f, ok := reflect.TypeFor[mqtt.ClientState]().FieldByName("outbound")
	if !ok || f.Type.Kind() != reflect.Chan {
		return nil
	}
	return f.Index
}()

// errMochiOutbound says that the mochi in use lacks what the outbound budget reads.
var errMochiOutbound = errors.New("mqtt broker: github.com/mochi-mqtt/server/v2 has no ClientState.outbound channel " +
	"(v2.7.9 has): the outbound budgets (maxOutboundBytes) cannot count the packets waiting for a client with this version; " +
	"upgrade mochi only together with gateway/dashboard/broker/outbound.go")

// checkMochi reports whether the mochi in use has what the broker reads of
// its unexported state (checked by Start, before anything runs).
func checkMochi() error {
	if outboundField == nil {
		return errMochiOutbound
	}
	return nil
}

// outboundLen is the number of packets in cl's outbound channel.
func outboundLen(cl *mqtt.Client) int {
	return reflect.ValueOf(&cl.State).Elem().FieldByIndex(outboundField).Len()
}

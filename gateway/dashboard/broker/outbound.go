package broker

import (
	"errors"
	"reflect"
	"strings"
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
// A client whose buffer refuses a message is suspended until it has taken
// every message waiting: its subscriptions leave mochi's topic index (they
// stay in its session), so mochi no longer copies each publication for it
// before asking whether to deliver it (v2.7.9 copies the packet, payload and
// all, then runs the read ACL check). Without that, a client that reads
// nothing cost one copy of every message published (1 MB each for 1 MB
// messages) that the collector had to free: BenchmarkSlowReaders measured
// 7.3 MB allocated per 1 MB message for 3 such clients. The messages it
// misses meanwhile are counted as dropped.
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

	// smu orders the suspensions and resumptions of clients (their
	// subscriptions taken out of the topic index and put back).
	smu sync.Mutex

	mu          sync.Mutex
	clients     map[*mqtt.Client]*outState
	sum         int                      // held + writing of every client in clients
	publishing  map[string][]publication // topic → messages being fanned out
	subscribing map[*mqtt.Client][]string
}

// outState is what one client's outbound buffer holds.
type outState struct {
	held     int       // messages admitted and not yet taken by the write loop
	writing  int       // the message being written: twice its size (its packet and its encoding)
	progress time.Time // when the client last took a write, or its buffer was last empty
	// writeStart is when the message being written was taken (writing > 0).
	writeStart time.Time
	// suspended: the client's subscriptions are out of the topic index
	// until it has taken every message waiting (guarded by mu; changed under smu).
	suspended bool
	// forTotal: suspended while its own buffer was empty, for the total
	// (MaxOutboundBytesTotal); it resumes once the total has room again.
	forTotal bool
	// wasSuspended: the client was suspended once (its unsubscriptions are
	// checked against a resumption putting a filter back).
	wasSuspended bool
}

// publication is a message being fanned out to subscribers.
type publication struct {
	size  int
	qos   byte
	since time.Time
}

// staleFanOut is how long a publication stays in publishing at most (one
// whose fan-out ended without OnPublished, e.g. a publisher whose ack failed).
const staleFanOut = 5 * time.Second

// defaultOutboundStall is how long a client may take no write while
// messages are dropped for it before it is disconnected; a write to its
// socket that makes no progress for that long also ends its connection.
const defaultOutboundStall = 10 * time.Second

// slowWrite is how long a client's socket may take to accept the message
// being written before the client's buffer counts as full.
const slowWrite = 250 * time.Millisecond

// busyWait is how long a QoS 1/2 delivery waits for the client to have
// written everything before it is dropped for that client.
const busyWait = 100 * time.Millisecond

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
		mqtt.OnUnsubscribed, mqtt.OnPacketEncode, mqtt.OnPacketSent, mqtt.OnPublishDropped, mqtt.OnPacketIDExhausted,
		mqtt.OnDisconnect, mqtt.OnClientExpired:
		return true
	}
	return false
}

// OnPublish records the size of a message about to be fanned out.
func (h *outboundHook) OnPublish(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.fanOut(pk.TopicName, pk.Payload, pk.FixedHeader.Qos)
	return pk, nil
}

// OnPublished forgets a message once it has been fanned out.
func (h *outboundHook) OnPublished(_ *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
}

// OnWill records the size of a Will about to be published.
func (h *outboundHook) OnWill(_ *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	h.fanOut(will.TopicName, will.Payload, will.Qos)
	return will, nil
}

// OnWillSent forgets a Will once it has been published.
func (h *outboundHook) OnWillSent(_ *mqtt.Client, pk packets.Packet) {
	h.fannedOut(pk.TopicName, pk.Payload)
}

// fanOut records a message about to be fanned out; the suspended clients
// that would have got it are counted as dropped for, and those that have
// written nothing for the stall time are disconnected.
func (h *outboundHook) fanOut(topic string, payload []byte, qos byte) {
	now := time.Now()
	h.mu.Lock()
	h.publishing[topic] = append(h.publishing[topic], publication{size: outboundSize(payload), qos: qos, since: now})
	var missed, stalled []*mqtt.Client
	for cl, st := range h.clients {
		if !st.suspended {
			continue
		}
		if now.Sub(st.progress) > h.stall {
			stalled = append(stalled, cl)
		} else if subscribed(cl, topic) {
			missed = append(missed, cl)
		}
	}
	h.mu.Unlock()
	for range missed {
		h.count("maxOutboundBytes")
	}
	for _, cl := range stalled {
		h.disconnect(cl, now)
	}
}

// subscribed reports whether one of cl's subscriptions matches topic.
func subscribed(cl *mqtt.Client, topic string) bool {
	_, ok := subscriptionQos(cl, topic)
	return ok
}

// subscriptionQos is the highest QoS of cl's subscriptions matching topic
// (mochi delivers at most at that QoS), false if none matches.
func subscriptionQos(cl *mqtt.Client, topic string) (byte, bool) {
	var qos byte
	found := false
	for f, sub := range cl.State.Subscriptions.GetAll() {
		if rest, ok := strings.CutPrefix(f, "$share/"); ok {
			if _, filter, ok := strings.Cut(rest, "/"); ok {
				f = filter
			}
		}
		if Covers(f, topic) {
			qos, found = max(qos, sub.Qos), true
		}
	}
	return qos, found
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

// sizeOf is the size and QoS of the message on topic about to be
// delivered: the largest being fanned out, else the retained one (QoS 2
// when unknown).
func (h *outboundHook) sizeOf(topic string, now time.Time) (int, byte) {
	size, qos := 0, byte(2)
	ps := h.publishing[topic]
	for i := 0; i < len(ps); i++ {
		if now.Sub(ps[i].since) > staleFanOut {
			ps = append(ps[:i], ps[i+1:]...)
			i--
			continue
		}
		if ps[i].size > size {
			size, qos = ps[i].size, ps[i].qos
		}
	}
	if len(ps) == 0 {
		delete(h.publishing, topic)
	} else {
		h.publishing[topic] = ps
	}
	if size > 0 {
		return size, qos
	}
	if pk, ok := h.server.Topics.Retained.Get(topic); ok {
		return outboundSize(pk.Payload), pk.FixedHeader.Qos
	}
	return outboundSize(nil), qos
}

// waitIdle waits up to busyWait for cl's buffer to be empty with nothing
// being written, and reports whether it is.
func (h *outboundHook) waitIdle(cl *mqtt.Client, st *outState) bool {
	deadline := time.Now().Add(busyWait)
	for {
		h.mu.Lock()
		writing := st.writing
		h.mu.Unlock()
		if writing == 0 && outboundLen(cl) == 0 {
			return true
		}
		if cl.Closed() || time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// full reports whether delivering the message on topic to cl would take its
// outbound buffer past MaxOutboundBytes or all buffers past
// MaxOutboundBytesTotal; if not, the message is counted. Called from the
// read ACL check, just before mochi queues the message for cl. One message
// is always let into an empty buffer that fits in the total. A refusal
// suspends cl (or disconnects it when it has written nothing for the stall time).
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
	size, qos := h.sizeOf(topic, now)
	st := h.clients[cl]
	if st == nil {
		st = &outState{progress: now}
		h.clients[cl] = st
	}
	h.mu.Unlock()
	// Mochi numbers a QoS 1/2 message for cl under the lock its write loop
	// holds while it writes: a write that never ends (a client that never
	// reads) would hold the publisher. Such a message is let in only once
	// cl has written everything, within busyWait.
	idle := true
	if subQos, _ := subscriptionQos(cl, topic); qos > 0 && subQos > 0 {
		idle = h.waitIdle(cl, st)
		now = time.Now()
	}
	h.mu.Lock()
	if st.held+st.writing == 0 {
		st.progress = now
	}
	// The client's bound is on what waits; the total counts the message
	// being written too, twice (its packet and its encoding).
	mine := st.held
	if st.writing > 0 && now.Sub(st.writeStart) > slowWrite {
		// Its socket has not taken the message being written: its buffer is
		// full whatever waits (and mochi would make the publisher wait for
		// that write to number a QoS 1/2 message for it).
		mine = max(mine, h.perCl)
	}
	limit := ""
	switch {
	case !idle || (mine > 0 && mine+size > h.perCl):
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
	sum, stalled := h.sum, now.Sub(st.progress) > h.stall
	// Refused for the total with nothing of its own waiting, it resumes
	// once the total has room, not when it has written.
	forTotal := idle && st.held+st.writing == 0
	h.mu.Unlock()

	h.count(limit)
	h.Log.Warn("MQTT messages dropped for a client whose outbound buffer is full until it has taken what waits: it reads too slowly or not at all (mqtt.embedded.limits."+limit+")",
		"client", cl.ID, "remote", cl.Net.Remote, "topic", topic, "bytes", size, "waiting_bytes", mine,
		"total_bytes", sum, "max_client", h.perCl, "max_total", h.total)
	if stalled {
		h.disconnect(cl, now)
		return true
	}
	h.suspend(cl, forTotal)
	return true
}

// count reports a dropped message by limit to the metrics.
func (h *outboundHook) count(limit string) {
	if h.refused != nil {
		h.refused(limit)
	}
}

// disconnect ends the connection of cl, which has written nothing for the stall time.
func (h *outboundHook) disconnect(cl *mqtt.Client, now time.Time) {
	h.mu.Lock()
	st := h.clients[cl]
	var stalled time.Duration
	var waiting int
	if st != nil {
		stalled, waiting = now.Sub(st.progress), st.held
	}
	h.mu.Unlock()
	if cl.Closed() {
		return
	}
	h.Log.Warn("MQTT client disconnected: it has read nothing while its outbound buffer is full",
		"client", cl.ID, "remote", cl.Net.Remote, "stalled", stalled.Round(time.Second), "waiting_bytes", waiting)
	cl.Stop(errOutboundStalled)
}

// suspend takes cl's subscriptions out of the topic index: mochi no longer
// copies the messages published for it. Its session keeps them.
func (h *outboundHook) suspend(cl *mqtt.Client, forTotal bool) {
	h.smu.Lock()
	defer h.smu.Unlock()
	h.mu.Lock()
	st := h.clients[cl]
	if st == nil || st.suspended || cl.Closed() {
		h.mu.Unlock()
		return
	}
	st.suspended, st.wasSuspended, st.forTotal = true, true, forTotal
	h.mu.Unlock()
	for filter := range cl.State.Subscriptions.GetAll() {
		h.server.Topics.Unsubscribe(filter, cl.ID)
	}
}

// resume puts cl's subscriptions back into the topic index (when reindex)
// after a suspension; false if it was not suspended.
func (h *outboundHook) resume(cl *mqtt.Client, reindex bool) bool {
	h.smu.Lock()
	defer h.smu.Unlock()
	h.mu.Lock()
	st := h.clients[cl]
	if st == nil || !st.suspended {
		h.mu.Unlock()
		return false
	}
	st.suspended = false
	h.mu.Unlock()
	if !reindex || cl.IsTakenOver() {
		return true
	}
	var added []string
	for f, sub := range cl.State.Subscriptions.GetAll() {
		h.server.Topics.Subscribe(cl.ID, sub)
		added = append(added, f)
	}
	h.dropUnsubscribed(cl, added)
	return true
}

// dropUnsubscribed takes filters out of the topic index for cl when its
// session no longer holds them: an UNSUBSCRIBE processed while a resumption
// put them back. smu is held.
func (h *outboundHook) dropUnsubscribed(cl *mqtt.Client, filters []string) {
	for _, f := range filters {
		if _, ok := cl.State.Subscriptions.Get(f); !ok {
			h.server.Topics.Unsubscribe(f, cl.ID)
		}
	}
}

// OnUnsubscribed makes sure that filters a client has just unsubscribed from
// are out of the topic index: a resumption at that moment may have put them back.
func (h *outboundHook) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	h.mu.Lock()
	st := h.clients[cl]
	was := st != nil && st.wasSuspended
	h.mu.Unlock()
	if !was || cl.IsTakenOver() {
		return
	}
	if cur, ok := h.server.Clients.Get(cl.ID); !ok || cur != cl {
		return
	}
	fs := make([]string, 0, len(pk.Filters))
	for _, f := range pk.Filters {
		fs = append(fs, f.Filter)
	}
	h.smu.Lock()
	defer h.smu.Unlock()
	h.dropUnsubscribed(cl, fs)
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
	st := h.clients[cl]
	if st == nil {
		h.mu.Unlock()
		return pk
	}
	taken := min(size, st.held)
	st.held -= taken
	// A write that failed after its encoding left writing set: replaced here.
	// A write that failed after its encoding left writing set: replaced here.
	h.sum += taken - st.writing
	st.writing = 2 * taken
	st.writeStart = time.Now()
	h.mu.Unlock()
	return pk
}

// OnPacketSent ends a write to cl: its bytes are freed, and the client made progress.
func (h *outboundHook) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	h.mu.Lock()
	st := h.clients[cl]
	if st == nil {
		h.mu.Unlock()
		return
	}
	st.progress = time.Now()
	if pk.FixedHeader.Type != packets.Publish {
		h.mu.Unlock()
		return
	}
	h.sum -= st.writing
	st.writing = 0
	if st.held > 0 && outboundLen(cl) == 0 {
		// Counted but never queued (mochi refused it after the ACL check):
		// nothing is waiting any more.
		h.sum -= st.held
		st.held = 0
	}
	drained := st.suspended && st.held == 0
	h.mu.Unlock()
	if drained {
		// It has taken every message that waited: it gets messages again.
		h.resume(cl, true)
	}
	h.resumeForTotal()
}

// resumeForTotal resumes the clients suspended for the total once half of
// it is free.
func (h *outboundHook) resumeForTotal() {
	h.mu.Lock()
	var idle []*mqtt.Client
	if h.sum <= h.total/2 {
		for cl, st := range h.clients {
			if st.suspended && st.forTotal {
				idle = append(idle, cl)
			}
		}
	}
	h.mu.Unlock()
	for _, cl := range idle {
		h.resume(cl, true)
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
// its packets) until it expires or is taken over. A kept session that was
// suspended gets its subscriptions back in the topic index (messages are
// queued for it again, within the queue bounds).
func (h *outboundHook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	h.resume(cl, !expire)
	h.mu.Lock()
	delete(h.subscribing, cl)
	st := h.clients[cl]
	freed := st != nil && (expire || outboundLen(cl) == 0)
	if freed {
		h.sum -= st.held + st.writing
		delete(h.clients, cl)
	}
	h.mu.Unlock()
	if freed {
		h.resumeForTotal()
	}
}

// OnClientExpired forgets an expired session.
func (h *outboundHook) OnClientExpired(cl *mqtt.Client) {
	h.resume(cl, false)
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.clients[cl]; st != nil {
		h.sum -= st.held + st.writing
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

package mqtttest

import (
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// serialiseHook works around a data race in mochi-mqtt v2.7.9: a wildcard
// SUBSCRIBE scans the retained-message index (TopicsIndex.scanMessages reads
// particle.retainPath without the particle's lock) while a retained PUBLISH
// from another client writes it (TopicsIndex.RetainMessage). The broker is
// correct in practice, but the race detector flags it, so the test broker
// processes those two packet kinds one at a time. A packet holds the lock from
// OnPacketRead until OnPacketProcessed, or until the client's next packet or
// disconnect when validation failed and processing never completed.
type serialiseHook struct {
	mqtt.HookBase
	mu   sync.Mutex
	held sync.Map // *mqtt.Client → struct{}
}

func (h *serialiseHook) ID() string { return "mqtttest-serialise-retained" }

func (h *serialiseHook) Provides(b byte) bool {
	return b == mqtt.OnPacketRead || b == mqtt.OnPacketProcessed || b == mqtt.OnDisconnect
}

func (h *serialiseHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.release(cl)
	if pk.FixedHeader.Type == packets.Subscribe || (pk.FixedHeader.Type == packets.Publish && pk.FixedHeader.Retain) {
		h.mu.Lock()
		h.held.Store(cl, struct{}{})
	}
	return pk, nil
}

func (h *serialiseHook) OnPacketProcessed(cl *mqtt.Client, _ packets.Packet, _ error) { h.release(cl) }

func (h *serialiseHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) { h.release(cl) }

func (h *serialiseHook) release(cl *mqtt.Client) {
	if _, ok := h.held.LoadAndDelete(cl); ok {
		h.mu.Unlock()
	}
}

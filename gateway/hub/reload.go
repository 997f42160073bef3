package hub

import (
	"github.com/avshub/avshub/gateway/config"
	"reflect"
)

// Reload applies a new configuration without dropping the AVS connection:
// bridges are started, stopped or restarted as their configuration changed,
// and the endpoints of removed bridges are deleted from Alexa. Settings that
// need a restart (identity, data directory, profile, AVS, MQTT) are reported
// and keep their running values.
func (h *Hub) Reload(next *config.Config) error {
	cur := h.cfg
	for _, d := range []struct {
		key     string
		changed bool
	}{
		{"hub", cur.Hub.SerialNumber != next.Hub.SerialNumber || cur.Hub.DataDir != next.Hub.DataDir || cur.Hub.Profile != next.Hub.Profile},
		{"avs", cur.AVS != next.AVS},
		{"lwa", cur.LWA != next.LWA},
		{"mqtt", cur.BrokerURL() != next.BrokerURL()},
		{"status", !reflect.DeepEqual(cur.Status, next.Status)},
	} {
		if d.changed {
			h.log.Warn("reload: this section changed but needs a restart to take effect", "section", d.key)
		}
	}
	// The discovery manager publishes only configured bridges' endpoints, and
	// deletes the others from Alexa.
	h.manager.SetBridges(h.bridges.names(next))
	for name, n := range bridgeLimits(next.Bridges) {
		h.reg.SetBridgeLimit(name, n) // before a restarted bridge's snapshot
	}
	if err := h.bridges.apply(next); err != nil {
		return err
	}
	h.reg.Retain(h.bridges.names(next)...)
	h.mu.Lock()
	h.cfg.Bridges = next.Bridges
	h.mu.Unlock()
	h.log.Info("configuration reloaded", "file", next.Path, "bridges", h.bridges.names(next))
	return nil
}

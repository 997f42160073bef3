package hub

import "github.com/avshub/avshub/gateway/logging"

// LogRing is the hub's in-memory ring of recent log records, for the status
// page's log view and /api/v1/logs (nil when the factory keeps none).
func (h *Hub) LogRing() *logging.Ring { return h.opts.Logs.Ring() }

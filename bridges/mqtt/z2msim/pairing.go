package z2msim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JoinStep is the time between the messages of a device joining (joined,
// interview started, interview successful).
const JoinStep = 50 * time.Millisecond

// maxPermitJoin is zigbee-herdsman's limit (255 often means "for ever").
const maxPermitJoin = 254

// request is a bridge/request payload: a JSON object, or a bare value
// (zigbee2mqtt's utils.parseJSON(message, message)).
type request struct {
	obj map[string]any
	raw string
}

func parseRequest(payload []byte) request {
	var v any
	if json.Unmarshal(payload, &v) == nil {
		if m, ok := v.(map[string]any); ok {
			return request{obj: m}
		}
	}
	return request{raw: string(payload)}
}

// respond publishes bridge/response/<name> as zigbee2mqtt's utils.getResponse
// builds it: data and status "ok", or an empty data, status "error" and the
// error; the request's transaction when it had one.
func (s *Sim) respond(name string, req request, data map[string]any, errMsg string) {
	resp := map[string]any{"data": data, "status": "ok"}
	if errMsg != "" {
		resp = map[string]any{"data": map[string]any{}, "status": "error", "error": errMsg}
	}
	if req.obj != nil {
		if tx, ok := req.obj["transaction"]; ok {
			resp["transaction"] = tx
		}
	}
	s.publish(s.opts.BaseTopic+"/bridge/response/"+name, mustJSON(resp), false)
}

// parseInt is JavaScript's Number.parseInt for what a request carries.
func parseInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), true
	case string:
		s := strings.TrimSpace(x)
		end := 0
		for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && (s[end] == '-' || s[end] == '+')) {
			end++
		}
		n, err := strconv.Atoi(s[:end])
		return n, err == nil
	}
	return 0, false
}

// handlePermitJoin answers bridge/request/permit_join as zigbee2mqtt 2.x
// (Bridge.permitJoin): {"time": N} or a bare N, an optional "device" to
// join through; "Invalid payload" without a time; at most 254 s. While the
// network is open, bridge/info says so (permit_join, permit_join_end) and
// the devices removed earlier join again.
func (s *Sim) handlePermitJoin(payload []byte) {
	req := parseRequest(payload)
	var secs int
	var via string
	if req.obj != nil {
		t, ok := req.obj["time"]
		if !ok {
			s.respond("permit_join", req, nil, "Invalid payload")
			return
		}
		secs, _ = parseInt(t)
		if dv, ok := req.obj["device"].(string); ok && dv != "" {
			s.mu.Lock()
			d := s.resolve(dv)
			if d != nil {
				via = d.Name
			}
			s.mu.Unlock()
			if d == nil {
				s.respond("permit_join", req, nil, fmt.Sprintf("Device '%s' does not exist", dv))
				return
			}
		}
	} else {
		secs, _ = parseInt(req.raw)
	}
	if secs > maxPermitJoin {
		s.respond("permit_join", req, nil, fmt.Sprintf("Cannot permit join for more than %d seconds.", maxPermitJoin))
		return
	}
	s.permit(secs)
	data := map[string]any{"time": secs}
	if via != "" {
		data["device"] = via
	}
	s.respond("permit_join", req, data, "")
	if secs > 0 {
		s.joinLeft()
	}
}

// permit opens the network for secs (0 closes it) and publishes bridge/info.
func (s *Sim) permit(secs int) {
	s.mu.Lock()
	s.permitSeq++
	seq := s.permitSeq
	if secs > 0 {
		s.permitEnd = time.Now().Add(time.Duration(secs) * time.Second)
	} else {
		s.permitEnd = time.Time{}
	}
	s.mu.Unlock()
	s.publish(s.opts.BaseTopic+"/bridge/info", s.infoPayload(), true)
	if secs > 0 {
		s.after(time.Duration(secs)*time.Second, func() {
			s.mu.Lock()
			current := s.permitSeq == seq
			if current {
				s.permitEnd = time.Time{}
			}
			s.mu.Unlock()
			if current {
				s.publish(s.opts.BaseTopic+"/bridge/info", s.infoPayload(), true)
			}
		})
	}
}

// PermitJoin reports whether the network is open for joining.
func (s *Sim) PermitJoin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.permitEnd)
}

// joinLeft makes the devices that left the network join again, one after
// the other, with the messages zigbee2mqtt publishes for a join: the device
// list and device_joined, the interview started, then (the device list
// again and) device_interview successful with the definition, and the
// device's availability and state.
func (s *Sim) joinLeft() {
	s.mu.Lock()
	left := s.left
	s.left = nil
	s.mu.Unlock()
	var join func(i int)
	join = func(i int) {
		if i == len(left) {
			return
		}
		d := left[i]
		s.mu.Lock()
		d.joining = true
		s.devices = append(s.devices, d)
		s.mu.Unlock()
		s.publishDevices()
		s.event("device_joined", map[string]any{"friendly_name": d.Name, "ieee_address": d.IEEE})
		s.publishDevices()
		s.event("device_interview", map[string]any{"friendly_name": d.Name, "status": "started", "ieee_address": d.IEEE})
		// Each step is scheduled by the one before: in order under any load.
		s.after(JoinStep, func() {
			s.mu.Lock()
			d.joining = false
			def := d.json()["definition"]
			s.mu.Unlock()
			s.publishDevices()
			s.event("device_interview", map[string]any{"friendly_name": d.Name, "status": "successful", "ieee_address": d.IEEE,
				"supported": d.Supported, "definition": def})
			s.after(JoinStep, func() { join(i + 1) })
		})
	}
	s.after(JoinStep, func() { join(0) })
}

// event publishes a bridge/event.
func (s *Sim) event(typ string, data map[string]any) {
	s.publish(s.opts.BaseTopic+"/bridge/event", mustJSON(map[string]any{"type": typ, "data": data}), false)
}

// handleRemove answers bridge/request/device/remove as zigbee2mqtt 2.x
// (Bridge.removeEntity): the id (friendly name or IEEE address) as an object's
// "id" or bare; "Device 'x' does not exist" for an unknown one; without force,
// a device that does not answer (asleep or offline) fails the leave request.
// A removed device's retained state is cleared, bridge/devices republished,
// device_leave reported when it left on request, and it is out of the
// network until the network next opens.
func (s *Sim) handleRemove(payload []byte) {
	req := parseRequest(payload)
	var id string
	var force, block, keep, clear bool
	if req.obj != nil {
		id, _ = req.obj["id"].(string)
		force, block, keep, clear = truthy(req.obj["force"]), truthy(req.obj["block"]), truthy(req.obj["keep_config"]), truthy(req.obj["clear_cache"])
	} else {
		id = strings.TrimSpace(req.raw)
	}
	s.mu.Lock()
	d := s.resolve(id)
	if d == nil {
		s.mu.Unlock()
		s.respond("device/remove", req, nil, fmt.Sprintf("Device '%s' does not exist", id))
		return
	}
	name := d.Name
	if !force && (!d.Online || d.asleep) {
		s.mu.Unlock()
		opts := ""
		if req.obj != nil {
			opts = fmt.Sprintf(" (block: %t, force: %t, keep config: %t, clear cache: %t)", block, force, keep, clear)
		}
		s.respond("device/remove", req, nil, fmt.Sprintf("Failed to remove device '%s'%s (Error: Delivery failed for '%d'.)", name, opts, d.NetworkAddr))
		return
	}
	for i, x := range s.devices {
		if x == d {
			s.devices = append(s.devices[:i:i], s.devices[i+1:]...)
			break
		}
	}
	if !block {
		s.left = append(s.left, d)
	}
	s.mu.Unlock()
	s.publish(s.opts.BaseTopic+"/"+name, nil, true)
	s.publishDevices()
	if !force {
		// The device left on request: zigbee-herdsman reports its leave.
		s.event("device_leave", map[string]any{"friendly_name": name, "ieee_address": d.IEEE})
	}
	s.respond("device/remove", req, map[string]any{"id": id, "block": block, "force": force, "keep_config": keep, "clear_cache": clear}, "")
}

// truthy is JavaScript's !!v for a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

// resolve finds a device by friendly name or IEEE address. s.mu is held.
func (s *Sim) resolve(id string) *device {
	for _, d := range s.devices {
		if d.Name == id || strings.EqualFold(d.IEEE, id) {
			return d
		}
	}
	return nil
}

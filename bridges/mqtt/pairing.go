package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

var (
	_ sdk.Pairer  = (*Bridge)(nil)
	_ sdk.Remover = (*Bridge)(nil)
)

// defaultRequestWait bounds the wait for zigbee2mqtt's answer to a bridge
// request (a leave request to a device that does not answer takes
// zigbee-herdsman about 10 s to give up on).
const defaultRequestWait = 30 * time.Second

// z2mResponse is zigbee2mqtt's answer to a bridge/request/… (utils.getResponse).
type z2mResponse struct {
	Data        json.RawMessage `json:"data"`
	Status      string          `json:"status"`
	Error       string          `json:"error"`
	Transaction any             `json:"transaction"`
}

// z2mEvent is a bridge/event message (lib/extension/bridge.ts).
type z2mEvent struct {
	Type string `json:"type"`
	Data struct {
		FriendlyName string `json:"friendly_name"`
		IEEE         string `json:"ieee_address"`
		Status       string `json:"status"` // device_interview: started, successful, failed
		Supported    *bool  `json:"supported"`
		Definition   *struct {
			Model       string `json:"model"`
			Vendor      string `json:"vendor"`
			Description string `json:"description"`
		} `json:"definition"`
	} `json:"data"`
}

// StartPairing asks zigbee2mqtt to permit joining for d (at most 254 s,
// zigbee-herdsman's limit) and reports the window; joining devices are
// reported from zigbee2mqtt's bridge/event messages.
func (b *Bridge) StartPairing(ctx context.Context, d time.Duration) error {
	if b.z2m == nil {
		return model.Errorf(model.ErrNotSupported, "pairing needs the zigbee2mqtt source (zigbee2mqtt.enabled in the mqtt bridge's configuration)")
	}
	secs := max(1, min(int(d.Round(time.Second)/time.Second), 254))
	// Reported before the request: the first device may join before
	// zigbee2mqtt answers.
	b.window.Open(time.Now().Add(time.Duration(secs)*time.Second), fmt.Sprintf("zigbee2mqtt permits joining for %ds", secs))
	if _, err := b.request(ctx, "permit_join", map[string]any{"time": secs}); err != nil {
		b.window.Close("zigbee2mqtt did not open the network: " + err.Error())
		return fmt.Errorf("mqtt: open the network for joining: %w", err)
	}
	b.log.Info("mqtt: zigbee2mqtt permits joining", "seconds", secs)
	return nil
}

// RemoveDevice asks zigbee2mqtt to remove the device (bridge/request/device/remove:
// a leave request, then zigbee2mqtt forgets it). A device that does not answer
// the leave request (asleep, out of range) is removed from zigbee2mqtt's
// database instead (force), as the Zigbee bridge forgets it: it comes back
// only if it announces itself again. A Home Assistant MQTT discovery device
// is forgotten until it is announced again (forgetHA).
func (b *Bridge) RemoveDevice(ctx context.Context, deviceID string) error {
	ieee, ok := z2mIEEE(deviceID)
	if !ok || b.z2m == nil {
		if b.ha != nil {
			return b.forgetHA(deviceID)
		}
		return model.Errorf(model.ErrNotSupported, "%q is not a zigbee2mqtt device, and Home Assistant discovery is off", deviceID)
	}
	b.mu.Lock()
	known := b.z2m.knows(ieee)
	b.mu.Unlock()
	if !known {
		return model.Errorf(model.ErrInvalidValue, "zigbee2mqtt has no device %s", ieee)
	}
	_, err := b.request(ctx, "device/remove", map[string]any{"id": ieee, "force": false, "block": false})
	if err != nil {
		if me := (*model.Error)(nil); errors.As(err, &me) && me.Kind == model.ErrBridgeUnreachable {
			return err
		}
		b.log.Warn("mqtt: the device did not leave on request; removing it from zigbee2mqtt's database", "ieee", ieee, "err", err)
		if _, err := b.request(ctx, "device/remove", map[string]any{"id": ieee, "force": true, "block": false}); err != nil {
			return model.Errorf(model.ErrHardwareFault, "zigbee2mqtt could not remove %s: %v", ieee, err)
		}
	}
	b.log.Info("mqtt: zigbee2mqtt removed the device", "ieee", ieee)
	return nil
}

// forgetHA forgets a Home Assistant discovery device until it is announced
// again: its entities are dropped as if their publisher had withdrawn their
// configs (an empty message on each config topic, through the same queue as
// the broker's messages), so the next config the publisher sends, or the
// retained one the broker hands over at the next connection, brings it back.
// Nothing is published: the configs belong to their publisher.
func (b *Bridge) forgetHA(deviceID string) error {
	b.mu.Lock()
	var keys []string
	for key, owner := range b.ha.owner {
		if owner == deviceID {
			keys = append(keys, key)
		}
	}
	b.mu.Unlock()
	if len(keys) == 0 {
		return model.Errorf(model.ErrInvalidValue, "no Home Assistant discovery device %q", deviceID)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if dropped := b.q.push(item{kind: itemMessage, topic: b.cfg.haPrefix + "/" + key + "/config"}); dropped {
			return model.Errorf(model.ErrBridgeUnreachable, "the bridge is too busy to forget %q now: try again", deviceID)
		}
	}
	b.log.Info("mqtt: forgot the Home Assistant device until it is announced again", "device", deviceID, "entities", len(keys))
	return nil
}

// z2mIEEE returns the zigbee2mqtt IEEE address of a unit id ("z2m:0x…[:suffix]").
func z2mIEEE(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "z2m:")
	if !ok || rest == "" {
		return "", false
	}
	ieee, _, _ := strings.Cut(rest, ":")
	return ieee, true
}

// request publishes bridge/request/<name> with a transaction id and returns
// the data of zigbee2mqtt's matching bridge/response/<name>; a response with
// status "error" is an error carrying zigbee2mqtt's message.
func (b *Bridge) request(ctx context.Context, name string, payload map[string]any) (json.RawMessage, error) {
	b.mu.Lock()
	if !b.connected {
		b.mu.Unlock()
		return nil, model.Errorf(model.ErrBridgeUnreachable, "the MQTT broker is not connected")
	}
	b.reqSeq++
	tx := fmt.Sprintf("avshub-%s-%d", b.cfg.clientID, b.reqSeq)
	ch := make(chan z2mResponse, 1)
	b.responses[tx] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.responses, tx)
		b.mu.Unlock()
	}()
	payload["transaction"] = tx
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(b.requestWait)
	topic := b.cfg.z2mBase + "/bridge/request/" + name
	if err := b.publish(ctx, outMsg{topic: topic, payload: body}, deadline); err != nil {
		return nil, model.Errorf(model.ErrBridgeUnreachable, "%v", err)
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-ch:
		if r.Status != "ok" {
			msg := r.Error
			if msg == "" {
				msg = "status " + r.Status
			}
			return nil, fmt.Errorf("zigbee2mqtt refused %s: %s", name, msg)
		}
		return r.Data, nil
	case <-t.C:
		return nil, model.Errorf(model.ErrBridgeUnreachable, "zigbee2mqtt did not answer %s within %s (is it running?)", topic, b.requestWait)
	case <-ctx.Done():
		return nil, model.AsError(ctx.Err())
	}
}

// onBridgeTopic handles zigbee2mqtt's bridge/response/…, bridge/event and
// bridge/info messages; what they cause is queued in b.after, to run once
// the batch's device changes are emitted (zigbee2mqtt publishes
// bridge/devices before the event or response about a device). b.mu is held.
func (b *Bridge) onBridgeTopic(rest string, payload []byte) {
	switch {
	case strings.HasPrefix(rest, "bridge/response/"):
		var r z2mResponse
		if json.Unmarshal(payload, &r) != nil {
			return
		}
		tx, ok := r.Transaction.(string)
		if ch := b.responses[tx]; ok && ch != nil {
			b.after = append(b.after, func() {
				select {
				case ch <- r:
				default:
				}
			})
		}
	case rest == "bridge/event":
		var ev z2mEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			b.bad.warn("zigbee2mqtt bridge/event", "not a JSON event: "+quoteShort(payload))
			return
		}
		b.onEvent(ev)
	case rest == "bridge/info":
		var info struct {
			PermitJoin    *bool  `json:"permit_join"`
			PermitJoinEnd *int64 `json:"permit_join_end"`
		}
		if json.Unmarshal(payload, &info) != nil || info.PermitJoin == nil {
			return
		}
		until := b.window.Until()
		open := time.Now().Before(until)
		switch {
		case *info.PermitJoin && info.PermitJoinEnd != nil:
			// Opened by zigbee2mqtt's frontend or another client too.
			end := time.UnixMilli(*info.PermitJoinEnd)
			if end.After(time.Now()) && (!open || absDuration(end.Sub(until)) > 2*time.Second) {
				b.after = append(b.after, func() { b.window.Open(end, "zigbee2mqtt permits joining") })
			}
		case !*info.PermitJoin && open:
			b.after = append(b.after, func() { b.window.Close("zigbee2mqtt closed the network for joining") })
		}
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// onEvent turns a bridge/event into pairing progress. b.mu is held.
func (b *Bridge) onEvent(ev z2mEvent) {
	ieee := strings.ToLower(ev.Data.IEEE)
	if ieee == "" {
		return
	}
	id := "z2m:" + ieee
	name := ev.Data.FriendlyName
	report := func(stage model.PairingStage, detail string, ep *model.Endpoint) {
		b.after = append(b.after, func() { b.progress(stage, id, detail, ep) })
	}
	switch ev.Type {
	case "device_joined":
		b.joining[ieee] = true
		report(model.PairingAnnounced, fmt.Sprintf("%s joined the network", name), nil)
	case "device_announce":
		b.joining[ieee] = true
		report(model.PairingAnnounced, fmt.Sprintf("%s announced itself", name), nil)
	case "device_interview":
		switch ev.Data.Status {
		case "started":
			b.joining[ieee] = true
			report(model.PairingInterviewing, "zigbee2mqtt is interviewing it (endpoints, clusters, basic attributes)", nil)
		case "failed":
			delete(b.joining, ieee)
			report(model.PairingFailed, "zigbee2mqtt's interview failed: bring it closer and pair it again", nil)
		case "successful":
			delete(b.joining, ieee)
			what := "an unknown device"
			if d := ev.Data.Definition; d != nil {
				what = strings.TrimSpace(d.Vendor + " " + d.Model)
				if d.Description != "" {
					what += " (" + d.Description + ")"
				}
			}
			report(model.PairingInterviewing, "interviewed: "+what, nil)
			b.reportOutcome(ieee, name, report)
		}
	case "device_leave":
		if b.joining[ieee] {
			delete(b.joining, ieee)
			report(model.PairingFailed, "it left the network before its interview finished", nil)
		}
		b.log.Info("mqtt: a device left the zigbee2mqtt network", "ieee", ieee, "name", name)
	}
}

// reportOutcome reports a device zigbee2mqtt has interviewed: published with
// each of its endpoints, or failed with why it is not bridged. zigbee2mqtt
// published bridge/devices before the event, so the source knows. b.mu is held.
func (b *Bridge) reportOutcome(ieee, name string, report func(model.PairingStage, string, *model.Endpoint)) {
	if d := b.z2m.devices[ieee]; d != nil && len(d.units) > 0 {
		for _, u := range d.units {
			ep := u.ep
			uid := u.id
			b.after = append(b.after, func() {
				b.progress(model.PairingPublished, uid, fmt.Sprintf("published as %q (%s)", ep.FriendlyName, ep.Category), &ep)
			})
		}
		return
	}
	for _, s := range b.z2m.skips {
		if s.Part == "" && (s.ID == name || strings.EqualFold(s.ID, ieee)) {
			report(model.PairingFailed, "not bridged: "+s.Reason, nil)
			return
		}
	}
	report(model.PairingFailed, "zigbee2mqtt lists no device avshub can bridge for it", nil)
}

// progress reports a pairing step with the window's remaining time.
func (b *Bridge) progress(stage model.PairingStage, id, detail string, ep *model.Endpoint) {
	b.window.Report(stage, id, detail, ep)
}

// runAfter runs what the last batch of messages queued (onBridgeTopic), once
// the first snapshot is out: before it the hub does not know the devices yet,
// and a device "published" then would reach it without its endpoint.
func (b *Bridge) runAfter() {
	b.mu.Lock()
	if !b.snapshotSent {
		b.mu.Unlock()
		return
	}
	fs := b.after
	b.after = nil
	b.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

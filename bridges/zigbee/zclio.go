package zigbee

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// confirmTimeout bounds the wait for AF_DATA_CONFIRM (herdsman uses its ZCL timeout, 10 s).
const confirmTimeout = 10 * time.Second

// maxAttempts is how often a frame is sent when the confirm says it may work next time.
const maxAttempts = 3

// DeliveryError is a failed AF_DATA_CONFIRM.
type DeliveryError struct{ Status uint8 }

// Error names the failure status.
func (e *DeliveryError) Error() string {
	names := map[uint8]string{mt.StatusNWKNoRoute: "NWK_NO_ROUTE", mt.StatusMACNoAck: "MAC_NO_ACK",
		mt.StatusMACTransactionExpired: "MAC_TRANSACTION_EXPIRED", mt.StatusMACChannelAccessFail: "MAC_CHANNEL_ACCESS_FAILURE",
		mt.StatusBufferFull: "BUFFER_FULL", mt.StatusMACNoResources: "MAC_NO_RESOURCES"}
	if n, ok := names[e.Status]; ok {
		return "zigbee: delivery failed: " + n
	}
	return fmt.Sprintf("zigbee: delivery failed: status 0x%02x", e.Status)
}

func retryable(st uint8) bool {
	switch st {
	case mt.StatusNWKNoRoute, mt.StatusMACNoAck, mt.StatusMACChannelAccessFail, mt.StatusMACTransactionExpired,
		mt.StatusBufferFull, mt.StatusMACNoResources:
		return true
	}
	return false
}

func (b *Bridge) nextTransID() uint8 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.transID++
	if b.transID == 0 {
		b.transID = 1
	}
	return b.transID
}

func (b *Bridge) nextTSN() uint8 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tsn++
	return b.tsn
}

// afDataRequest encodes AF_DATA_REQUEST (radius 30, no options) from endpoint 1.
func afDataRequest(dst uint16, dstEP uint8, cluster uint16, transID uint8, data []byte) []byte {
	b := binary.LittleEndian.AppendUint16(make([]byte, 0, 10+len(data)), dst)
	b = append(b, dstEP, 1)
	b = binary.LittleEndian.AppendUint16(b, cluster)
	b = append(b, transID, 0, 30, byte(len(data)))
	return append(b, data...)
}

// sendRaw sends one ZCL frame and waits for its AF_DATA_CONFIRM, retrying the
// delivery failures Zigbee practice retries (as herdsman: NO_ROUTE, MAC_NO_ACK,
// channel access, transaction expired, buffer full), within ctx. Before retrying
// NO_ROUTE or MAC_NO_ACK it asks for a route rediscovery (ZDO_EXT_ROUTE_DISC).
func (b *Bridge) sendRaw(ctx context.Context, nwk uint16, ep uint8, cluster uint16, frame []byte) error {
	link := b.currentLink()
	if link == nil {
		return model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	var last error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		id := b.nextTransID()
		w := link.Wait(mt.MatchAREQ(unpi.AF, mt.AfDataConfirm, func(d []byte) bool { return len(d) >= 3 && d[2] == id }))
		rsp, err := link.Request(ctx, unpi.AF, mt.AfDataRequest, afDataRequest(nwk, ep, cluster, id, frame), 0)
		if err == nil {
			err = statusErr("AF_DATA_REQUEST", rsp)
		}
		if err != nil {
			w.Cancel()
			return err
		}
		f, err := link.Await(ctx, w, confirmTimeout, "AF_DATA_CONFIRM")
		if err != nil {
			return err
		}
		st := f.Data[0]
		if st == mt.StatusSuccess {
			return nil
		}
		last = &DeliveryError{Status: st}
		if !retryable(st) || attempt == maxAttempts-1 {
			return last
		}
		delay := 100 * time.Millisecond
		if st == mt.StatusMACChannelAccessFail || st == mt.StatusBufferFull || st == mt.StatusMACNoResources {
			delay = b.retryDelay
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay+50*time.Millisecond {
			break
		}
		if st == mt.StatusNWKNoRoute || st == mt.StatusMACNoAck {
			// As herdsman: ask the stack to rediscover the route before the next attempt.
			req := binary.LittleEndian.AppendUint16(nil, nwk)
			if _, err := link.Request(ctx, unpi.ZDO, mt.ZdoExtRouteDisc, append(req, 0, 30), 0); err != nil {
				b.log.Debug("zigbee: route discovery request failed", "err", err)
			}
		}
		if err := sleep(ctx, delay); err != nil {
			return last
		}
	}
	return last
}

// request sends a ZCL frame to a device and waits for the answer that match
// accepts (nil: no answer awaited). A delivery failure or a missing answer makes
// the device unreachable.
func (b *Bridge) request(ctx context.Context, ieee string, cluster uint16, h zcl.Header, payload []byte, match func(zcl.Frame) bool) (zcl.Frame, error) {
	return b.exchange(ctx, ieee, cluster, h, payload, match, true)
}

// exchange is request; markUnreachable says whether a delivery failure or a
// missing answer marks the device unreachable (the refresh decides that itself).
func (b *Bridge) exchange(ctx context.Context, ieee string, cluster uint16, h zcl.Header, payload []byte, match func(zcl.Frame) bool, markUnreachable bool) (zcl.Frame, error) {
	b.mu.Lock()
	r := b.devices[ieee]
	link := b.link
	var nwk uint16
	var ep uint8
	var ok bool
	if r != nil {
		nwk = r.NWK
		ep, ok = r.epFor(cluster)
	}
	timeout := b.cfg.responseTimeout()
	b.mu.Unlock()
	if r == nil {
		return zcl.Frame{}, model.Errorf(model.ErrNotSupported, "no Zigbee device %q", ieee)
	}
	if !ok {
		return zcl.Frame{}, model.Errorf(model.ErrNotSupported, "the device has no cluster 0x%04x", cluster)
	}
	if link == nil {
		return zcl.Frame{}, model.Errorf(model.ErrBridgeUnreachable, "the Zigbee coordinator is not available")
	}
	h.TSN = b.nextTSN()
	frame := zcl.Frame{Header: h, Payload: payload}.Marshal()
	var w *mt.Waiter
	if match != nil {
		tsn := h.TSN
		w = link.Wait(func(f unpi.Frame) bool {
			if f.Subsystem != unpi.AF || f.Cmd != mt.AfIncomingMsg {
				return false
			}
			m, err := parseIncoming(f.Data)
			if err != nil || m.src != nwk || m.cluster != cluster {
				return false
			}
			zf, err := zcl.Parse(m.data)
			return err == nil && zf.TSN == tsn && zf.Direction == zcl.ServerToClient && match(zf)
		})
	}
	if err := b.sendRaw(ctx, nwk, ep, cluster, frame); err != nil {
		if w != nil {
			w.Cancel()
		}
		var de *DeliveryError
		var te *mt.TimeoutError
		if errors.As(err, &de) || errors.As(err, &te) {
			if markUnreachable {
				b.setReachable(ieee, false)
			}
			return zcl.Frame{}, model.Errorf(model.ErrUnreachable, "the device did not receive the command (%v)", err)
		}
		if ctx.Err() != nil {
			return zcl.Frame{}, model.Errorf(model.ErrUnreachable, "the device did not answer in time")
		}
		return zcl.Frame{}, err
	}
	if w == nil {
		return zcl.Frame{}, nil
	}
	f, err := link.Await(ctx, w, timeout, "ZCL response")
	if err != nil {
		var te *mt.TimeoutError
		if errors.As(err, &te) || ctx.Err() != nil {
			if markUnreachable {
				b.setReachable(ieee, false)
			}
			return zcl.Frame{}, model.Errorf(model.ErrUnreachable, "the device did not answer")
		}
		return zcl.Frame{}, err
	}
	m, _ := parseIncoming(f.Data)
	zf, _ := zcl.Parse(m.data)
	zf.Payload = append([]byte(nil), zf.Payload...)
	return zf, nil
}

func isCmd(frameType, cmd uint8) func(zcl.Frame) bool {
	return func(f zcl.Frame) bool {
		return (f.FrameType == frameType && f.Command == cmd) || (f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdDefaultRsp)
	}
}

// errReadRefused is a Read Attributes the device answered, but not with values.
var errReadRefused = errors.New("zigbee: read attributes refused")

// readAttributes reads attributes of one cluster; unsupported ones are left out.
func (b *Bridge) readAttributes(ctx context.Context, ieee string, cluster uint16, ids ...uint16) (map[uint16]zcl.Value, error) {
	return b.readAttrs(ctx, ieee, cluster, true, ids)
}

// readAttrs is readAttributes; markUnreachable as for exchange.
func (b *Bridge) readAttrs(ctx context.Context, ieee string, cluster uint16, markUnreachable bool, ids []uint16) (map[uint16]zcl.Value, error) {
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ClientToServer, DisableDefaultResponse: true, Command: zcl.CmdReadAttributes}
	f, err := b.exchange(ctx, ieee, cluster, h, zcl.ReadAttributes(ids...), isCmd(zcl.FrameGlobal, zcl.CmdReadAttributesRsp), markUnreachable)
	if err != nil {
		return nil, err
	}
	if f.Command == zcl.CmdDefaultRsp {
		_, st, _ := zcl.ParseDefaultRsp(f.Payload)
		return nil, fmt.Errorf("%w: %s", errReadRefused, st)
	}
	recs, err := zcl.ParseReadAttributesRsp(f.Payload)
	if err != nil && len(recs) == 0 {
		return nil, fmt.Errorf("%w: bad response: %w", errReadRefused, err)
	}
	out := map[uint16]zcl.Value{}
	for _, r := range recs {
		if r.Status == zcl.StatusSuccess {
			out[r.ID] = r.Value
		}
	}
	return out, nil
}

// clusterCommand sends a cluster command and checks its answer: the command's
// own response (rspCmd ≥ 0) or a Default Response.
func (b *Bridge) clusterCommand(ctx context.Context, ieee string, cluster uint16, cmd uint8, payload []byte, rspCmd int) (zcl.Frame, error) {
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ClientToServer, Command: cmd, DisableDefaultResponse: rspCmd >= 0}
	match := func(f zcl.Frame) bool {
		if f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdDefaultRsp {
			c, _, err := zcl.ParseDefaultRsp(f.Payload)
			return err == nil && c == cmd
		}
		return rspCmd >= 0 && f.FrameType == zcl.FrameCluster && f.Command == uint8(rspCmd)
	}
	f, err := b.request(ctx, ieee, cluster, h, payload, match)
	if err != nil {
		return f, err
	}
	var st zcl.Status
	if f.FrameType == zcl.FrameGlobal {
		_, st, _ = zcl.ParseDefaultRsp(f.Payload)
	} else if len(f.Payload) > 0 {
		st = zcl.Status(f.Payload[0])
	}
	if st != zcl.StatusSuccess {
		return f, statusError(st)
	}
	return f, nil
}

// statusError maps a ZCL failure status to the model's error kinds.
func statusError(st zcl.Status) *model.Error {
	switch st {
	case zcl.StatusInvalidValue:
		return model.Errorf(model.ErrInvalidValue, "the device refused the value (%s)", st)
	case zcl.StatusUnsupClusterCommand, zcl.StatusUnsupportedAttribute, zcl.StatusReadOnly:
		return model.Errorf(model.ErrNotSupported, "the device does not support this (%s)", st)
	case zcl.StatusNotAuthorized:
		return model.Errorf(model.ErrInvalidValue, "the device requires authorisation (%s)", st)
	}
	return model.Errorf(model.ErrHardwareFault, "the device reported %s", st)
}

package zigbee

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

var _ sdk.Remover = (*Bridge)(nil)

// clusterNames name the clusters an interview reads, for its steps.
var clusterNames = map[uint16]string{
	zcl.ClusterBasic: "Basic", zcl.ClusterPowerConfig: "Power Configuration", zcl.ClusterOnOff: "On/Off",
	zcl.ClusterLevel: "Level Control", zcl.ClusterColor: "Color Control", zcl.ClusterDoorLock: "Door Lock",
	zcl.ClusterThermostat: "Thermostat", zcl.ClusterTemperature: "Temperature Measurement",
	zcl.ClusterWindowCovering: "Window Covering", zcl.ClusterIlluminance: "Illuminance Measurement",
	zcl.ClusterOccupancy: "Occupancy Sensing", zcl.ClusterHumidity: "Relative Humidity", zcl.ClusterIASZone: "IAS Zone",
	zcl.ClusterIASWD: "IAS Warning Device", zcl.ClusterMetering: "Metering", zcl.ClusterElectricalMeas: "Electrical Measurement",
	zcl.ClusterFanControl: "Fan Control",
}

// clusterName names a cluster ("On/Off", or "cluster 0xfc00").
func clusterName(c uint16) string {
	if n, ok := clusterNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cluster 0x%04x", c)
}

// pairingWindow opens the window the progress reports count down, and
// reports it. The window's end is reported by a timer.
func (b *Bridge) pairingWindow(d time.Duration) {
	b.window.Open(time.Now().Add(d), fmt.Sprintf("the network is open for joining for %s", d))
}

// closeWindow ends the window early and reports why.
func (b *Bridge) closeWindow(why string) { b.window.Close(why) }

// progress reports a pairing step with the window's remaining time.
func (b *Bridge) progress(stage model.PairingStage, ieee, detail string, ep *model.Endpoint) {
	b.window.Report(stage, ieee, detail, ep)
}

// step reports one interview step of a device.
func (b *Bridge) step(ieee, format string, args ...any) {
	b.progress(model.PairingInterviewing, ieee, fmt.Sprintf(format, args...), nil)
}

// RemoveDevice asks the device to leave the network (ZDO Mgmt_Leave_req,
// without rejoining) and forgets it. A device that does not answer (asleep,
// off the air) is forgotten all the same: it is asked to leave again if it
// announces itself, as a new device, during a later pairing.
func (b *Bridge) RemoveDevice(ctx context.Context, ieee string) error {
	b.mu.Lock()
	r, ok := b.devices[ieee]
	var nwk uint16
	if ok {
		nwk = r.NWK
	}
	b.mu.Unlock()
	if !ok {
		return model.Errorf(model.ErrInvalidValue, "no Zigbee device %q", ieee)
	}
	ieeeV, err := parseIEEE(ieee)
	if err != nil {
		return model.Errorf(model.ErrInvalidValue, "device id %q: %v", ieee, err)
	}
	// DstAddr, DeviceAddress, RemoveChildren_Rejoin (0: leave for good, keep children).
	req := binary.LittleEndian.AppendUint16(nil, nwk)
	req = binary.LittleEndian.AppendUint64(req, ieeeV)
	req = append(req, 0)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := b.zdo(lctx, mt.ZdoMgmtLeaveReq, mt.ZdoMgmtLeaveRsp, nwk, req)
	switch {
	case err != nil:
		b.log.Warn("zigbee: the device did not confirm the leave request; forgotten anyway", "ieee", ieee, "err", err)
	case len(d) < 1 || d[0] != 0:
		b.log.Warn("zigbee: the device refused the leave request; forgotten anyway", "ieee", ieee, "answer", fmt.Sprintf("% x", d))
	default:
		b.log.Info("zigbee: the device left the network on request", "ieee", ieee)
	}
	b.forget(ieee)
	return nil
}

// forget drops a device from the bridge's database and, when it was
// published, from the device set.
func (b *Bridge) forget(ieee string) {
	b.mu.Lock()
	r, ok := b.devices[ieee]
	if ok {
		delete(b.devices, ieee)
		if b.byNWK[r.NWK] == ieee {
			delete(b.byNWK, r.NWK)
		}
		delete(b.lastSeen, ieee)
		delete(b.lastLink, ieee)
		b.persist()
	}
	em := b.em
	b.mu.Unlock()
	if ok && em != nil && r.Interviewed {
		if _, pub := r.endpoint(b.cfg.Names); pub {
			em.Remove(ieee)
		}
	}
}

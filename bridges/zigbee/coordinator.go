package zigbee

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// coordinator drives the Z-Stack stick through its MT client.
type coordinator struct {
	c    *mt.Client
	log  *slog.Logger
	port any // the open port, for DTR/RTS toggling
	ieee uint64
}

// statusErr checks the status byte of an SRSP.
func statusErr(what string, data []byte, ok ...byte) error {
	if len(data) < 1 {
		return fmt.Errorf("zigbee: %s: empty response", what)
	}
	if len(ok) == 0 {
		ok = []byte{0}
	}
	if bytes.IndexByte(ok, data[0]) < 0 {
		return fmt.Errorf("zigbee: %s: status 0x%02x", what, data[0])
	}
	return nil
}

func (co *coordinator) ping(ctx context.Context, timeout time.Duration) error {
	_, err := co.c.Request(ctx, unpi.SYS, mt.SysPing, nil, timeout)
	return err
}

// skipBootloader pings the stick; if it does not answer it sends the CC253x
// bootloader skip byte, then toggles DTR/RTS (which resets some CC2652 boards).
func (co *coordinator) skipBootloader(ctx context.Context) error {
	if co.ping(ctx, mt.BootloaderPingTimeout) == nil {
		return nil
	}
	co.log.Info("zigbee: stick did not answer ping; sending bootloader skip")
	if err := co.c.WriteRaw([]byte{mt.BootloaderSkip}); err != nil {
		return err
	}
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}
	if co.ping(ctx, mt.BootloaderPingTimeout) == nil {
		return nil
	}
	if p, ok := co.port.(interface {
		SetDTR(bool) error
		SetRTS(bool) error
	}); ok {
		co.log.Info("zigbee: toggling DTR/RTS to reset the stick")
		_ = p.SetDTR(false)
		_ = p.SetRTS(false)
		_ = sleep(ctx, 150*time.Millisecond)
		_ = p.SetRTS(true)
		_ = sleep(ctx, 150*time.Millisecond)
		_ = p.SetRTS(false)
		_ = sleep(ctx, 150*time.Millisecond)
	}
	var err error
	for i := 0; i < 3; i++ {
		if err = co.ping(ctx, 0); err == nil {
			return nil
		}
	}
	return fmt.Errorf("zigbee: the stick does not answer SYS_PING: %w", err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// version is SYS_VERSION's answer.
type version struct {
	Transport, Product, Major, Minor, Maint uint8
	Revision                                uint32
}

func (co *coordinator) version(ctx context.Context) (version, error) {
	d, err := co.c.Request(ctx, unpi.SYS, mt.SysVersion, nil, 0)
	if err != nil {
		return version{}, err
	}
	if len(d) < 5 {
		return version{}, fmt.Errorf("zigbee: SYS_VERSION answer too short (%d bytes)", len(d))
	}
	v := version{Transport: d[0], Product: d[1], Major: d[2], Minor: d[3], Maint: d[4]}
	if len(d) >= 9 {
		v.Revision = binary.LittleEndian.Uint32(d[5:])
	}
	return v, nil
}

func (co *coordinator) extAddr(ctx context.Context) (uint64, error) {
	d, err := co.c.Request(ctx, unpi.SYS, mt.SysGetExtAddr, nil, 0)
	if err != nil {
		return 0, err
	}
	if len(d) < 8 {
		return 0, fmt.Errorf("zigbee: SYS_GET_EXT_ADDR answer too short")
	}
	return binary.LittleEndian.Uint64(d), nil
}

// readNV reads an NV item (nil when it does not exist).
func (co *coordinator) readNV(ctx context.Context, id uint16) ([]byte, error) {
	d, err := co.c.Request(ctx, unpi.SYS, mt.SysNVLength, binary.LittleEndian.AppendUint16(nil, id), 0)
	if err != nil {
		return nil, err
	}
	if len(d) < 2 {
		return nil, fmt.Errorf("zigbee: NV length of 0x%04x: short answer", id)
	}
	n := int(binary.LittleEndian.Uint16(d))
	if n == 0 {
		return nil, nil
	}
	var out []byte
	for len(out) < n {
		req := binary.LittleEndian.AppendUint16(nil, id)
		req = binary.LittleEndian.AppendUint16(req, uint16(len(out)))
		d, err := co.c.Request(ctx, unpi.SYS, mt.SysNVReadExt, req, 0)
		if err != nil {
			return nil, err
		}
		if err := statusErr(fmt.Sprintf("NV read 0x%04x", id), d); err != nil {
			return nil, err
		}
		if len(d) < 2 || len(d) < 2+int(d[1]) || d[1] == 0 {
			return nil, fmt.Errorf("zigbee: NV read 0x%04x: bad answer", id)
		}
		out = append(out, d[2:2+int(d[1])]...)
	}
	return out[:n], nil
}

// writeNV creates an NV item if needed and writes its value.
func (co *coordinator) writeNV(ctx context.Context, id uint16, v []byte) error {
	init := binary.LittleEndian.AppendUint16(nil, id)
	init = binary.LittleEndian.AppendUint16(init, uint16(len(v)))
	iv := v
	if len(iv) > 240 {
		iv = iv[:240]
	}
	init = append(append(init, byte(len(iv))), iv...)
	d, err := co.c.Request(ctx, unpi.SYS, mt.SysNVItemInit, init, 0)
	if err != nil {
		return err
	}
	if err := statusErr(fmt.Sprintf("NV init 0x%04x", id), d, mt.StatusSuccess, mt.StatusNVItemUninit); err != nil {
		return err
	}
	w := binary.LittleEndian.AppendUint16(nil, id)
	w = binary.LittleEndian.AppendUint16(w, 0)
	w = binary.LittleEndian.AppendUint16(w, uint16(len(v)))
	d, err = co.c.Request(ctx, unpi.SYS, mt.SysNVWriteExt, append(w, v...), 0)
	if err != nil {
		return err
	}
	return statusErr(fmt.Sprintf("NV write 0x%04x", id), d)
}

func (co *coordinator) deviceState(ctx context.Context) (uint8, error) {
	d, err := co.c.Request(ctx, unpi.UTIL, mt.UtilGetDeviceInfo, nil, 0)
	if err != nil {
		return 0, err
	}
	// status ieee(8) shortaddr(2) devicetype devicestate …
	if len(d) < 13 {
		return 0, fmt.Errorf("zigbee: UTIL_GET_DEVICE_INFO answer too short")
	}
	return d[12], nil
}

func stateIs(s uint8) func(unpi.Frame) bool {
	return mt.MatchAREQ(unpi.ZDO, mt.ZdoStateChangeInd, func(d []byte) bool { return len(d) >= 1 && d[0] == s })
}

// softReset resets the stick and waits for SYS_RESET_IND.
func (co *coordinator) softReset(ctx context.Context) error {
	w := co.c.Wait(mt.MatchAREQ(unpi.SYS, mt.SysResetInd, nil))
	if err := co.c.Send(unpi.SYS, mt.SysResetReq, []byte{1}); err != nil {
		w.Cancel()
		return err
	}
	_, err := co.c.Await(ctx, w, mt.ResetTimeout, "SYS_RESET_IND")
	return err
}

// startFromApp starts the stored network and waits for ZB_COORD.
func (co *coordinator) startFromApp(ctx context.Context) error {
	st, err := co.deviceState(ctx)
	if err != nil {
		return err
	}
	if st == mt.DevZBCoord {
		return nil
	}
	w := co.c.Wait(stateIs(mt.DevZBCoord))
	d, err := co.c.Request(ctx, unpi.ZDO, mt.ZdoStartupFromApp, []byte{100, 0}, 0)
	if err == nil {
		err = statusErr("ZDO_STARTUP_FROM_APP", d, 0, 1)
	}
	if err != nil {
		w.Cancel()
		return err
	}
	_, err = co.c.Await(ctx, w, 60*time.Second, "ZB_COORD state")
	return err
}

func chanMask(ch int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(1)<<ch) }

// commission forms a new network with the bridge's parameters (BDB formation).
func (co *coordinator) commission(ctx context.Context, n network) error {
	co.log.Info("zigbee: forming network", "channel", n.Channel, "pan", fmt.Sprintf("0x%04x", n.PANID))
	if err := co.writeNV(ctx, mt.NVStartupOption, []byte{0x03}); err != nil {
		return err
	}
	if err := co.softReset(ctx); err != nil {
		return err
	}
	items := []struct {
		id uint16
		v  []byte
	}{
		{mt.NVLogicalType, []byte{0}},
		{mt.NVZDODirectCB, []byte{1}},
		{mt.NVChanList, chanMask(n.Channel)},
		{mt.NVPANID, binary.LittleEndian.AppendUint16(nil, n.PANID)},
		{mt.NVExtendedPANID, binary.LittleEndian.AppendUint64(nil, n.ExtPANID)},
		{mt.NVAPSUseExtPANID, binary.LittleEndian.AppendUint64(nil, n.ExtPANID)},
		{mt.NVPreCfgKeysEnable, []byte{0}}, // the trust centre hands the key to joining devices (as zigbee-herdsman writes)
		{mt.NVPreCfgKey, n.Key},
	}
	for _, it := range items {
		if err := co.writeNV(ctx, it.id, it.v); err != nil {
			return err
		}
	}
	for _, primary := range []byte{1, 0} {
		mask := chanMask(n.Channel)
		if primary == 0 {
			mask = []byte{0, 0, 0, 0}
		}
		d, err := co.c.Request(ctx, unpi.APPCNF, mt.AppCnfBDBSetChannel, append([]byte{primary}, mask...), 0)
		if err == nil {
			err = statusErr("BDB_SET_CHANNEL", d)
		}
		if err != nil {
			return err
		}
	}
	w := co.c.Wait(stateIs(mt.DevZBCoord))
	d, err := co.c.Request(ctx, unpi.APPCNF, mt.AppCnfBDBStartCommissioning, []byte{0x04}, 0)
	if err == nil {
		err = statusErr("BDB_START_COMMISSIONING", d)
	}
	if err != nil {
		w.Cancel()
		return err
	}
	if _, err := co.c.Await(ctx, w, 100*time.Second, "network formation"); err != nil {
		return err
	}
	// As zigbee-herdsman does: a PAN id other than the one asked for means the
	// stick found a network with ours nearby and picked another; running on
	// it would re-form at every start.
	info, err := co.nwkInfo(ctx)
	if err != nil {
		return err
	}
	if info.panID != n.PANID {
		return fmt.Errorf("zigbee: network formation: PAN id collision (asked for 0x%04x, the stick formed 0x%04x): another network nearby uses it", n.PANID, info.panID)
	}
	return co.writeNV(ctx, mt.NVHasConfigured3, []byte{mt.HasConfiguredMagic})
}

// nwkInfo is ZDO_EXT_NWK_INFO's answer.
type nwkInfo struct {
	state   uint8
	panID   uint16
	extPAN  uint64
	channel uint8
}

func (co *coordinator) nwkInfo(ctx context.Context) (nwkInfo, error) {
	d, err := co.c.Request(ctx, unpi.ZDO, mt.ZdoExtNwkInfo, nil, 0)
	if err != nil {
		return nwkInfo{}, err
	}
	if len(d) < 24 {
		return nwkInfo{}, fmt.Errorf("zigbee: ZDO_EXT_NWK_INFO answer too short")
	}
	return nwkInfo{state: d[2], panID: binary.LittleEndian.Uint16(d[3:]), extPAN: binary.LittleEndian.Uint64(d[7:]), channel: d[23]}, nil
}

// errReform says the stick holds a different network than the bridge's.
var errReform = errors.New("zigbee: stick network differs from the stored one")

// start brings the coordinator up on network n: forming it when the stick is
// not configured (or holds another network), otherwise restoring it.
func (co *coordinator) start(ctx context.Context, n network) error {
	if err := co.skipBootloader(ctx); err != nil {
		return err
	}
	v, err := co.version(ctx)
	if err != nil {
		return err
	}
	co.log.Info("zigbee: stick firmware", "product", v.Product, "version", fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Maint), "revision", v.Revision)
	if v.Product != 1 {
		co.log.Warn("zigbee: this bridge is made for Z-Stack 3.x.0 (CC13x2/CC26x2); continuing", "product", v.Product)
	}
	if co.ieee, err = co.extAddr(ctx); err != nil {
		return err
	}
	err = co.restore(ctx, n)
	if errors.Is(err, errReform) {
		if err := co.commission(ctx, n); err != nil {
			return err
		}
		if err := co.startFromApp(ctx); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// ZDO_DIRECT_CB must be 1 so that ZDO answers arrive as callbacks.
	cb, err := co.readNV(ctx, mt.NVZDODirectCB)
	if err != nil {
		return err
	}
	if len(cb) < 1 || cb[0] != 1 {
		co.log.Info("zigbee: enabling ZDO_DIRECT_CB and restarting the stick")
		if err := co.writeNV(ctx, mt.NVZDODirectCB, []byte{1}); err != nil {
			return err
		}
		if err := co.softReset(ctx); err != nil {
			return err
		}
		if err := co.startFromApp(ctx); err != nil {
			return err
		}
	}
	return co.registerEndpoints(ctx)
}

// restore starts the stored network, or returns errReform.
func (co *coordinator) restore(ctx context.Context, n network) error {
	hc, err := co.readNV(ctx, mt.NVHasConfigured3)
	if err != nil {
		return err
	}
	if len(hc) < 1 || hc[0] != mt.HasConfiguredMagic {
		return errReform
	}
	// The key the network runs with is the active key descriptor (key
	// sequence number, key), as zigbee-herdsman compares it; PRECFGKEY is
	// only what formation started from.
	key, err := co.readNV(ctx, mt.NVActiveKeyInfo)
	if err != nil {
		return err
	}
	if len(key) < 17 || !bytes.Equal(key[1:17], n.Key) {
		co.log.Warn("zigbee: the stick holds another network; re-forming with the stored parameters")
		return errReform
	}
	if err := co.startFromApp(ctx); err != nil {
		return err
	}
	info, err := co.nwkInfo(ctx)
	if err != nil {
		return err
	}
	if info.panID != n.PANID || info.extPAN != n.ExtPANID || int(info.channel) != n.Channel {
		co.log.Warn("zigbee: the stick runs another PAN; re-forming", "pan", fmt.Sprintf("0x%04x", info.panID),
			"extPan", fmt.Sprintf("%016x", info.extPAN), "channel", info.channel)
		return errReform
	}
	return nil
}

// registerEndpoints registers the hub's endpoint 1 (HA profile) unless it exists.
func (co *coordinator) registerEndpoints(ctx context.Context) error {
	w := co.c.Wait(mt.MatchAREQ(unpi.ZDO, mt.ZdoActiveEPRsp, func(d []byte) bool { return len(d) >= 2 && d[0] == 0 && d[1] == 0 }))
	d, err := co.c.Request(ctx, unpi.ZDO, mt.ZdoActiveEPReq, []byte{0, 0, 0, 0}, 0)
	if err == nil {
		err = statusErr("ZDO_ACTIVE_EP_REQ", d)
	}
	if err != nil {
		w.Cancel()
		return err
	}
	f, err := co.c.Await(ctx, w, 0, "coordinator active endpoints")
	if err != nil {
		return err
	}
	if len(f.Data) >= 6 && bytes.IndexByte(f.Data[6:], 1) >= 0 {
		return nil
	}
	// ep 1, HA profile, device 0x0005 (configuration tool), version 0, latency 0, no clusters
	d, err = co.c.Request(ctx, unpi.AF, mt.AfRegister, []byte{0x01, 0x04, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00}, 0)
	if err != nil {
		return err
	}
	return statusErr("AF_REGISTER", d, mt.StatusSuccess, mt.StatusAPSDuplicateEntry)
}

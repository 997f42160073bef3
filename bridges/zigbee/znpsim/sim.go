// Package znpsim emulates a TI Z-Stack 3.x coordinator (CC2652) speaking MT
// over UNPI, with simulated Zigbee devices modelled on real products. It runs
// over any io.ReadWriter or on a pseudo-terminal (RunPTY) that a host opens as
// if it were a USB stick.
package znpsim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

// Direction says which way a frame went.
type Direction string

// Frame directions, as the trace writes them.
const (
	HostToZNP Direction = "host>znp"
	ZNPToHost Direction = "znp>host"
)

// Options configure a simulator.
type Options struct {
	// Devices are the simulated devices (DefaultDevicesYAML parsed if nil).
	Devices []DeviceSpec
	// Logger gets the simulator's log (slog.Default() if nil).
	Logger *slog.Logger
	// Trace, if set, gets one line per frame: "<RFC 3339 time> host>znp|znp>host <hex bytes>".
	Trace io.Writer
	// OnFrame, if set, sees every frame in both directions (tests use it to assert wire bytes).
	OnFrame func(dir Direction, f unpi.Frame)
	// IEEE is the coordinator's IEEE address (a fixed TI-like address if 0).
	IEEE uint64
	// Latency is the simulated radio round trip for device answers (default 5 ms).
	Latency time.Duration
	// JoinDelay is how long after permit-join opens the first device joins (default 50 ms).
	JoinDelay time.Duration
}

// defaultTCLinkKey is the well-known "ZigBeeAlliance09" key; the default NWK key below is Z-Stack's shipped one.
var defaultNwkKey = []byte{0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x0F, 0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0D}

// DefaultNetworkKey returns Z-Stack's shipped (well-known) network key.
func DefaultNetworkKey() []byte { return append([]byte(nil), defaultNwkKey...) }

type line struct {
	w   io.Writer
	mu  sync.Mutex
	die chan struct{}
}

// Sim is one emulated coordinator with its devices.
type Sim struct {
	o   Options
	log *slog.Logger

	mu           sync.Mutex
	nv           map[uint16][]byte
	exNV         map[exKey][]byte
	groups       map[uint8]map[uint16][]byte // endpoint → group id → name (the APS group table)
	frameCounter uint32
	keyDenied    int
	devState     uint8
	formed       bool
	channel      uint8
	panID        uint16
	extPAN       uint64
	key          []byte
	afEPs        map[uint8]afEP
	permitEnd    time.Time
	devices      []*device
	cur          *line
	noiseRnd     *mrand.Rand

	traceMu sync.Mutex
	sched   schedule
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	// pty state (RunPTY)
	plugged  chan bool
	linkPath string
}

type afEP struct {
	profile, deviceID uint16
	in, out           []uint16
}

// New builds a simulator. Call Serve or RunPTY to put it on a line, and Close when done.
func New(o Options) (*Sim, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Latency <= 0 {
		o.Latency = 5 * time.Millisecond
	}
	if o.JoinDelay <= 0 {
		o.JoinDelay = 50 * time.Millisecond
	}
	if o.IEEE == 0 {
		o.IEEE = 0x00124b0024c1a2b3
	}
	if o.Devices == nil {
		d, err := ParseDevices(defaultDevicesYAML)
		if err != nil {
			return nil, err
		}
		o.Devices = d
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{o: o, log: o.Logger, afEPs: map[uint8]afEP{}, ctx: ctx, cancel: cancel,
		noiseRnd: mrand.New(mrand.NewPCG(1, 2)), plugged: make(chan bool, 1)}
	s.nv = factoryNV(o.IEEE)
	s.exNV = map[exKey][]byte{}
	s.groups = map[uint8]map[uint16][]byte{}
	for _, spec := range o.Devices {
		d, err := newDevice(spec)
		if err != nil {
			cancel()
			return nil, err
		}
		s.devices = append(s.devices, d)
	}
	s.sched.wake = make(chan struct{}, 1)
	s.wg.Add(1)
	go s.runSchedule()
	return s, nil
}

// Close stops the simulator's timers and detaches it from its line.
func (s *Sim) Close() error {
	s.cancel()
	s.mu.Lock()
	if s.cur != nil {
		close(s.cur.die)
		s.cur = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Serve runs the ZNP protocol over rw until reading fails or ctx ends.
func (s *Sim) Serve(ctx context.Context, rw io.ReadWriter) error {
	l := &line{w: rw, die: make(chan struct{})}
	s.mu.Lock()
	if s.cur != nil {
		close(s.cur.die)
	}
	s.cur = l
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.cur == l {
			s.cur = nil
			close(l.die)
		}
		s.mu.Unlock()
	}()
	chunks := make(chan []byte, 8)
	rerr := make(chan error, 1)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 512)
			n, err := rw.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-l.die:
					return
				}
			}
			if err != nil {
				rerr <- err
				return
			}
		}
	}()
	var dec unpi.Decoder
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.ctx.Done():
			return nil
		case <-l.die:
			return nil
		case b, ok := <-chunks:
			if !ok {
				select {
				case err := <-rerr:
					return fmt.Errorf("znpsim: read: %w", err)
				default:
					return nil
				}
			}
			// A lone 0xEF is the CC253x bootloader skip; it is ignored on CC2652.
			dec.Write(b)
			for {
				f, err := dec.Next()
				if errors.Is(err, unpi.ErrShort) {
					break
				}
				if err != nil {
					s.log.Warn("znpsim: dropped bad frame from host", "err", err)
					continue
				}
				raw, _ := f.Marshal()
				s.trace(HostToZNP, raw)
				if s.o.OnFrame != nil {
					s.o.OnFrame(HostToZNP, f)
				}
				s.handle(f)
			}
		}
	}
}

func (s *Sim) trace(dir Direction, raw []byte) {
	if s.o.Trace == nil {
		return
	}
	h := strings.ToUpper(hex.EncodeToString(raw))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	s.traceMu.Lock()
	fmt.Fprintf(s.o.Trace, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), dir, b.String())
	s.traceMu.Unlock()
}

// emit writes a frame from the ZNP to the host. Call with s.mu held.
func (s *Sim) emit(t unpi.Type, sub unpi.Subsystem, cmd uint8, data []byte) {
	f := unpi.Frame{Type: t, Subsystem: sub, Cmd: cmd, Data: data}
	raw, err := f.Marshal()
	if err != nil {
		s.log.Error("znpsim: cannot encode frame", "err", err)
		return
	}
	s.writeRaw(raw, &f)
}

func (s *Sim) writeRaw(raw []byte, f *unpi.Frame) {
	l := s.cur
	if l == nil {
		return
	}
	s.trace(ZNPToHost, raw)
	if f != nil && s.o.OnFrame != nil {
		s.o.OnFrame(ZNPToHost, *f)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(time.Second))
	}
	if _, err := l.w.Write(raw); err != nil {
		s.log.Debug("znpsim: write to host failed", "err", err)
	}
}

func (s *Sim) srsp(f unpi.Frame, data ...byte) {
	s.emit(unpi.SRSP, f.Subsystem, f.Cmd, data)
}

func (s *Sim) rpcError(f unpi.Frame, code uint8) {
	s.emit(unpi.SRSP, unpi.RPCError, 0, []byte{code, f.CMD0(), f.Cmd})
}

func (s *Sim) handle(f unpi.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Type == unpi.AREQ {
		if f.Subsystem == unpi.SYS && f.Cmd == mt.SysResetReq {
			s.reset()
		}
		return
	}
	if f.Type != unpi.SREQ {
		return
	}
	switch f.Subsystem {
	case unpi.SYS:
		s.handleSys(f)
	case unpi.UTIL:
		s.handleUtil(f)
	case unpi.ZDO:
		s.handleZDO(f)
	case unpi.AF:
		s.handleAF(f)
	case unpi.APPCNF:
		s.handleAppCnf(f)
	default:
		s.rpcError(f, 1)
	}
}

// reset reboots the ZNP: it drops its runtime state and announces SYS_RESET_IND.
func (s *Sim) reset() {
	opt := s.nv[mt.NVStartupOption]
	if len(opt) > 0 && opt[0]&0x01 != 0 { // clear configuration
		s.nv = factoryNV(s.o.IEEE)
		s.exNV = map[exKey][]byte{}
		s.groups = map[uint8]map[uint16][]byte{}
		s.formed = false
		for _, d := range s.devices {
			d.joined = false
		}
	}
	if len(opt) > 0 && opt[0]&0x02 != 0 { // clear network state
		s.formed = false
		delete(s.nv, mt.NVNIB)
		s.nv[mt.NVActiveKeyInfo] = make([]byte, 17)
		s.nv[mt.NVAlternKeyInfo] = make([]byte, 17)
		s.nv[mt.NVNwkKey] = make([]byte, 24)
		for _, d := range s.devices {
			d.joined = false
		}
		s.syncTables()
	}
	if len(opt) > 0 {
		s.nv[mt.NVStartupOption] = []byte{0}
	}
	s.devState = mt.DevHold
	s.afEPs = map[uint8]afEP{}
	s.permitEnd = time.Time{}
	s.after(20*time.Millisecond, func() {
		// reason 0 power-up, transport 2, product 1 (Z-Stack 3.x.0), version 2.7.1
		s.emit(unpi.AREQ, unpi.SYS, mt.SysResetInd, []byte{0x00, 0x02, 0x01, 0x02, 0x07, 0x01})
	})
}

func (s *Sim) handleSys(f unpi.Frame) {
	d := f.Data
	switch f.Cmd {
	case mt.SysPing:
		s.srsp(f, 0x59, 0x06)
	case mt.SysVersion:
		// transportrev 2, product 1, 2.7.1, revision 20220219, bootloader build type 0, revision 0xFFFFFFFF
		b := []byte{0x02, 0x01, 0x02, 0x07, 0x01}
		b = binary.LittleEndian.AppendUint32(b, 20220219)
		b = append(b, 0x00, 0xFF, 0xFF, 0xFF, 0xFF)
		s.srsp(f, b...)
	case mt.SysStackTune:
		if len(d) < 2 {
			s.rpcError(f, mtErrLength)
			return
		}
		s.srsp(f, d[1])
	case mt.SysNVCreate, mt.SysNVDelete2, mt.SysNVLength2, mt.SysNVRead2, mt.SysNVWrite2, mt.SysNVUpdate2:
		s.handleExNV(f)
	case mt.SysGetExtAddr:
		s.srsp(f, binary.LittleEndian.AppendUint64(nil, s.o.IEEE)...)
	case mt.SysNVItemInit:
		if len(d) < 5 || len(d) < 5+int(d[4]) {
			s.rpcError(f, 4)
			return
		}
		id, l := binary.LittleEndian.Uint16(d), int(binary.LittleEndian.Uint16(d[2:]))
		if _, ok := s.nv[id]; ok {
			s.srsp(f, mt.StatusSuccess)
			return
		}
		v := make([]byte, l)
		copy(v, d[5:5+int(d[4])])
		s.nv[id] = v
		s.srsp(f, mt.StatusNVItemUninit)
	case mt.SysNVLength:
		if len(d) < 2 {
			s.rpcError(f, 4)
			return
		}
		s.srsp(f, binary.LittleEndian.AppendUint16(nil, uint16(len(s.nv[binary.LittleEndian.Uint16(d)])))...)
	case mt.SysNVRead, mt.SysNVReadExt:
		need := 3
		if f.Cmd == mt.SysNVReadExt {
			need = 4
		}
		if len(d) < need {
			s.rpcError(f, 4)
			return
		}
		id := binary.LittleEndian.Uint16(d)
		off := int(d[2])
		if f.Cmd == mt.SysNVReadExt {
			off = int(binary.LittleEndian.Uint16(d[2:]))
		}
		v, ok := s.nv[id]
		if !ok || off > len(v) {
			s.srsp(f, mt.StatusNVOperFailed, 0)
			return
		}
		v = v[off:]
		if len(v) > 244 {
			v = v[:244]
		}
		s.srsp(f, append([]byte{mt.StatusSuccess, byte(len(v))}, v...)...)
	case mt.SysNVWrite, mt.SysNVWriteExt:
		var id uint16
		var off, l int
		var val []byte
		if f.Cmd == mt.SysNVWrite {
			if len(d) < 4 || len(d) < 4+int(d[3]) {
				s.rpcError(f, 4)
				return
			}
			id, off, l = binary.LittleEndian.Uint16(d), int(d[2]), int(d[3])
			val = d[4 : 4+l]
		} else {
			if len(d) < 6 || len(d) < 6+int(binary.LittleEndian.Uint16(d[4:])) {
				s.rpcError(f, 4)
				return
			}
			id, off, l = binary.LittleEndian.Uint16(d), int(binary.LittleEndian.Uint16(d[2:])), int(binary.LittleEndian.Uint16(d[4:]))
			val = d[6 : 6+l]
		}
		cur, ok := s.nv[id]
		if !ok || off+l > len(cur) {
			s.srsp(f, mt.StatusNVOperFailed)
			return
		}
		copy(cur[off:], val)
		s.srsp(f, mt.StatusSuccess)
	case mt.SysNVDelete:
		if len(d) < 4 {
			s.rpcError(f, 4)
			return
		}
		id := binary.LittleEndian.Uint16(d)
		if _, ok := s.nv[id]; !ok {
			s.srsp(f, mt.StatusNVItemUninit)
			return
		}
		delete(s.nv, id)
		s.srsp(f, mt.StatusSuccess)
	default:
		s.rpcError(f, 2)
	}
}

func (s *Sim) handleUtil(f unpi.Frame) {
	switch f.Cmd {
	case mt.UtilGetDeviceInfo:
		short := uint16(0xFFFE)
		if s.devState == mt.DevZBCoord {
			short = 0x0000
		}
		b := []byte{mt.StatusSuccess}
		b = binary.LittleEndian.AppendUint64(b, s.o.IEEE)
		b = binary.LittleEndian.AppendUint16(b, short)
		b = append(b, 0x07, s.devState)
		var assoc []uint16
		for _, d := range s.devices {
			if d.joined && !d.m.router {
				assoc = append(assoc, d.nwk)
			}
		}
		b = append(b, byte(len(assoc)))
		for _, a := range assoc {
			b = binary.LittleEndian.AppendUint16(b, a)
		}
		s.srsp(f, b...)
	case mt.UtilLEDControl:
		s.srsp(f, mt.StatusSuccess)
	case mt.UtilAssocGetWithAddress:
		if len(f.Data) < 10 {
			s.rpcError(f, mtErrLength)
			return
		}
		s.srsp(f, s.assocEntry(binary.LittleEndian.Uint64(f.Data), binary.LittleEndian.Uint16(f.Data[8:]))...)
	case mt.UtilAssocRemove:
		if len(f.Data) < 8 {
			s.rpcError(f, mtErrLength)
			return
		}
		st := byte(mt.StatusFailure)
		if d := s.byIEEE(binary.LittleEndian.Uint64(f.Data)); d != nil && d.joined {
			st = mt.StatusSuccess
		}
		s.srsp(f, st)
	case mt.UtilAssocAdd:
		if len(f.Data) < 11 {
			s.rpcError(f, mtErrLength)
			return
		}
		s.srsp(f, mt.StatusSuccess)
	default:
		s.rpcError(f, 2)
	}
}

// assocEntry is UTIL_ASSOC_GET_WITH_ADDRESS's answer: the coordinator's
// associated_devices_t entry for a device (by IEEE address, else by short
// address), or an unused entry (0xFFFE, relation 0xFF).
func (s *Sim) assocEntry(ieee uint64, nwk uint16) []byte {
	var dev *device
	if ieee != 0 {
		if d := s.byIEEE(ieee); d != nil && d.joined {
			dev = d
		}
	} else {
		dev = s.byNWK(nwk)
	}
	b := make([]byte, 0, 26)
	if dev == nil {
		b = binary.LittleEndian.AppendUint16(b, 0xFFFE)
		b = binary.LittleEndian.AppendUint16(b, 0xFFFF)
		b = append(b, 0xFF)
		return append(b, make([]byte, 21)...)
	}
	idx := 0
	for i, d := range s.devices {
		if d == dev {
			idx = i
		}
	}
	rel := byte(1) // CHILD_RFD
	if dev.m.router {
		rel = 3 // CHILD_FFD
	}
	b = binary.LittleEndian.AppendUint16(b, dev.nwk)
	b = binary.LittleEndian.AppendUint16(b, uint16(idx))
	b = append(b, rel, 0x01, 0x01, 0x00)                        // devStatus, assocCnt, age
	b = append(b, 0x00, 0x01, dev.lqi(), 0x00)                  // linkInfo: txCounter, txCost, rxLqi, inKeySeqNum
	b = binary.LittleEndian.AppendUint32(b, uint32(dev.apsSeq)) // inFrmCntr
	b = binary.LittleEndian.AppendUint16(b, 0)                  // txFailure
	b = append(b, 0x00)                                         // endDev.endDevCfg
	b = binary.LittleEndian.AppendUint32(b, 0)                  // endDev.deviceTimeout
	b = binary.LittleEndian.AppendUint32(b, 0)                  // timeoutCounter
	return append(b, 0x00)                                      // keepaliveRcv
}

func (s *Sim) handleAppCnf(f unpi.Frame) {
	switch f.Cmd {
	case mt.AppCnfBDBSetChannel:
		if len(f.Data) < 5 {
			s.rpcError(f, 4)
			return
		}
		if f.Data[0] == 1 {
			s.nv[mt.NVChanList] = append([]byte(nil), f.Data[1:5]...)
		}
		s.srsp(f, mt.StatusSuccess)
	case mt.AppCnfBDBStartCommissioning:
		if len(f.Data) < 1 {
			s.rpcError(f, 4)
			return
		}
		s.srsp(f, mt.StatusSuccess)
		if f.Data[0]&0x04 != 0 {
			s.form()
			s.start(func() {
				// status 0 success, mode 4 formation, remaining 0
				s.emit(unpi.AREQ, unpi.APPCNF, mt.AppCnfBDBCommissioningNotif, []byte{0x00, 0x04, 0x00})
			})
		}
	default:
		s.rpcError(f, 2)
	}
}

// form creates the network from the commissioning NV items.
func (s *Sim) form() {
	mask := binary.LittleEndian.Uint32(append(s.nv[mt.NVChanList], 0, 0, 0, 0))
	s.channel = 11
	for c := uint8(11); c <= 26; c++ {
		if mask&(1<<c) != 0 {
			s.channel = c
			break
		}
	}
	s.panID = binary.LittleEndian.Uint16(append(s.nv[mt.NVPANID], 0xFF, 0xFF))
	if s.panID == 0xFFFF {
		s.panID = uint16(mrand.IntN(0xFFF0) + 1)
	}
	s.extPAN = binary.LittleEndian.Uint64(append(s.nv[mt.NVExtendedPANID], make([]byte, 8)...))
	if s.extPAN == 0 {
		s.extPAN = s.o.IEEE
	}
	// Z-Stack forms with ZCD_NV_PRECFGKEY whatever ZCD_NV_PRECFGKEYS_ENABLE
	// says; the flag only decides whether joining devices get the key from
	// the trust centre (0) or are expected to hold it already (1).
	if k := s.nv[mt.NVPreCfgKey]; len(k) == 16 {
		s.key = append([]byte(nil), k...)
	} else {
		s.key = make([]byte, 16)
		_, _ = rand.Read(s.key)
	}
	s.frameCounter = 1
	s.formed = true
	s.nv[mt.NVNIB] = s.buildNIB()
	s.storeKeys()
	s.syncTables()
}

// start brings the coordinator up: COORD_STARTING then ZB_COORD, then runs
// then (if not nil), in that order.
func (s *Sim) start(then func()) {
	s.after(20*time.Millisecond, func() {
		s.devState = mt.DevCoordStarting
		s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoStateChangeInd, []byte{mt.DevCoordStarting})
		s.after(20*time.Millisecond, func() {
			s.devState = mt.DevZBCoord
			s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoStateChangeInd, []byte{mt.DevZBCoord})
			if then != nil {
				then()
			}
		})
	})
}

func (s *Sim) handleAF(f unpi.Frame) {
	d := f.Data
	switch f.Cmd {
	case mt.AfRegister:
		if len(d) < 9 {
			s.rpcError(f, 4)
			return
		}
		ep := d[0]
		if _, ok := s.afEPs[ep]; ok {
			s.srsp(f, mt.StatusAPSDuplicateEntry)
			return
		}
		e := afEP{profile: binary.LittleEndian.Uint16(d[1:]), deviceID: binary.LittleEndian.Uint16(d[3:])}
		p := d[7:]
		var err error
		if e.in, p, err = readClusterList(p); err == nil {
			e.out, _, err = readClusterList(p)
		}
		if err != nil {
			s.rpcError(f, 4)
			return
		}
		s.afEPs[ep] = e
		s.srsp(f, mt.StatusSuccess)
	case mt.AfDataRequest:
		if len(d) < 10 || len(d) < 10+int(d[9]) {
			s.rpcError(f, 4)
			return
		}
		dst, dstEP, srcEP := binary.LittleEndian.Uint16(d), d[2], d[3]
		cluster, transID := binary.LittleEndian.Uint16(d[4:]), d[6]
		payload := append([]byte(nil), d[10:10+int(d[9])]...)
		if s.devState != mt.DevZBCoord {
			s.srsp(f, mt.StatusFailure)
			return
		}
		s.srsp(f, mt.StatusSuccess)
		s.deliver(s.byNWK(dst), dstEP, srcEP, cluster, transID, payload)
	case mt.AfDataRequestExt:
		s.dataRequestExt(f)
	default:
		s.rpcError(f, 2)
	}
}

// dataRequestExt is AF_DATA_REQUEST_EXT: like AF_DATA_REQUEST with an
// address mode (group, 16-bit unicast or broadcast, 64-bit) and a PAN id.
// Group and broadcast frames are confirmed once sent; no device answers them.
func (s *Sim) dataRequestExt(f unpi.Frame) {
	d := f.Data
	if len(d) < 20 || len(d) < 20+int(binary.LittleEndian.Uint16(d[18:])) {
		s.rpcError(f, mtErrLength)
		return
	}
	mode, addr, dstEP := d[0], binary.LittleEndian.Uint64(d[1:]), d[9]
	srcEP, cluster, transID := d[12], binary.LittleEndian.Uint16(d[13:]), d[15]
	payload := append([]byte(nil), d[20:20+int(binary.LittleEndian.Uint16(d[18:]))]...)
	if s.devState != mt.DevZBCoord {
		s.srsp(f, mt.StatusFailure)
		return
	}
	var dev *device
	switch {
	case mode == 2 && uint16(addr) < 0xFFF8: // 16-bit unicast
		dev = s.byNWK(uint16(addr))
	case mode == 3: // 64-bit
		if x := s.byIEEE(addr); x != nil && x.joined {
			dev = x
		}
	case mode == 1 || mode == 2 || mode == 15: // group, broadcast
		s.srsp(f, mt.StatusSuccess)
		s.after(s.o.Latency, func() { s.emit(unpi.AREQ, unpi.AF, mt.AfDataConfirm, []byte{mt.StatusSuccess, srcEP, transID}) })
		return
	default:
		s.srsp(f, mt.StatusInvalidParameter)
		return
	}
	s.srsp(f, mt.StatusSuccess)
	s.deliver(dev, dstEP, srcEP, cluster, transID, payload)
}

// deliver sends a unicast to dev (nil: nobody has the address) and confirms it.
func (s *Sim) deliver(dev *device, dstEP, srcEP uint8, cluster uint16, transID uint8, payload []byte) {
	switch {
	case dev == nil:
		s.after(s.o.Latency, func() { s.emit(unpi.AREQ, unpi.AF, mt.AfDataConfirm, []byte{mt.StatusNWKNoRoute, srcEP, transID}) })
	case !dev.online:
		st := byte(mt.StatusMACNoAck)
		if !dev.m.router {
			st = mt.StatusMACTransactionExpired
		}
		s.after(4*s.o.Latency, func() { s.emit(unpi.AREQ, unpi.AF, mt.AfDataConfirm, []byte{st, srcEP, transID}) })
	default:
		s.after(s.o.Latency, func() {
			s.emit(unpi.AREQ, unpi.AF, mt.AfDataConfirm, []byte{mt.StatusSuccess, srcEP, transID})
			s.deviceZCL(dev, dstEP, srcEP, cluster, payload)
		})
	}
}

func readClusterList(p []byte) ([]uint16, []byte, error) {
	if len(p) < 1 || len(p) < 1+2*int(p[0]) {
		return nil, p, errors.New("short cluster list")
	}
	n := int(p[0])
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(p[1+2*i:])
	}
	return out, p[1+2*n:], nil
}

func (s *Sim) byNWK(nwk uint16) *device {
	for _, d := range s.devices {
		if d.joined && d.nwk == nwk {
			return d
		}
	}
	return nil
}

func (s *Sim) byIEEE(ieee uint64) *device {
	for _, d := range s.devices {
		if d.ieee == ieee {
			return d
		}
	}
	return nil
}

func (s *Sim) handleZDO(f unpi.Frame) {
	d := f.Data
	need := map[uint8]int{mt.ZdoStartupFromApp: 2, mt.ZdoExtNwkInfo: 0, mt.ZdoExtFindGroup: 3, mt.ZdoExtAddGroup: 4, mt.ZdoActiveEPReq: 4, mt.ZdoSimpleDescReq: 5,
		mt.ZdoNodeDescReq: 4, mt.ZdoBindReq: 23, mt.ZdoUnbindReq: 23, mt.ZdoMgmtPermitJoinReq: 5, mt.ZdoMgmtLeaveReq: 11, mt.ZdoExtRouteDisc: 4}
	n, ok := need[f.Cmd]
	if !ok {
		s.rpcError(f, 2)
		return
	}
	if len(d) < n {
		s.rpcError(f, 4)
		return
	}
	switch f.Cmd {
	case mt.ZdoStartupFromApp:
		if !s.formed {
			s.srsp(f, 2) // leave and not started: no network to restore
			return
		}
		s.srsp(f, 0)
		if s.devState != mt.DevZBCoord {
			s.start(nil)
		}
		return
	case mt.ZdoExtNwkInfo:
		b := binary.LittleEndian.AppendUint16(nil, 0)
		b = append(b, s.devState)
		b = binary.LittleEndian.AppendUint16(b, s.panID)
		b = binary.LittleEndian.AppendUint16(b, 0xFFFE)
		b = binary.LittleEndian.AppendUint64(b, s.extPAN)
		b = binary.LittleEndian.AppendUint64(b, 0)
		s.srsp(f, append(b, s.channel)...)
		return
	case mt.ZdoExtFindGroup:
		// status, group id, then the group's name as Z-Stack stores it
		// (length byte first, 16 bytes)
		ep, id := d[0], binary.LittleEndian.Uint16(d[1:])
		name, ok := s.groups[ep][id]
		b := []byte{mt.StatusSuccess}
		if !ok {
			b[0], id = mt.StatusFailure, 0
		}
		b = binary.LittleEndian.AppendUint16(b, id)
		n := make([]byte, 17)
		n[0] = byte(len(name))
		copy(n[1:], name)
		s.srsp(f, append(b, n[:16]...)...)
		return
	case mt.ZdoExtAddGroup:
		ep, id, nl := d[0], binary.LittleEndian.Uint16(d[1:]), int(d[3])
		if len(d) < 4+nl {
			s.rpcError(f, mtErrLength)
			return
		}
		if nl > 15 {
			nl = 15
		}
		if s.groups[ep] == nil {
			s.groups[ep] = map[uint16][]byte{}
		}
		if _, ok := s.groups[ep][id]; ok {
			s.srsp(f, mt.StatusAPSDuplicateEntry)
			return
		}
		s.groups[ep][id] = append([]byte(nil), d[4:4+nl]...)
		s.srsp(f, mt.StatusSuccess)
		return
	}
	if s.devState != mt.DevZBCoord {
		s.srsp(f, mt.StatusFailure)
		return
	}
	s.srsp(f, mt.StatusSuccess)
	dst := binary.LittleEndian.Uint16(d)
	switch f.Cmd {
	case mt.ZdoMgmtPermitJoinReq:
		dur := d[3]
		if dur == 0 {
			s.permitEnd = time.Time{}
		} else {
			s.permitEnd = time.Now().Add(time.Duration(dur) * time.Second)
		}
		s.after(s.o.Latency, func() {
			s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoMgmtPermitJoinRsp, []byte{0, 0, 0})
			s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoPermitJoinInd, []byte{dur})
			if dur == 0 {
				return
			}
			// Devices join after the permit-join answers are out, one after another.
			var queue []*device
			for _, dev := range s.devices {
				if !dev.joined && dev.online {
					queue = append(queue, dev)
				}
			}
			s.joinQueue(queue)
		})
		return
	case mt.ZdoExtRouteDisc:
		return
	}
	if dst == 0x0000 {
		s.coordinatorZDO(f.Cmd, d)
		return
	}
	dev := s.byNWK(dst)
	if dev == nil || !dev.online {
		return // the request goes out over the air and nobody answers
	}
	s.after(2*s.o.Latency, func() { s.deviceZDO(dev, f.Cmd, d) })
}

func (s *Sim) coordinatorZDO(cmd uint8, d []byte) {
	switch cmd {
	case mt.ZdoActiveEPReq:
		b := []byte{0, 0, 0, 0, 0, 0}
		var eps []byte
		for ep := 1; ep < 256; ep++ {
			if _, ok := s.afEPs[uint8(ep)]; ok {
				eps = append(eps, byte(ep))
			}
		}
		b[5] = byte(len(eps))
		s.after(s.o.Latency, func() { s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoActiveEPRsp, append(b, eps...)) })
	case mt.ZdoNodeDescReq:
		b := []byte{0, 0, 0, 0, 0, 0x00, 0x40, 0x8F, 0x00, 0x00, 0x50, 0xA0, 0x00, 0x01, 0x00, 0xA0, 0x00, 0x00}
		s.after(s.o.Latency, func() { s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoNodeDescRsp, b) })
	case mt.ZdoSimpleDescReq:
		// about one of the endpoints the host registered with AF_REGISTER
		ep := d[4]
		b := []byte{0, 0, 0, 0, 0}
		e, ok := s.afEPs[ep]
		if !ok {
			b[2] = 0x82 // INVALID_EP
			s.after(s.o.Latency, func() { s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoSimpleDescRsp, append(b, 0)) })
			return
		}
		s.after(s.o.Latency, func() {
			s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoSimpleDescRsp, append(b, simpleDesc(ep, e.profile, e.deviceID, e.in, e.out)...))
		})
	default:
		// the coordinator answers nothing else about itself in this emulator
	}
}

// joinQueue lets devices join one by one, JoinDelay apart.
func (s *Sim) joinQueue(q []*device) {
	if len(q) == 0 {
		return
	}
	s.after(s.o.JoinDelay, func() {
		s.join(q[0])
		s.joinQueue(q[1:])
	})
}

func (s *Sim) join(dev *device) {
	if dev.joined || !dev.online || time.Now().After(s.permitEnd) || s.devState != mt.DevZBCoord {
		return
	}
	if dev.spec.NWK != 0 && s.byNWK(dev.spec.NWK) == nil {
		dev.nwk = dev.spec.NWK
	} else {
		for dev.nwk == 0 || dev.nwk >= 0xFFF8 || s.byNWK(dev.nwk) != nil {
			dev.nwk = uint16(mrand.IntN(0xFFF0) + 1)
		}
	}
	// The device associates and the trust centre learns of it.
	b := binary.LittleEndian.AppendUint16(nil, dev.nwk)
	b = binary.LittleEndian.AppendUint64(b, dev.ieee)
	b = binary.LittleEndian.AppendUint16(b, 0x0000)
	s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoTCDevInd, b)
	// A new device holds no network key: it can only finish joining if the
	// trust centre sends it one (APS Transport Key). With
	// ZCD_NV_PRECFGKEYS_ENABLE = 1 Z-Stack assumes every device was given the
	// key beforehand and sends none; the device never decrypts the network's
	// traffic, never announces itself, and gives up.
	if en := s.nv[mt.NVPreCfgKeysEnable]; len(en) > 0 && en[0] != 0 {
		s.log.Warn("znpsim: device did not get the network key (ZCD_NV_PRECFGKEYS_ENABLE=1: the trust centre does not distribute it); it leaves",
			"ieee", FormatIEEE(dev.ieee), "model", dev.m.modelID)
		s.keyDenied++
		dev.nwk = 0
		return
	}
	dev.joined = true
	dev.bound = map[uint16]bool{}
	dev.reporting = map[uint16]map[uint16]bool{}
	s.syncTables()
	s.announce(dev)
}

// KeyDenied counts the devices that associated but never got the network key
// (the coordinator was told every device holds it already).
func (s *Sim) KeyDenied() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyDenied
}

func (s *Sim) announce(dev *device) {
	b := binary.LittleEndian.AppendUint16(nil, dev.nwk)
	b = binary.LittleEndian.AppendUint16(b, dev.nwk)
	b = binary.LittleEndian.AppendUint64(b, dev.ieee)
	s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoEndDeviceAnnceInd, append(b, dev.capabilities()))
}

// simpleDesc is a simple descriptor with its length byte first.
func simpleDesc(ep uint8, profile, deviceID uint16, in, out []uint16) []byte {
	desc := []byte{ep}
	desc = binary.LittleEndian.AppendUint16(desc, profile)
	desc = binary.LittleEndian.AppendUint16(desc, deviceID)
	desc = append(desc, 1, byte(len(in)))
	for _, c := range in {
		desc = binary.LittleEndian.AppendUint16(desc, c)
	}
	desc = append(desc, byte(len(out)))
	for _, c := range out {
		desc = binary.LittleEndian.AppendUint16(desc, c)
	}
	return append([]byte{byte(len(desc))}, desc...)
}

func (s *Sim) deviceZDO(dev *device, cmd uint8, d []byte) {
	src := binary.LittleEndian.AppendUint16(nil, dev.nwk)
	switch cmd {
	case mt.ZdoActiveEPReq:
		b := append(src, 0)
		b = binary.LittleEndian.AppendUint16(b, dev.nwk)
		b = append(b, byte(len(dev.m.eps)))
		for _, e := range dev.m.eps {
			b = append(b, e.id)
		}
		s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoActiveEPRsp, b)
	case mt.ZdoSimpleDescReq:
		ep := d[4]
		var e *epDef
		for i := range dev.m.eps {
			if dev.m.eps[i].id == ep {
				e = &dev.m.eps[i]
			}
		}
		b := append([]byte(nil), src...)
		if e == nil {
			b = append(b, 0x82) // INVALID_EP
			b = binary.LittleEndian.AppendUint16(b, dev.nwk)
			s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoSimpleDescRsp, append(b, 0))
			return
		}
		b = append(b, 0)
		b = binary.LittleEndian.AppendUint16(b, dev.nwk)
		s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoSimpleDescRsp, append(b, simpleDesc(e.id, 0x0104, e.deviceID, e.in, e.out)...))
	case mt.ZdoNodeDescReq:
		logical := byte(2)
		if dev.m.router {
			logical = 1
		}
		b := append(src, 0)
		b = binary.LittleEndian.AppendUint16(b, dev.nwk)
		b = append(b, logical, 0x40, dev.capabilities())
		b = binary.LittleEndian.AppendUint16(b, dev.manufCode())
		b = append(b, 0x52, 0x80, 0x00, 0x00, 0x2C, 0x80, 0x00, 0x00)
		s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoNodeDescRsp, b)
	case mt.ZdoBindReq, mt.ZdoUnbindReq:
		cluster := binary.LittleEndian.Uint16(d[11:])
		dev.bound[cluster] = cmd == mt.ZdoBindReq
		rsp := byte(mt.ZdoBindRsp)
		if cmd == mt.ZdoUnbindReq {
			rsp = 0xA2
		}
		s.emit(unpi.AREQ, unpi.ZDO, rsp, append(src, 0))
	case mt.ZdoMgmtLeaveReq:
		s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoMgmtLeaveRsp, append(src, 0))
		s.leave(dev)
	}
}

func (s *Sim) leave(dev *device) {
	b := binary.LittleEndian.AppendUint16(nil, dev.nwk)
	b = binary.LittleEndian.AppendUint64(b, dev.ieee)
	s.emit(unpi.AREQ, unpi.ZDO, mt.ZdoLeaveInd, append(b, 0, 0, 0))
	dev.joined = false
	dev.nwk = 0
	s.syncTables()
}

// sendZCL sends a ZCL frame from a device's endpoint srcEP to the coordinator's endpoint dstEP as AF_INCOMING_MSG.
func (s *Sim) sendZCL(dev *device, srcEP, dstEP uint8, cluster uint16, frame []byte) {
	if !dev.joined || !dev.online {
		return
	}
	b := binary.LittleEndian.AppendUint16(nil, 0)
	b = binary.LittleEndian.AppendUint16(b, cluster)
	b = binary.LittleEndian.AppendUint16(b, dev.nwk)
	b = append(b, srcEP, dstEP, 0, dev.lqi(), 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(time.Now().UnixMilli()))
	dev.apsSeq++
	b = append(b, dev.apsSeq, byte(len(frame)))
	b = append(b, frame...)
	b = binary.LittleEndian.AppendUint16(b, dev.nwk) // MacSrcAddr trailer
	b = append(b, 0x1D)                              // MsgResultRadius trailer
	s.emit(unpi.AREQ, unpi.AF, mt.AfIncomingMsg, b)
}

// DeviceStatus is a simulated device as the admin API shows it.
type DeviceStatus struct {
	IEEE         string           `json:"ieee"`
	Type         string           `json:"type"`
	Manufacturer string           `json:"manufacturer"`
	Model        string           `json:"model"`
	NWK          string           `json:"nwk,omitempty"`
	Joined       bool             `json:"joined"`
	Online       bool             `json:"online"`
	Attributes   map[string]int64 `json:"attributes"`
}

// Devices lists the simulated devices.
func (s *Sim) Devices() []DeviceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DeviceStatus
	for _, d := range s.devices {
		st := DeviceStatus{IEEE: FormatIEEE(d.ieee), Type: d.spec.Type, Manufacturer: d.m.manufacturer, Model: d.m.modelID,
			Joined: d.joined, Online: d.online, Attributes: map[string]int64{}}
		if d.joined {
			st.NWK = fmt.Sprintf("0x%04x", d.nwk)
		}
		for name, a := range attrNames {
			if v, ok := d.get(a.cluster, a.id); ok {
				st.Attributes[name] = v.Int
			}
		}
		if _, ok := d.epOf[zcl.ClusterIASWD]; ok {
			st.Attributes["warningMode"] = d.warnMode // sounding: its mode; silent: 0
		}
		out = append(out, st)
	}
	return out
}

// ErrUnknownDevice is returned for an IEEE address the simulator does not have.
var ErrUnknownDevice = errors.New("znpsim: unknown device")

func (s *Sim) device(ieee string) (*device, error) {
	v, err := ParseIEEE(ieee)
	if err != nil {
		return nil, err
	}
	d := s.byIEEE(v)
	if d == nil {
		return nil, fmt.Errorf("%w %s", ErrUnknownDevice, ieee)
	}
	return d, nil
}

// Set changes attributes "by hand" (as someone at the device would) and sends
// the reports the device is configured to send. Besides the attribute names,
// "jam": 1 makes the next lock operation jam.
func (s *Sim) Set(ieee string, values map[string]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.device(ieee)
	if err != nil {
		return err
	}
	for name, v := range values {
		if name == "jam" {
			continue
		}
		if name == "press" {
			if !d.button() || v < PressSingle || v > PressLong {
				return fmt.Errorf("znpsim: device %s is no button with press %d (1 single, 2 double, 3 long)", ieee, v)
			}
			continue
		}
		a, ok := attrNames[name]
		if !ok {
			return fmt.Errorf("znpsim: unknown attribute %q (have %s)", name, strings.Join(AttributeNames(), ", "))
		}
		if _, ok := d.get(a.cluster, a.id); !ok {
			return fmt.Errorf("znpsim: device %s has no attribute %q", ieee, name)
		}
	}
	if v, ok := values["jam"]; ok {
		d.jamNext = v != 0
	}
	if v, ok := values["press"]; ok {
		s.press(d, v)
	}
	changed := map[uint16][]uint16{}
	for name, v := range values {
		a, ok := attrNames[name]
		if !ok {
			continue
		}
		d.set(a.cluster, a.id, v)
		if a.cluster == zcl.ClusterIASZone && a.id == zcl.AttrZoneStatus {
			s.zoneNotify(d) // an alarm goes out as a notification, not a report
			continue
		}
		if a.cluster == zcl.ClusterElectricalMeas && a.id == zcl.AttrActivePower {
			d.load = v // the load plugged in
		}
		changed[a.cluster] = append(changed[a.cluster], a.id)
		if a.cluster == zcl.ClusterDoorLock && a.id == zcl.AttrLockState && (v == 1 || v == 2) {
			code := uint8(zcl.OpEventManualLock)
			if v == 2 {
				code = zcl.OpEventManualUnlock
			}
			s.lockEvent(d, 2, code)
		}
	}
	for c, ids := range changed {
		s.report(d, c, ids...)
	}
	return nil
}

// SetOnline takes a device off the air (false) or brings it back (true).
func (s *Sim) SetOnline(ieee string, online bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.device(ieee)
	if err != nil {
		return err
	}
	d.online = online
	if online && !d.joined && time.Now().Before(s.permitEnd) {
		s.after(s.o.JoinDelay, func() { s.join(d) })
	}
	return nil
}

// SetHung makes a device's application stop answering while its radio still
// acknowledges frames (AF_DATA_CONFIRM succeeds, no ZCL answer follows), as a
// device with hung firmware does; false revives it.
func (s *Sim) SetHung(ieee string, hung bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.device(ieee)
	if err != nil {
		return err
	}
	d.hung = hung
	return nil
}

// Leave makes a joined device leave the network (ZDO_LEAVE_IND).
func (s *Sim) Leave(ieee string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.device(ieee)
	if err != nil {
		return err
	}
	if !d.joined {
		return fmt.Errorf("znpsim: device %s is not joined", ieee)
	}
	s.leave(d)
	return nil
}

// Rejoin makes a joined device announce itself again with a new short address.
func (s *Sim) Rejoin(ieee string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.device(ieee)
	if err != nil {
		return err
	}
	if !d.joined {
		return fmt.Errorf("znpsim: device %s is not joined", ieee)
	}
	n := d.nwk
	for n == d.nwk || n >= 0xFFF8 || s.byNWK(n) != nil {
		n = uint16(mrand.IntN(0xFFF0) + 1)
	}
	d.nwk = n
	s.syncTables()
	s.announce(d)
	return nil
}

// NetworkKey returns the key of the formed network (nil before formation).
func (s *Sim) NetworkKey() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.key...)
}

// Network returns the formed network's channel and PAN id.
func (s *Sim) Network() (channel uint8, panID uint16, formed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channel, s.panID, s.formed
}

// Noise writes garbage, a frame with a bad FCS and a truncated frame on the
// line, as a disturbed serial link would.
func (s *Sim) Noise() {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := make([]byte, 24)
	for i := range g {
		g[i] = byte(s.noiseRnd.IntN(256))
	}
	g = append(g, 0xFE, 0x01, 0x61, 0x01, 0x00, 0x77) // SRSP ping with a bad FCS
	g = append(g, 0xFE, 0x03, 0x45)                   // truncated frame
	g = append(g, 0x00, 0x13, 0x37)
	s.writeRaw(g, nil)
}

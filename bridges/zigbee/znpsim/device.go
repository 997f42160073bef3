package znpsim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

type device struct {
	spec      DeviceSpec
	m         model
	ieee      uint64
	nwk       uint16
	joined    bool
	online    bool
	hung      bool // the radio acknowledges, the application answers nothing
	jamNext   bool
	cieEP     uint8 // the coordinator endpoint that wrote the IAS CIE address
	coverGen  int   // bumped on each cover command: a newer one stops an older movement
	tiltGen   int   // the same for the slats' tilt
	load      int64 // a plug's load when on (activePower, 0.1 W)
	warnMode  int64 // a siren's warning mode while it sounds (0: silent)
	warnGen   int   // bumped on each Start Warning: a newer one outlives an older
	tsn       uint8
	apsSeq    uint8
	attrs     map[uint16]map[uint16]zcl.Value // cluster → attribute → value
	mattrs    map[uint16]map[uint16]zcl.Value // manufacturer-specific: cluster → attribute → value
	mreport   map[uint16]map[uint16]bool      // manufacturer-specific attributes configured to report
	epOf      map[uint16]uint8                // cluster → endpoint
	bound     map[uint16]bool
	reporting map[uint16]map[uint16]bool
}

func newDevice(spec DeviceSpec) (*device, error) {
	m, ok := models[spec.Type]
	if !ok {
		return nil, fmt.Errorf("znpsim: unknown device type %q", spec.Type)
	}
	ieee, err := ParseIEEE(spec.IEEE)
	if err != nil {
		return nil, err
	}
	d := &device{spec: spec, m: m, ieee: ieee, online: !spec.Offline, attrs: map[uint16]map[uint16]zcl.Value{},
		mattrs: map[uint16]map[uint16]zcl.Value{}, mreport: map[uint16]map[uint16]bool{},
		epOf: map[uint16]uint8{}, bound: map[uint16]bool{}, reporting: map[uint16]map[uint16]bool{}}
	for _, e := range m.eps {
		for _, c := range e.in {
			if _, ok := d.epOf[c]; !ok {
				d.epOf[c] = e.id
			}
		}
	}
	d.attrs[zcl.ClusterBasic] = map[uint16]zcl.Value{}
	for _, a := range basicAttrs(m) {
		d.attrs[zcl.ClusterBasic][a.ID] = a.Value
	}
	for c, list := range m.attrs {
		d.attrs[c] = map[uint16]zcl.Value{}
		for _, a := range list {
			d.attrs[c][a.ID] = a.Value
		}
	}
	for c, list := range m.manufAttrs {
		d.mattrs[c] = map[uint16]zcl.Value{}
		for _, a := range list {
			d.mattrs[c][a.ID] = a.Value
		}
	}
	if v, ok := d.get(zcl.ClusterElectricalMeas, zcl.AttrActivePower); ok {
		d.load = 600 // a 60 W lamp
		if v.Int != 0 {
			d.load = v.Int
		}
	}
	for name, v := range spec.Attributes {
		a, ok := attrNames[name]
		if !ok {
			return nil, fmt.Errorf("znpsim: device %s: unknown attribute %q", spec.IEEE, name)
		}
		if _, ok := d.get(a.cluster, a.id); !ok {
			return nil, fmt.Errorf("znpsim: device %s (%s) has no attribute %q", spec.IEEE, spec.Type, name)
		}
		d.set(a.cluster, a.id, v)
	}
	return d, nil
}

func (d *device) lockDelay() time.Duration {
	if d.spec.LockDelay > 0 {
		return d.spec.LockDelay
	}
	return 3 * time.Second
}

func (d *device) capabilities() byte {
	if d.m.router {
		return 0x8E // allocate address, rx on when idle, mains, FFD
	}
	return 0x80
}

func (d *device) manufCode() uint16 { return d.m.manufCode }

// attrTable is the attribute space a ZCL frame addresses: the standard one,
// or the device's manufacturer-specific one.
type attrTable struct {
	vals   map[uint16]map[uint16]zcl.Value
	report map[uint16]map[uint16]bool
	manuf  bool
}

// table picks the attribute space of frame f (nil for another manufacturer's).
func (d *device) table(f zcl.Frame) *attrTable {
	if !f.ManufacturerSpecific {
		return &attrTable{vals: d.attrs, report: d.reporting}
	}
	if f.ManufacturerCode != d.manufCode() {
		return nil
	}
	return &attrTable{vals: d.mattrs, report: d.mreport, manuf: true}
}

func (d *device) lqi() byte {
	if d.m.router {
		return 0xC8
	}
	return 0x8A
}

func (d *device) get(cluster, id uint16) (zcl.Value, bool) {
	v, ok := d.attrs[cluster][id]
	return v, ok
}

func (d *device) set(cluster, id uint16, v int64) {
	cur, ok := d.attrs[cluster][id]
	if !ok {
		return
	}
	cur.Int = v
	d.attrs[cluster][id] = cur
}

// nextTSN numbers a frame the device sends of its own (a report, a command,
// a request): one counter per device, from 0 when it powers up, as Silicon
// Labs' (emberAfSequenceNumber, 0xFF incremented before use) and TI's
// (zcl_SeqNum++) stacks number theirs; an answer carries the number of the
// request instead. zigbee-herdsman numbers its own requests with one
// counter for the network, from 0 when it starts, so both pass through the
// same numbers, as with real devices (see TestRealZigbee2MQTT's repeats).
func (d *device) nextTSN() uint8 {
	n := d.tsn
	d.tsn++
	return n
}

// report sends a Report Attributes frame for those of ids the coordinator configured reporting for.
func (s *Sim) report(d *device, cluster uint16, ids ...uint16) {
	s.reportIn(d, &attrTable{vals: d.attrs, report: d.reporting}, cluster, ids...)
}

func (s *Sim) reportIn(d *device, t *attrTable, cluster uint16, ids ...uint16) {
	var attrs []zcl.Attribute
	for _, id := range ids {
		if !t.report[cluster][id] && !(d.m.reportsUnconfigured && !t.manuf) {
			continue
		}
		if v, ok := t.vals[cluster][id]; ok {
			attrs = append(attrs, zcl.Attribute{ID: id, Value: v})
		}
	}
	if len(attrs) == 0 {
		return
	}
	p, err := zcl.AppendAttributes(nil, attrs...)
	if err != nil {
		s.log.Error("znpsim: encode report", "err", err)
		return
	}
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ServerToClient, DisableDefaultResponse: !d.m.defaultRspOnReport,
		TSN: d.nextTSN(), Command: zcl.CmdReportAttributes, ManufacturerSpecific: t.manuf}
	if t.manuf {
		h.ManufacturerCode = d.manufCode()
	}
	s.sendZCL(d, d.epOf[cluster], 1, cluster, zcl.Frame{Header: h, Payload: p}.Marshal()) // to the binding: coordinator ep 1
}

func (s *Sim) lockEvent(d *device, source, code uint8) {
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ServerToClient, DisableDefaultResponse: true,
		TSN: d.nextTSN(), Command: zcl.CmdOperationEventNotification}
	ev := zcl.OperationEvent{Source: source, EventCode: code, UserID: 0, LocalTime: uint32(time.Now().Unix())}
	s.sendZCL(d, d.epOf[zcl.ClusterDoorLock], 1, zcl.ClusterDoorLock, zcl.Frame{Header: h, Payload: ev.Marshal()}.Marshal())
}

// deviceZCL is a device receiving a ZCL frame from the coordinator. Call with s.mu held.
func (s *Sim) deviceZCL(d *device, dstEP, srcEP uint8, cluster uint16, payload []byte) {
	if d.hung {
		return
	}
	f, err := zcl.Parse(payload)
	if err != nil {
		return // a real device drops a frame it cannot parse
	}
	if f.Direction != zcl.ClientToServer {
		return
	}
	if ep, ok := d.epOf[cluster]; !ok || ep != dstEP {
		if f.FrameType == zcl.FrameCluster || f.Command != zcl.CmdDefaultRsp {
			s.defaultRsp(d, dstEP, srcEP, cluster, f, zcl.Status(0xC3)) // UNSUPPORTED_CLUSTER
		}
		return
	}
	reply := func(cmd uint8, frameType uint8, p []byte) {
		h := zcl.Header{FrameType: frameType, Direction: zcl.ServerToClient, DisableDefaultResponse: true, TSN: f.TSN, Command: cmd,
			ManufacturerSpecific: f.ManufacturerSpecific, ManufacturerCode: f.ManufacturerCode}
		s.sendZCL(d, dstEP, srcEP, cluster, zcl.Frame{Header: h, Payload: p}.Marshal()) // answers go back to the requesting endpoint
	}
	if f.FrameType == zcl.FrameGlobal {
		t := d.table(f)
		if t == nil { // another manufacturer's attributes: none of them exist here
			t = &attrTable{vals: map[uint16]map[uint16]zcl.Value{}, report: map[uint16]map[uint16]bool{}, manuf: true}
		}
		get := func(id uint16) (zcl.Value, bool) { v, ok := t.vals[cluster][id]; return v, ok }
		switch f.Command {
		case zcl.CmdReadAttributes:
			ids, err := zcl.ParseReadAttributes(f.Payload)
			if err != nil {
				s.defaultRsp(d, dstEP, srcEP, cluster, f, zcl.StatusMalformedCommand)
				return
			}
			var recs []zcl.ReadRecord
			for _, id := range ids {
				if v, ok := get(id); ok {
					recs = append(recs, zcl.ReadRecord{ID: id, Value: v})
				} else {
					recs = append(recs, zcl.ReadRecord{ID: id, Status: zcl.StatusUnsupportedAttribute})
				}
			}
			p, _ := zcl.ReadAttributesRsp(recs)
			reply(zcl.CmdReadAttributesRsp, zcl.FrameGlobal, p)
		case zcl.CmdWriteAttributes:
			attrs, err := zcl.ParseAttributes(f.Payload)
			if err != nil {
				s.defaultRsp(d, dstEP, srcEP, cluster, f, zcl.StatusMalformedCommand)
				return
			}
			var st []zcl.WriteStatus
			var ok []uint16
			check := func(a zcl.Attribute) zcl.Status {
				if t.manuf {
					return checkManufWrite(t, cluster, a)
				}
				return s.checkWrite(d, cluster, a)
			}
			for _, a := range attrs {
				code := check(a)
				st = append(st, zcl.WriteStatus{Status: code, ID: a.ID})
				if code == zcl.StatusSuccess {
					ok = append(ok, a.ID)
				}
			}
			// ZCL: if any write fails in a (non-undivided) write, the others still apply.
			for _, a := range attrs {
				if check(a) == zcl.StatusSuccess {
					v := t.vals[cluster][a.ID]
					v.Int, v.Str = a.Value.Int, a.Value.Str
					t.vals[cluster][a.ID] = v
				}
			}
			reply(zcl.CmdWriteAttributesRsp, zcl.FrameGlobal, zcl.WriteAttributesRsp(st))
			s.reportIn(d, t, cluster, ok...)
			if cluster == zcl.ClusterIASZone && !t.manuf && slices.Contains(ok, zcl.AttrIASCIEAddress) {
				s.enrollRequest(d, srcEP)
			}
		case zcl.CmdConfigureReporting:
			recs, err := zcl.ParseConfigureReporting(f.Payload)
			if err != nil {
				s.defaultRsp(d, dstEP, srcEP, cluster, f, zcl.StatusMalformedCommand)
				return
			}
			var bad []byte
			for _, r := range recs {
				if _, ok := get(r.ID); !ok {
					bad = append(bad, byte(zcl.StatusUnsupportedAttribute), 0, byte(r.ID), byte(r.ID>>8))
					continue
				}
				if t.report[cluster] == nil {
					t.report[cluster] = map[uint16]bool{}
				}
				t.report[cluster][r.ID] = r.MaxInterval != 0xFFFF
			}
			if bad == nil {
				bad = []byte{0}
			}
			reply(zcl.CmdConfigureReportingRsp, zcl.FrameGlobal, bad)
		case zcl.CmdDefaultRsp:
			// an answer to one of our reports
		default:
			s.defaultRsp(d, dstEP, srcEP, cluster, f, zcl.StatusUnsupClusterCommand)
		}
		return
	}
	st := s.clusterCommand(d, cluster, f, reply)
	if st != nil {
		s.defaultRsp(d, dstEP, srcEP, cluster, f, *st)
	}
}

// defaultRsp answers f (received on the device's endpoint ep from the host's endpoint to) with a Default Response.
func (s *Sim) defaultRsp(d *device, ep, to uint8, cluster uint16, f zcl.Frame, st zcl.Status) {
	if f.DisableDefaultResponse && st == zcl.StatusSuccess {
		return
	}
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ServerToClient, DisableDefaultResponse: true, TSN: f.TSN, Command: zcl.CmdDefaultRsp}
	s.sendZCL(d, ep, to, cluster, zcl.Frame{Header: h, Payload: zcl.DefaultRsp(f.Command, st)}.Marshal())
}

func (s *Sim) checkWrite(d *device, cluster uint16, a zcl.Attribute) zcl.Status {
	cur, ok := d.get(cluster, a.ID)
	if !ok {
		return zcl.StatusUnsupportedAttribute
	}
	if cur.Type != a.Value.Type {
		return zcl.StatusInvalidDataType
	}
	if cluster == zcl.ClusterFanControl {
		return fanWrite(a)
	}
	if cluster == zcl.ClusterThermostat {
		switch a.ID {
		case zcl.AttrOccupiedHeatingSetpoint:
			lo, _ := d.get(cluster, zcl.AttrMinHeatSetpointLimit)
			hi, _ := d.get(cluster, zcl.AttrMaxHeatSetpointLimit)
			if a.Value.Int < lo.Int || a.Value.Int > hi.Int {
				return zcl.StatusInvalidValue
			}
			return zcl.StatusSuccess
		case zcl.AttrSystemMode:
			if d.m.heatOnly && a.Value.Int != zcl.SystemModeHeat {
				return zcl.StatusInvalidValue
			}
			return zcl.StatusSuccess
		case zcl.AttrOccupiedCoolingSetpoint, zcl.AttrProgrammingOperationMode:
			return zcl.StatusSuccess
		}
		return zcl.StatusReadOnly
	}
	if writableAttrs[cluster][a.ID] {
		return zcl.StatusSuccess
	}
	return zcl.StatusReadOnly
}

// checkManufWrite: a manufacturer-specific attribute takes a value of its own type.
func checkManufWrite(t *attrTable, cluster uint16, a zcl.Attribute) zcl.Status {
	cur, ok := t.vals[cluster][a.ID]
	switch {
	case !ok:
		return zcl.StatusUnsupportedAttribute
	case cur.Type != a.Value.Type:
		return zcl.StatusInvalidDataType
	}
	return zcl.StatusSuccess
}

func ptrStatus(s zcl.Status) *zcl.Status { return &s }

// Enhanced hue (ZCL 5.2.2.2.2): the command and the attributes it sets.
const (
	cmdEnhancedMoveToHueAndSaturation = 0x43
	attrEnhancedCurrentHue            = 0x4000
	attrEnhancedColorMode             = 0x4001
)

// writableAttrs are the standard attributes ZCL makes writable (beyond the
// thermostat's, checked above), by cluster.
var writableAttrs = map[uint16]map[uint16]bool{
	zcl.ClusterIASZone:  {zcl.AttrIASCIEAddress: true},
	zcl.ClusterTime:     {0x0000: true, 0x0001: true, 0x0002: true, 0x0003: true, 0x0004: true, 0x0005: true, 0x0007: true},
	zcl.ClusterPollCtrl: {0x0000: true, 0x0003: true},
	zcl.ClusterUIConfig: {0x0000: true, zcl.AttrKeypadLockout: true},
}

// clusterCommand runs a cluster-specific command; it returns the status for a
// Default Response, or nil when the command had its own response.
func (s *Sim) clusterCommand(d *device, cluster uint16, f zcl.Frame, reply func(cmd, frameType uint8, p []byte)) *zcl.Status {
	p := f.Payload
	ok := ptrStatus(zcl.StatusSuccess)
	if f.ManufacturerSpecific {
		if f.ManufacturerCode != d.manufCode() || d.m.manufCommand == nil {
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		return d.m.manufCommand(s, d, cluster, f)
	}
	switch cluster {
	case zcl.ClusterIASZone:
		if f.Command != zcl.CmdZoneEnrollResponse {
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		if len(p) < 2 {
			return ptrStatus(zcl.StatusMalformedCommand)
		}
		if p[0] == 0 { // success: the zone is enrolled with this zone id
			d.set(cluster, zcl.AttrZoneState, zcl.ZoneStateEnrolled)
			d.set(cluster, zcl.AttrZoneID, int64(p[1]))
		}
		return ok
	case zcl.ClusterWindowCovering:
		return s.coverCommand(d, f)
	case zcl.ClusterIASWD:
		return s.warningCommand(d, f)
	case zcl.ClusterOnOff:
		cur, _ := d.get(cluster, zcl.AttrOnOff)
		switch f.Command {
		case zcl.CmdOff:
			d.set(cluster, zcl.AttrOnOff, 0)
		case zcl.CmdOn:
			d.set(cluster, zcl.AttrOnOff, 1)
		case zcl.CmdToggle:
			d.set(cluster, zcl.AttrOnOff, 1-cur.Int)
		default:
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		s.report(d, cluster, zcl.AttrOnOff)
		s.plugLoad(d)
		return ok
	case zcl.ClusterLevel:
		switch f.Command {
		case zcl.CmdMoveToLevel, zcl.CmdMoveToLevelWithOnOff:
			if len(p) < 3 {
				return ptrStatus(zcl.StatusMalformedCommand)
			}
			lvl := int64(p[0])
			if lvl == 0xFF {
				return ptrStatus(zcl.StatusInvalidValue)
			}
			if lvl < 1 {
				lvl = 1
			}
			d.set(cluster, zcl.AttrCurrentLevel, lvl)
			if f.Command == zcl.CmdMoveToLevelWithOnOff {
				on := int64(1)
				if p[0] == 0 {
					on = 0
				}
				d.set(zcl.ClusterOnOff, zcl.AttrOnOff, on)
				s.report(d, zcl.ClusterOnOff, zcl.AttrOnOff)
			}
			s.report(d, cluster, zcl.AttrCurrentLevel)
			return ok
		}
		return ptrStatus(zcl.StatusUnsupClusterCommand)
	case zcl.ClusterColor:
		caps, _ := d.get(cluster, zcl.AttrColorCapabilities)
		switch f.Command {
		case zcl.CmdMoveToHueAndSaturation:
			if caps.Int&zcl.ColorCapHueSat == 0 {
				return ptrStatus(zcl.StatusUnsupClusterCommand)
			}
			if len(p) < 4 {
				return ptrStatus(zcl.StatusMalformedCommand)
			}
			if p[0] > 254 || p[1] > 254 {
				return ptrStatus(zcl.StatusInvalidValue)
			}
			d.set(cluster, zcl.AttrCurrentHue, int64(p[0]))
			d.set(cluster, attrEnhancedCurrentHue, int64(p[0])<<8)
			d.set(cluster, zcl.AttrCurrentSaturation, int64(p[1]))
			d.set(cluster, zcl.AttrColorMode, 0)
			d.set(cluster, attrEnhancedColorMode, 0)
			s.report(d, cluster, zcl.AttrCurrentHue, zcl.AttrCurrentSaturation)
			return ok
		case cmdEnhancedMoveToHueAndSaturation:
			if caps.Int&zcl.ColorCapEnhancedHue == 0 {
				return ptrStatus(zcl.StatusUnsupClusterCommand)
			}
			if len(p) < 5 {
				return ptrStatus(zcl.StatusMalformedCommand)
			}
			if p[2] > 254 {
				return ptrStatus(zcl.StatusInvalidValue)
			}
			eh := int64(p[0]) | int64(p[1])<<8
			d.set(cluster, attrEnhancedCurrentHue, eh)
			d.set(cluster, zcl.AttrCurrentHue, eh>>8)
			d.set(cluster, zcl.AttrCurrentSaturation, int64(p[2]))
			d.set(cluster, zcl.AttrColorMode, 0)
			d.set(cluster, attrEnhancedColorMode, 3)
			s.report(d, cluster, zcl.AttrCurrentHue, zcl.AttrCurrentSaturation)
			return ok
		case zcl.CmdMoveToColor:
			if caps.Int&zcl.ColorCapXY == 0 {
				return ptrStatus(zcl.StatusUnsupClusterCommand)
			}
			if len(p) < 6 {
				return ptrStatus(zcl.StatusMalformedCommand)
			}
			d.set(cluster, zcl.AttrCurrentX, int64(p[0])|int64(p[1])<<8)
			d.set(cluster, zcl.AttrCurrentY, int64(p[2])|int64(p[3])<<8)
			d.set(cluster, zcl.AttrColorMode, 1)
			d.set(cluster, attrEnhancedColorMode, 1)
			s.report(d, cluster, zcl.AttrCurrentX, zcl.AttrCurrentY)
			return ok
		case zcl.CmdMoveToColorTemp:
			if caps.Int&zcl.ColorCapTemperature == 0 {
				return ptrStatus(zcl.StatusUnsupClusterCommand)
			}
			if len(p) < 4 {
				return ptrStatus(zcl.StatusMalformedCommand)
			}
			m := int64(p[0]) | int64(p[1])<<8
			lo, _ := d.get(cluster, zcl.AttrColorTempPhysMin)
			hi, _ := d.get(cluster, zcl.AttrColorTempPhysMax)
			m = int64(math.Max(float64(lo.Int), math.Min(float64(hi.Int), float64(m)))) // real bulbs clamp
			d.set(cluster, zcl.AttrColorTemperature, m)
			d.set(cluster, zcl.AttrColorMode, 2)
			d.set(cluster, attrEnhancedColorMode, 2)
			s.report(d, cluster, zcl.AttrColorTemperature)
			return ok
		}
		return ptrStatus(zcl.StatusUnsupClusterCommand)
	case zcl.ClusterPollCtrl:
		// check-in response, fast poll stop, set long and short poll interval
		if f.Command > 0x03 {
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		return ok
	case zcl.ClusterDoorLock:
		if f.Command != zcl.CmdLockDoor && f.Command != zcl.CmdUnlockDoor {
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		// The lock accepts the command at once (lockDoorRsp/unlockDoorRsp) and moves the bolt afterwards.
		reply(f.Command, zcl.FrameCluster, []byte{byte(zcl.StatusSuccess)})
		target, code := int64(zcl.LockStateLocked), uint8(zcl.OpEventLock)
		if f.Command == zcl.CmdUnlockDoor {
			target, code = zcl.LockStateUnlocked, zcl.OpEventUnlock
		}
		jam := d.jamNext
		d.jamNext = false
		s.after(d.lockDelay(), func() {
			if jam {
				d.set(cluster, zcl.AttrLockState, zcl.LockStateNotFullyLocked)
				d.set(cluster, zcl.AttrDoorState, zcl.DoorStateJammed)
				s.report(d, cluster, zcl.AttrLockState, zcl.AttrDoorState)
				return
			}
			d.set(cluster, zcl.AttrLockState, target)
			d.set(cluster, zcl.AttrDoorState, 1)
			s.report(d, cluster, zcl.AttrLockState)
			s.lockEvent(d, 1, code)
		})
		return nil
	case zcl.ClusterThermostat:
		if f.Command != 0x00 {
			return ptrStatus(zcl.StatusUnsupClusterCommand)
		}
		if len(p) < 2 {
			return ptrStatus(zcl.StatusMalformedCommand)
		}
		cur, _ := d.get(cluster, zcl.AttrOccupiedHeatingSetpoint)
		nv := cur.Int + int64(int8(p[1]))*10
		lo, _ := d.get(cluster, zcl.AttrMinHeatSetpointLimit)
		hi, _ := d.get(cluster, zcl.AttrMaxHeatSetpointLimit)
		nv = min(max(nv, lo.Int), hi.Int)
		d.set(cluster, zcl.AttrOccupiedHeatingSetpoint, nv)
		s.report(d, cluster, zcl.AttrOccupiedHeatingSetpoint)
		return ok
	}
	return ptrStatus(zcl.StatusUnsupClusterCommand)
}

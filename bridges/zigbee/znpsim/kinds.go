package znpsim

import (
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

// The fan (Fan Control), the siren (IAS WD) and the button.

// fanWrite checks a Fan Control write: fanMode takes off … smart (0–6),
// fanModeSequence 0–4 (ZCL 6.4.2.2).
func fanWrite(a zcl.Attribute) zcl.Status {
	switch a.ID {
	case zcl.AttrFanMode:
		if a.Value.Int > zcl.FanModeSmart {
			return zcl.StatusInvalidValue
		}
	case zcl.AttrFanModeSequence:
		if a.Value.Int > 4 {
			return zcl.StatusInvalidValue
		}
	default:
		return zcl.StatusReadOnly
	}
	return zcl.StatusSuccess
}

// warningCommand runs an IAS WD command: Start Warning sounds the siren in
// its warning mode for the duration it names (mode 0 stops it); Squawk chirps
// (nothing to keep). A newer Start Warning replaces an older one.
func (s *Sim) warningCommand(d *device, f zcl.Frame) *zcl.Status {
	switch f.Command {
	case zcl.CmdStartWarning:
		mode, _, _, secs, err := zcl.ParseStartWarning(f.Payload)
		if err != nil {
			return ptrStatus(zcl.StatusMalformedCommand)
		}
		d.warnGen++
		if mode == zcl.WarningModeStop || secs == 0 {
			d.warnMode = 0
			return ptrStatus(zcl.StatusSuccess)
		}
		if maxD, ok := d.get(zcl.ClusterIASWD, zcl.AttrMaxDuration); ok && int64(secs) > maxD.Int {
			secs = uint16(maxD.Int)
		}
		d.warnMode = int64(mode)
		gen := d.warnGen
		s.after(time.Duration(secs)*time.Second, func() {
			if d.warnGen == gen {
				d.warnMode = 0
			}
		})
		return ptrStatus(zcl.StatusSuccess)
	case zcl.CmdSquawk:
		if len(f.Payload) < 1 {
			return ptrStatus(zcl.StatusMalformedCommand)
		}
		return ptrStatus(zcl.StatusSuccess)
	}
	return ptrStatus(zcl.StatusUnsupClusterCommand)
}

// Button presses (Set's "press"): what an eWeLink button (SONOFF SNZB-01)
// sends its binding for a single, double and long press.
const (
	PressSingle = 1 // On/Off toggle
	PressDouble = 2 // On/Off on
	PressLong   = 3 // On/Off off
)

// press sends a button's On/Off command to the coordinator (its binding).
func (s *Sim) press(d *device, kind int64) {
	cmd := map[int64]uint8{PressSingle: zcl.CmdToggle, PressDouble: zcl.CmdOn, PressLong: zcl.CmdOff}[kind]
	ep := uint8(1)
	if len(d.m.eps) > 0 {
		ep = d.m.eps[0].id
	}
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ClientToServer, TSN: d.nextTSN(), Command: cmd}
	s.sendZCL(d, ep, 1, zcl.ClusterOnOff, zcl.Frame{Header: h}.Marshal())
}

// button reports whether the device is a button: it sends On/Off commands.
func (d *device) button() bool {
	for _, e := range d.m.eps {
		for _, c := range e.out {
			if c == zcl.ClusterOnOff {
				return true
			}
		}
	}
	return false
}

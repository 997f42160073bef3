package zcl

import (
	"encoding/binary"
	"fmt"
)

// Cluster ids.
const (
	ClusterBasic       uint16 = 0x0000
	ClusterPowerConfig uint16 = 0x0001
	ClusterIdentify    uint16 = 0x0003
	ClusterGroups      uint16 = 0x0004
	ClusterScenes      uint16 = 0x0005
	ClusterOnOff       uint16 = 0x0006
	ClusterLevel       uint16 = 0x0008
	ClusterTime        uint16 = 0x000A
	ClusterOTA         uint16 = 0x0019
	ClusterPollCtrl    uint16 = 0x0020
	ClusterDoorLock    uint16 = 0x0101
	ClusterThermostat  uint16 = 0x0201
	ClusterUIConfig    uint16 = 0x0204
	ClusterDiagnostics uint16 = 0x0B05
	ClusterColor       uint16 = 0x0300
	ClusterTemperature uint16 = 0x0402
)

// Basic cluster attributes.
const (
	AttrZCLVersion       uint16 = 0x0000
	AttrAppVersion       uint16 = 0x0001
	AttrManufacturerName uint16 = 0x0004
	AttrModelID          uint16 = 0x0005
	AttrPowerSource      uint16 = 0x0007
	AttrStackVersion     uint16 = 0x0002
	AttrHWVersion        uint16 = 0x0003
	AttrDateCode         uint16 = 0x0006
	AttrSWBuildID        uint16 = 0x4000
)

// Power Configuration attributes.
const (
	AttrBatteryVoltage             uint16 = 0x0020
	AttrBatteryPercentageRemaining uint16 = 0x0021
	AttrBatteryAlarmState          uint16 = 0x003E
)

// On/Off, Level and Temperature Measurement attributes.
const (
	AttrOnOff         uint16 = 0x0000
	AttrCurrentLevel  uint16 = 0x0000
	AttrMeasuredValue uint16 = 0x0000
)

// Thermostat User Interface Configuration attributes.
const (
	AttrKeypadLockout uint16 = 0x0001
)

// Color Control attributes.
const (
	AttrCurrentHue        uint16 = 0x0000
	AttrCurrentSaturation uint16 = 0x0001
	AttrCurrentX          uint16 = 0x0003
	AttrCurrentY          uint16 = 0x0004
	AttrColorTemperature  uint16 = 0x0007
	AttrColorMode         uint16 = 0x0008
	AttrColorCapabilities uint16 = 0x400A
	AttrColorTempPhysMin  uint16 = 0x400B
	AttrColorTempPhysMax  uint16 = 0x400C
)

// Color capability bits.
const (
	ColorCapHueSat      = 1 << 0
	ColorCapEnhancedHue = 1 << 1
	ColorCapLoop        = 1 << 2
	ColorCapXY          = 1 << 3
	ColorCapTemperature = 1 << 4
)

// Door Lock attributes and values.
const (
	AttrLockState uint16 = 0x0000
	AttrLockType  uint16 = 0x0001
	AttrDoorState uint16 = 0x0003

	LockStateNotFullyLocked = 0
	LockStateLocked         = 1
	LockStateUnlocked       = 2
	DoorStateJammed         = 2
)

// Door Lock commands.
const (
	CmdLockDoor                   = 0x00
	CmdUnlockDoor                 = 0x01
	CmdOperationEventNotification = 0x20
)

// Thermostat attributes.
const (
	AttrLocalTemperature         uint16 = 0x0000
	AttrAbsMinHeatSetpoint       uint16 = 0x0003
	AttrAbsMaxHeatSetpoint       uint16 = 0x0004
	AttrAbsMinCoolSetpoint       uint16 = 0x0005
	AttrAbsMaxCoolSetpoint       uint16 = 0x0006
	AttrPIHeatingDemand          uint16 = 0x0008
	AttrOccupiedCoolingSetpoint  uint16 = 0x0011
	AttrOccupiedHeatingSetpoint  uint16 = 0x0012
	AttrMinHeatSetpointLimit     uint16 = 0x0015
	AttrMaxHeatSetpointLimit     uint16 = 0x0016
	AttrMinCoolSetpointLimit     uint16 = 0x0017
	AttrMaxCoolSetpointLimit     uint16 = 0x0018
	AttrMinSetpointDeadBand      uint16 = 0x0019
	AttrControlSequence          uint16 = 0x001B
	AttrSystemMode               uint16 = 0x001C
	AttrRunningState             uint16 = 0x0029
	AttrProgrammingOperationMode uint16 = 0x0025
	AttrSetpointChangeSource     uint16 = 0x0030
)

// Thermostat system modes.
const (
	SystemModeOff  = 0
	SystemModeAuto = 1
	SystemModeCool = 3
	SystemModeHeat = 4
)

// On/Off commands.
const (
	CmdOff    = 0x00
	CmdOn     = 0x01
	CmdToggle = 0x02
)

// Level Control and Color Control commands.
const (
	CmdMoveToLevel             = 0x00
	CmdMoveToLevelWithOnOff    = 0x04
	CmdMoveToHue               = 0x00
	CmdMoveToHueAndSaturation  = 0x06
	CmdMoveToColor             = 0x07
	CmdMoveToColorTemp         = 0x0A
	CmdEnhancedMoveToHueAndSat = 0x43
)

// MoveToLevelWithOnOff encodes Level Control 0x04 without the optional options bytes.
func MoveToLevelWithOnOff(level uint8, transTime uint16) []byte {
	return binary.LittleEndian.AppendUint16([]byte{level}, transTime)
}

// MoveToHueAndSaturation encodes Color Control 0x06.
func MoveToHueAndSaturation(hue, sat uint8, transTime uint16) []byte {
	return binary.LittleEndian.AppendUint16([]byte{hue, sat}, transTime)
}

// MoveToColor encodes Color Control 0x07 (CIE x, y as v/65536).
func MoveToColor(x, y, transTime uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, x)
	b = binary.LittleEndian.AppendUint16(b, y)
	return binary.LittleEndian.AppendUint16(b, transTime)
}

// MoveToColorTemp encodes Color Control 0x0A (mireds).
func MoveToColorTemp(mireds, transTime uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, mireds)
	return binary.LittleEndian.AppendUint16(b, transTime)
}

// LockDoorPayload is herdsman's lock/unlock payload without a PIN: an empty octet string (0xFF).
func LockDoorPayload() []byte { return []byte{0xFF} }

// OperationEvent is a Door Lock operation event notification.
type OperationEvent struct {
	Source    uint8
	EventCode uint8
	UserID    uint16
	PIN       string
	LocalTime uint32
	Data      string
}

// Operation event codes.
const (
	OpEventLock         = 1
	OpEventUnlock       = 2
	OpEventManualLock   = 13
	OpEventManualUnlock = 14
)

// Marshal encodes the notification payload.
func (o OperationEvent) Marshal() []byte {
	b := []byte{o.Source, o.EventCode}
	b = binary.LittleEndian.AppendUint16(b, o.UserID)
	b, _ = AppendValue(b, Value{Type: TypeOctetStr, Str: o.PIN})
	b = binary.LittleEndian.AppendUint32(b, o.LocalTime)
	b, _ = AppendValue(b, Value{Type: TypeCharStr, Str: o.Data})
	return b
}

// ParseOperationEvent decodes an operation event notification (the trailing
// strings are optional: some locks leave them out).
func ParseOperationEvent(p []byte) (OperationEvent, error) {
	if len(p) < 4 {
		return OperationEvent{}, ErrShort
	}
	o := OperationEvent{Source: p[0], EventCode: p[1], UserID: binary.LittleEndian.Uint16(p[2:])}
	p = p[4:]
	if len(p) == 0 {
		return o, nil
	}
	v, n, err := ReadValue(TypeOctetStr, p)
	if err != nil {
		return o, fmt.Errorf("zcl: operation event pin: %w", err)
	}
	o.PIN, p = v.Str, p[n:]
	if len(p) >= 4 {
		o.LocalTime, p = binary.LittleEndian.Uint32(p), p[4:]
	}
	if len(p) > 0 {
		if v, _, err := ReadValue(TypeCharStr, p); err == nil {
			o.Data = v.Str
		}
	}
	return o, nil
}

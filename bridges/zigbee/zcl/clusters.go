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
	// The defined primaries (ZCL 5.2.2.2.2): how many the light has, and the
	// CIE xy of the first three (x or y = value / 65536).
	AttrNumberOfPrimaries uint16 = 0x0010
	AttrPrimary1X         uint16 = 0x0011
	AttrPrimary1Y         uint16 = 0x0012
	AttrPrimary2X         uint16 = 0x0015
	AttrPrimary2Y         uint16 = 0x0016
	AttrPrimary3X         uint16 = 0x0019
	AttrPrimary3Y         uint16 = 0x001A
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

// Clusters of sensors, covers and metering (ZCL 8, Zigbee Cluster Library
// chapters 3, 4, 7 and 8; Smart Energy for Metering).
const (
	ClusterWindowCovering uint16 = 0x0102
	ClusterIlluminance    uint16 = 0x0400
	ClusterOccupancy      uint16 = 0x0406
	ClusterHumidity       uint16 = 0x0405
	ClusterIASZone        uint16 = 0x0500
	ClusterIASWD          uint16 = 0x0502
	ClusterMetering       uint16 = 0x0702
	ClusterElectricalMeas uint16 = 0x0B04
	ClusterFanControl     uint16 = 0x0202
)

// Window Covering attributes and commands.
const (
	AttrWindowCoveringType            uint16 = 0x0000
	AttrConfigStatus                  uint16 = 0x0007
	AttrCurrentPositionLiftPercentage uint16 = 0x0008
	AttrCurrentPositionTiltPercentage uint16 = 0x0009
	CmdUpOpen                                = 0x00
	CmdDownClose                             = 0x01
	CmdStop                                  = 0x02
	CmdGoToLiftPercentage                    = 0x05
	CmdGoToTiltPercentage                    = 0x08
	// Window covering types with slats (windowCoveringType): tilt only, lift and tilt.
	CoverTypeTiltOnly        = 7
	CoverTypeTiltLiftAndTilt = 8
)

// IAS Zone attributes (ZCL 8.2.2.2).
const (
	AttrZoneState        uint16 = 0x0000
	AttrZoneType         uint16 = 0x0001
	AttrZoneStatus       uint16 = 0x0002
	AttrIASCIEAddress    uint16 = 0x0010
	AttrZoneID           uint16 = 0x0011
	ZoneStateNotEnrolled        = 0
	ZoneStateEnrolled           = 1
)

// IAS Zone commands: client to server (the CIE's) and server to client (the device's).
const (
	CmdZoneEnrollResponse           = 0x00 // CIE → zone: enroll response code, zone id
	CmdZoneStatusChangeNotification = 0x00 // zone → CIE: zone status, extended status, zone id, delay
	CmdZoneEnrollRequest            = 0x01 // zone → CIE: zone type, manufacturer code
)

// IAS zone types (ZCL 8.2.2.2.1.2).
const (
	ZoneTypeMotion       = 0x000D
	ZoneTypeContact      = 0x0015
	ZoneTypeFire         = 0x0028
	ZoneTypeWater        = 0x002A
	ZoneTypeCO           = 0x002B
	ZoneTypeEmergency    = 0x002C
	ZoneTypeVibration    = 0x002D
	ZoneTypeStandardWarn = 0x0225
)

// IAS zone status bits (ZCL 8.2.2.2.1.3).
const (
	ZoneStatusAlarm1     = 1 << 0
	ZoneStatusAlarm2     = 1 << 1
	ZoneStatusTamper     = 1 << 2
	ZoneStatusBatteryLow = 1 << 3
)

// Occupancy Sensing, Illuminance and Relative Humidity measurement: the
// measured value is attribute 0x0000 in each (AttrMeasuredValue); occupancy
// is a bitmap8 whose bit 0 is "occupied".
const (
	AttrOccupancy uint16 = 0x0000
)

// Battery alarm state bits (Power Configuration batteryAlarmState, ZCL
// 3.3.2.2.4.10): battery source 1's minimum threshold and thresholds 1–3.
const BatteryAlarmSource1 = 0x0000000F

// Fan Control attributes and fanMode values (ZCL 6.4).
const (
	AttrFanMode         uint16 = 0x0000
	AttrFanModeSequence uint16 = 0x0001
	FanModeOff                 = 0
	FanModeLow                 = 1
	FanModeMedium              = 2
	FanModeHigh                = 3
	FanModeOn                  = 4
	FanModeAuto                = 5
	FanModeSmart               = 6
)

// AttrMaxDuration is the IAS WD's longest warning, in seconds (ZCL 8.4).
const AttrMaxDuration uint16 = 0x0000

// IAS WD commands and warning modes (ZCL 8.4).
const (
	CmdStartWarning      = 0x00
	CmdSquawk            = 0x01
	WarningModeStop      = 0
	WarningModeBurglar   = 1
	WarningModeFire      = 2
	WarningModeEmergency = 3
)

// StartWarning encodes an IAS WD Start Warning: warning mode (bits 4–7),
// strobe (bits 2–3: 1 with the siren), siren level (bits 0–1), the duration
// in seconds, the strobe duty cycle (%, in tens) and the strobe level.
func StartWarning(mode, strobe, level uint8, seconds uint16, duty, strobeLevel uint8) []byte {
	b := []byte{mode<<4 | (strobe&3)<<2 | level&3}
	b = binary.LittleEndian.AppendUint16(b, seconds)
	return append(b, duty, strobeLevel)
}

// ParseStartWarning decodes a Start Warning: mode, strobe, siren level and duration.
func ParseStartWarning(p []byte) (mode, strobe, level uint8, seconds uint16, err error) {
	if len(p) < 3 {
		return 0, 0, 0, 0, fmt.Errorf("zcl: start warning of %d bytes: %w", len(p), ErrShort)
	}
	return p[0] >> 4, (p[0] >> 2) & 3, p[0] & 3, binary.LittleEndian.Uint16(p[1:]), nil
}

// Electrical Measurement attributes (ZCL 4.9).
const (
	AttrRMSVoltage          uint16 = 0x0505
	AttrRMSCurrent          uint16 = 0x0508
	AttrActivePower         uint16 = 0x050B
	AttrACVoltageMultiplier uint16 = 0x0600
	AttrACVoltageDivisor    uint16 = 0x0601
	AttrACCurrentMultiplier uint16 = 0x0602
	AttrACCurrentDivisor    uint16 = 0x0603
	AttrACPowerMultiplier   uint16 = 0x0604
	AttrACPowerDivisor      uint16 = 0x0605
)

// Metering attributes (Smart Energy 10.4).
const (
	AttrCurrentSummationDelivered   uint16 = 0x0000
	AttrMeteringUnitOfMeasure       uint16 = 0x0300
	AttrMeteringMultiplier          uint16 = 0x0301
	AttrMeteringDivisor             uint16 = 0x0302
	AttrMeteringSummationFormatting uint16 = 0x0303
	AttrMeteringDeviceType          uint16 = 0x0306
)

// ZoneStatusChange is an IAS Zone Status Change Notification's payload.
type ZoneStatusChange struct {
	Status         uint16
	ExtendedStatus uint8
	ZoneID         uint8
	Delay          uint16 // quarter seconds
}

// Marshal encodes the notification.
func (z ZoneStatusChange) Marshal() []byte {
	b := binary.LittleEndian.AppendUint16(nil, z.Status)
	b = append(b, z.ExtendedStatus, z.ZoneID)
	return binary.LittleEndian.AppendUint16(b, z.Delay)
}

// ParseZoneStatusChange decodes a Zone Status Change Notification (the
// delay is optional: ZCL versions before 6 leave it out).
func ParseZoneStatusChange(p []byte) (ZoneStatusChange, error) {
	if len(p) < 4 {
		return ZoneStatusChange{}, fmt.Errorf("zcl: zone status change notification of %d bytes: %w", len(p), ErrShort)
	}
	z := ZoneStatusChange{Status: binary.LittleEndian.Uint16(p), ExtendedStatus: p[2], ZoneID: p[3]}
	if len(p) >= 6 {
		z.Delay = binary.LittleEndian.Uint16(p[4:])
	}
	return z, nil
}

// ZoneEnrollRequest is an IAS zone's Zone Enroll Request payload.
type ZoneEnrollRequest struct {
	ZoneType         uint16
	ManufacturerCode uint16
}

// Marshal encodes the request.
func (z ZoneEnrollRequest) Marshal() []byte {
	return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, z.ZoneType), z.ManufacturerCode)
}

// ParseZoneEnrollRequest decodes a Zone Enroll Request.
func ParseZoneEnrollRequest(p []byte) (ZoneEnrollRequest, error) {
	if len(p) < 4 {
		return ZoneEnrollRequest{}, fmt.Errorf("zcl: zone enroll request of %d bytes: %w", len(p), ErrShort)
	}
	return ZoneEnrollRequest{ZoneType: binary.LittleEndian.Uint16(p), ManufacturerCode: binary.LittleEndian.Uint16(p[2:])}, nil
}

// ZoneEnrollResponse encodes a Zone Enroll Response (code 0: success).
func ZoneEnrollResponse(code, zoneID uint8) []byte { return []byte{code, zoneID} }

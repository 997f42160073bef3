// Package zcl encodes and decodes Zigbee Cluster Library frames: the header,
// the foundation (global) commands, the data types the avshub clusters use,
// and the cluster-specific commands of On/Off, Level Control, Color Control,
// Door Lock and Thermostat.
package zcl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Frame types (frame control bits 0-1).
const (
	FrameGlobal  = 0
	FrameCluster = 1
)

// Directions (frame control bit 3).
const (
	ClientToServer = 0
	ServerToClient = 1
)

// Header is a ZCL frame header.
type Header struct {
	FrameType              uint8 // FrameGlobal or FrameCluster
	ManufacturerSpecific   bool
	Direction              uint8 // ClientToServer or ServerToClient
	DisableDefaultResponse bool
	ManufacturerCode       uint16
	TSN                    uint8
	Command                uint8
}

// FrameControl returns the header's frame control byte.
func (h Header) FrameControl() byte {
	fc := h.FrameType & 0x03
	if h.ManufacturerSpecific {
		fc |= 1 << 2
	}
	fc |= (h.Direction & 1) << 3
	if h.DisableDefaultResponse {
		fc |= 1 << 4
	}
	return fc
}

// Append appends the encoded header to b.
func (h Header) Append(b []byte) []byte {
	b = append(b, h.FrameControl())
	if h.ManufacturerSpecific {
		b = binary.LittleEndian.AppendUint16(b, h.ManufacturerCode)
	}
	return append(b, h.TSN, h.Command)
}

// Frame is a whole ZCL frame: header and payload.
type Frame struct {
	Header
	Payload []byte
}

// Marshal encodes the frame.
func (f Frame) Marshal() []byte {
	return append(f.Header.Append(make([]byte, 0, 5+len(f.Payload))), f.Payload...)
}

// ErrShort is returned for truncated input.
var ErrShort = errors.New("zcl: frame truncated")

// Parse decodes a ZCL frame. The payload aliases b.
func Parse(b []byte) (Frame, error) {
	if len(b) < 3 {
		return Frame{}, ErrShort
	}
	fc := b[0]
	if fc&0xE0 != 0 {
		return Frame{}, fmt.Errorf("zcl: reserved frame control bits set (0x%02x)", fc)
	}
	h := Header{FrameType: fc & 3, ManufacturerSpecific: fc&4 != 0, Direction: (fc >> 3) & 1, DisableDefaultResponse: fc&0x10 != 0}
	if h.FrameType > 1 {
		return Frame{}, fmt.Errorf("zcl: reserved frame type %d", h.FrameType)
	}
	i := 1
	if h.ManufacturerSpecific {
		if len(b) < 5 {
			return Frame{}, ErrShort
		}
		h.ManufacturerCode = binary.LittleEndian.Uint16(b[1:])
		i = 3
	}
	h.TSN, h.Command = b[i], b[i+1]
	return Frame{Header: h, Payload: b[i+2:]}, nil
}

// Status is a ZCL status code.
type Status uint8

// ZCL status codes.
const (
	StatusSuccess               Status = 0x00
	StatusFailure               Status = 0x01
	StatusNotAuthorized         Status = 0x7E
	StatusMalformedCommand      Status = 0x80
	StatusUnsupClusterCommand   Status = 0x81
	StatusUnsupportedAttribute  Status = 0x86
	StatusInvalidValue          Status = 0x87
	StatusReadOnly              Status = 0x88
	StatusUnreportableAttribute Status = 0x8C
	StatusInvalidDataType       Status = 0x8D
)

// String names the status as the ZCL specification does.
func (s Status) String() string {
	switch s {
	case StatusSuccess:
		return "SUCCESS"
	case StatusFailure:
		return "FAILURE"
	case StatusNotAuthorized:
		return "NOT_AUTHORIZED"
	case StatusMalformedCommand:
		return "MALFORMED_COMMAND"
	case StatusUnsupClusterCommand:
		return "UNSUP_COMMAND"
	case StatusUnsupportedAttribute:
		return "UNSUPPORTED_ATTRIBUTE"
	case StatusInvalidValue:
		return "INVALID_VALUE"
	case StatusReadOnly:
		return "READ_ONLY"
	case StatusUnreportableAttribute:
		return "UNREPORTABLE_ATTRIBUTE"
	case StatusInvalidDataType:
		return "INVALID_DATA_TYPE"
	}
	return fmt.Sprintf("STATUS_0x%02x", uint8(s))
}

// DataType is a ZCL attribute data type.
type DataType uint8

// Data types the avshub clusters use.
const (
	TypeNoData    DataType = 0x00
	TypeBool      DataType = 0x10
	TypeBitmap8   DataType = 0x18
	TypeBitmap16  DataType = 0x19
	TypeBitmap32  DataType = 0x1B
	TypeUint8     DataType = 0x20
	TypeUint16    DataType = 0x21
	TypeUint24    DataType = 0x22
	TypeUint32    DataType = 0x23
	TypeUint48    DataType = 0x25
	TypeInt8      DataType = 0x28
	TypeInt16     DataType = 0x29
	TypeInt32     DataType = 0x2B
	TypeEnum8     DataType = 0x30
	TypeEnum16    DataType = 0x31
	TypeSingle    DataType = 0x39
	TypeOctetStr  DataType = 0x41
	TypeCharStr   DataType = 0x42
	TypeUTC       DataType = 0xE2
	TypeClusterID DataType = 0xE8
	TypeAttrID    DataType = 0xE9
	TypeIEEE      DataType = 0xF0
)

// size returns the fixed size of t, or -1 for strings, 0 if unknown.
func (t DataType) size() int {
	switch t {
	case TypeNoData:
		return 0
	case TypeBool, TypeBitmap8, TypeUint8, TypeInt8, TypeEnum8:
		return 1
	case TypeBitmap16, TypeUint16, TypeInt16, TypeEnum16, TypeClusterID, TypeAttrID:
		return 2
	case TypeUint24:
		return 3
	case TypeBitmap32, TypeUint32, TypeInt32, TypeSingle, TypeUTC:
		return 4
	case TypeUint48:
		return 6
	case TypeIEEE:
		return 8
	case TypeOctetStr, TypeCharStr:
		return -1
	}
	return -2
}

// Analog reports whether t is an analog type (configure reporting carries a reportable change).
func (t DataType) Analog() bool {
	switch t {
	case TypeUint8, TypeUint16, TypeUint24, TypeUint32, TypeUint48, TypeInt8, TypeInt16, TypeInt32, TypeSingle, TypeUTC:
		return true
	}
	return false
}

func (t DataType) signed() bool { return t == TypeInt8 || t == TypeInt16 || t == TypeInt32 }

// Value is a typed attribute value: integers, booleans, enums and bitmaps in
// Int, strings in Str, floats in Float.
type Value struct {
	Type  DataType
	Int   int64
	Str   string
	Float float64
}

// U returns an unsigned value (bool, enum, bitmap, unsigned integer).
func U(t DataType, v uint64) Value { return Value{Type: t, Int: int64(v)} }

// S returns a signed integer value.
func S(t DataType, v int64) Value { return Value{Type: t, Int: v} }

// Str returns a character string value.
func Str(s string) Value { return Value{Type: TypeCharStr, Str: s} }

// Invalid reports whether v holds the type's non-value.
func (v Value) Invalid() bool {
	switch v.Type {
	case TypeInt8:
		return v.Int == -0x80
	case TypeInt16:
		return v.Int == -0x8000
	case TypeInt32:
		return v.Int == -0x80000000
	case TypeBool, TypeUint8, TypeEnum8:
		return v.Int == 0xFF
	case TypeUint16, TypeEnum16:
		return v.Int == 0xFFFF
	case TypeSingle:
		return math.IsNaN(v.Float)
	}
	return false
}

// AppendValue appends v's encoding (without its type byte) to b.
func AppendValue(b []byte, v Value) ([]byte, error) {
	switch n := v.Type.size(); {
	case v.Type == TypeSingle:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v.Float))), nil
	case n >= 0:
		u := uint64(v.Int)
		for i := 0; i < n; i++ {
			b = append(b, byte(u>>(8*i)))
		}
		return b, nil
	case n == -1:
		if len(v.Str) > 254 {
			return b, fmt.Errorf("zcl: string of %d bytes is too long", len(v.Str))
		}
		if v.Type == TypeOctetStr && v.Str == "" {
			return append(b, 0xFF), nil
		}
		return append(append(b, byte(len(v.Str))), v.Str...), nil
	}
	return b, fmt.Errorf("zcl: cannot encode data type 0x%02x", uint8(v.Type))
}

// ReadValue decodes a value of type t at the start of b and returns it with the bytes used.
func ReadValue(t DataType, b []byte) (Value, int, error) {
	v := Value{Type: t}
	switch n := t.size(); {
	case t == TypeSingle:
		if len(b) < 4 {
			return v, 0, ErrShort
		}
		v.Float = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		return v, 4, nil
	case n >= 0:
		if len(b) < n {
			return v, 0, ErrShort
		}
		var u uint64
		for i := 0; i < n; i++ {
			u |= uint64(b[i]) << (8 * i)
		}
		if t.signed() {
			shift := 64 - 8*n
			v.Int = int64(u<<shift) >> shift
		} else {
			v.Int = int64(u)
		}
		return v, n, nil
	case n == -1:
		if len(b) < 1 {
			return v, 0, ErrShort
		}
		l := int(b[0])
		if l == 0xFF { // non-value
			return v, 1, nil
		}
		if len(b) < 1+l {
			return v, 0, ErrShort
		}
		v.Str = string(b[1 : 1+l])
		return v, 1 + l, nil
	}
	return v, 0, fmt.Errorf("zcl: unsupported data type 0x%02x", uint8(t))
}

// Foundation command ids.
const (
	CmdReadAttributes        = 0x00
	CmdReadAttributesRsp     = 0x01
	CmdWriteAttributes       = 0x02
	CmdWriteAttributesRsp    = 0x04
	CmdConfigureReporting    = 0x06
	CmdConfigureReportingRsp = 0x07
	CmdReportAttributes      = 0x0A
	CmdDefaultRsp            = 0x0B
)

// Attribute is an attribute id with its value.
type Attribute struct {
	ID    uint16
	Value Value
}

// ReadRecord is one record of a Read Attributes Response.
type ReadRecord struct {
	ID     uint16
	Status Status
	Value  Value
}

// ReadAttributes encodes a Read Attributes payload.
func ReadAttributes(ids ...uint16) []byte {
	b := make([]byte, 0, 2*len(ids))
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint16(b, id)
	}
	return b
}

// ParseReadAttributes decodes a Read Attributes payload.
func ParseReadAttributes(p []byte) ([]uint16, error) {
	if len(p)%2 != 0 {
		return nil, fmt.Errorf("zcl: read attributes payload of odd length %d", len(p))
	}
	ids := make([]uint16, 0, len(p)/2)
	for i := 0; i < len(p); i += 2 {
		ids = append(ids, binary.LittleEndian.Uint16(p[i:]))
	}
	return ids, nil
}

// ReadAttributesRsp encodes a Read Attributes Response payload.
func ReadAttributesRsp(recs []ReadRecord) ([]byte, error) {
	var b []byte
	var err error
	for _, r := range recs {
		b = binary.LittleEndian.AppendUint16(b, r.ID)
		b = append(b, byte(r.Status))
		if r.Status == StatusSuccess {
			b = append(b, byte(r.Value.Type))
			if b, err = AppendValue(b, r.Value); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// ParseReadAttributesRsp decodes a Read Attributes Response payload.
func ParseReadAttributesRsp(p []byte) ([]ReadRecord, error) {
	var out []ReadRecord
	for len(p) > 0 {
		if len(p) < 3 {
			return out, ErrShort
		}
		r := ReadRecord{ID: binary.LittleEndian.Uint16(p), Status: Status(p[2])}
		p = p[3:]
		if r.Status == StatusSuccess {
			if len(p) < 1 {
				return out, ErrShort
			}
			v, n, err := ReadValue(DataType(p[0]), p[1:])
			if err != nil {
				return out, err
			}
			r.Value = v
			p = p[1+n:]
		}
		out = append(out, r)
	}
	return out, nil
}

// AppendAttributes encodes id/type/value records (Write Attributes and Report Attributes).
func AppendAttributes(b []byte, attrs ...Attribute) ([]byte, error) {
	var err error
	for _, a := range attrs {
		b = binary.LittleEndian.AppendUint16(b, a.ID)
		b = append(b, byte(a.Value.Type))
		if b, err = AppendValue(b, a.Value); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseAttributes decodes id/type/value records (Write Attributes and Report Attributes).
func ParseAttributes(p []byte) ([]Attribute, error) {
	var out []Attribute
	for len(p) > 0 {
		if len(p) < 3 {
			return out, ErrShort
		}
		id, t := binary.LittleEndian.Uint16(p), DataType(p[2])
		v, n, err := ReadValue(t, p[3:])
		if err != nil {
			return out, err
		}
		out = append(out, Attribute{ID: id, Value: v})
		p = p[3+n:]
	}
	return out, nil
}

// WriteStatus is one record of a Write Attributes Response.
type WriteStatus struct {
	Status Status
	ID     uint16
}

// ParseWriteAttributesRsp decodes a Write Attributes Response; nil means every write succeeded.
func ParseWriteAttributesRsp(p []byte) ([]WriteStatus, error) {
	if len(p) == 1 && p[0] == 0 {
		return nil, nil
	}
	var out []WriteStatus
	for len(p) > 0 {
		if len(p) < 3 {
			if len(p) == 1 { // a lone failure status without attribute id
				return append(out, WriteStatus{Status: Status(p[0])}), nil
			}
			return out, ErrShort
		}
		out = append(out, WriteStatus{Status: Status(p[0]), ID: binary.LittleEndian.Uint16(p[1:])})
		p = p[3:]
	}
	return out, nil
}

// WriteAttributesRsp encodes a Write Attributes Response (all-success when every status is 0).
func WriteAttributesRsp(st []WriteStatus) []byte {
	var b []byte
	for _, s := range st {
		if s.Status != StatusSuccess {
			b = append(b, byte(s.Status))
			b = binary.LittleEndian.AppendUint16(b, s.ID)
		}
	}
	if len(b) == 0 {
		return []byte{0}
	}
	return b
}

// ReportConfig is one Configure Reporting record (direction 0: reported by the server).
type ReportConfig struct {
	ID          uint16
	Type        DataType
	MinInterval uint16
	MaxInterval uint16
	// Change is the reportable change; used only for analog types.
	Change int64
}

// ConfigureReporting encodes a Configure Reporting payload.
func ConfigureReporting(recs ...ReportConfig) ([]byte, error) {
	var b []byte
	var err error
	for _, r := range recs {
		b = append(b, 0)
		b = binary.LittleEndian.AppendUint16(b, r.ID)
		b = append(b, byte(r.Type))
		b = binary.LittleEndian.AppendUint16(b, r.MinInterval)
		b = binary.LittleEndian.AppendUint16(b, r.MaxInterval)
		if r.Type.Analog() {
			if b, err = AppendValue(b, Value{Type: r.Type, Int: r.Change}); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// ParseConfigureReporting decodes a Configure Reporting payload (direction 0 records only).
func ParseConfigureReporting(p []byte) ([]ReportConfig, error) {
	var out []ReportConfig
	for len(p) > 0 {
		if len(p) < 8 {
			return out, ErrShort
		}
		if p[0] != 0 {
			return out, fmt.Errorf("zcl: configure reporting direction %d not supported", p[0])
		}
		r := ReportConfig{ID: binary.LittleEndian.Uint16(p[1:]), Type: DataType(p[3]),
			MinInterval: binary.LittleEndian.Uint16(p[4:]), MaxInterval: binary.LittleEndian.Uint16(p[6:])}
		p = p[8:]
		if r.Type.Analog() {
			v, n, err := ReadValue(r.Type, p)
			if err != nil {
				return out, err
			}
			r.Change, p = v.Int, p[n:]
		}
		out = append(out, r)
	}
	return out, nil
}

// DefaultRsp encodes a Default Response payload.
func DefaultRsp(cmd uint8, st Status) []byte { return []byte{cmd, byte(st)} }

// ParseDefaultRsp decodes a Default Response payload.
func ParseDefaultRsp(p []byte) (cmd uint8, st Status, err error) {
	if len(p) < 2 {
		return 0, 0, ErrShort
	}
	return p[0], Status(p[1]), nil
}

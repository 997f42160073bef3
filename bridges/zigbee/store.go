package zigbee

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// wellKnownKey is Z-Stack's shipped default network key; a network must never use it.
var wellKnownKey = []byte{0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x0F, 0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0D}

// network is the persisted identity of the Zigbee network the bridge formed.
type network struct {
	Channel  int    `json:"channel"`
	PANID    uint16 `json:"panId"`
	ExtPANID uint64 `json:"extPanId"`
	// Key is the 16-byte network key (hex). The file is private (0600).
	Key hexBytes `json:"networkKey"`
}

type hexBytes []byte

// MarshalText renders the bytes as hex.
func (h hexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText parses hex.
func (h *hexBytes) UnmarshalText(b []byte) error {
	out, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("bad hex: %w", err)
	}
	*h = out
	return nil
}

// newNetwork generates a network: random PAN id (unless fixed), extended PAN id and key.
func newNetwork(channel, panID int) (network, error) {
	var b [26]byte
	if _, err := rand.Read(b[:]); err != nil {
		return network{}, fmt.Errorf("zigbee: random network parameters: %w", err)
	}
	n := network{Channel: channel, PANID: uint16(panID), ExtPANID: binary.LittleEndian.Uint64(b[2:10]), Key: append(hexBytes(nil), b[10:26]...)}
	if n.PANID == 0 {
		n.PANID = binary.LittleEndian.Uint16(b[:2])%0xFFF6 + 1
	}
	if bytes.Equal(n.Key, wellKnownKey) { // astronomically unlikely, but never use it
		n.Key[0] ^= 0xFF
	}
	return n, nil
}

func (n network) valid() bool {
	return n.Channel >= 11 && n.Channel <= 26 && n.PANID != 0 && n.PANID < 0xFFF8 && len(n.Key) == 16 && !bytes.Equal(n.Key, wellKnownKey)
}

// endpointRecord is one Zigbee endpoint's simple descriptor.
type endpointRecord struct {
	ID       uint8    `json:"id"`
	Profile  uint16   `json:"profile"`
	DeviceID uint16   `json:"deviceId"`
	In       []uint16 `json:"in"`
	Out      []uint16 `json:"out"`
}

// record is one device in the bridge's database.
type record struct {
	IEEE         string           `json:"ieee"`
	NWK          uint16           `json:"nwk"`
	Capabilities uint8            `json:"capabilities"`
	Manufacturer string           `json:"manufacturer,omitempty"`
	Model        string           `json:"model,omitempty"`
	PowerSource  uint8            `json:"powerSource,omitempty"`
	Endpoints    []endpointRecord `json:"endpoints,omitempty"`
	Interviewed  bool             `json:"interviewed"`
	ColorCaps    uint16           `json:"colorCaps,omitempty"`
	ZoneType     uint16           `json:"zoneType,omitempty"`     // an IAS zone's type
	BatteryAlarm bool             `json:"batteryAlarm,omitempty"` // Power Configuration has batteryAlarmState
	FanSeq       uint8            `json:"fanSeq,omitempty"`       // Fan Control fanModeSequence
	MaxWarning   uint16           `json:"maxWarning,omitempty"`   // IAS WD maxDuration (s)
	CoverType    uint8            `json:"coverType,omitempty"`    // Window Covering windowCoveringType
	PowerScale   float64          `json:"powerScale,omitempty"`   // W per activePower unit
	EnergyScale  float64          `json:"energyScale,omitempty"`  // kWh per summation unit
	MinMired     uint16           `json:"minMired,omitempty"`
	MaxMired     uint16           `json:"maxMired,omitempty"`
	// Gamut is the colour gamut the light declares with its primaries (Color
	// Control 0x0010–0x001A); nil when it declares none.
	Gamut        *colorconv.Gamut `json:"gamut,omitempty"`
	ControlSeq   uint8            `json:"controlSeq,omitempty"`
	MinSetpointC float64          `json:"minSetpointC,omitempty"`
	MaxSetpointC float64          `json:"maxSetpointC,omitempty"`
	State        model.State      `json:"state"`
	Reachable    bool             `json:"reachable"`

	lastX, lastY float64 // last reported CIE xy (xy-only bulbs)
	// stored says State is still the database's: the device has not been
	// read whole since the bridge started. What it reports or is read then
	// is sent on in full, not only what differs from the database, since the
	// hub may hold a newer state than the one saved (a change reported just
	// before a crash, not yet saved).
	stored bool
}

type dbFile struct {
	Version int `json:"version"`
	// Saved is when the bridge wrote the file: the devices' states are as of then.
	Saved   time.Time `json:"saved,omitzero"`
	Network *network  `json:"network,omitempty"`
	Devices []*record `json:"devices"`
}

const dbName = "zigbee.json"

func loadDB(dir string) (dbFile, error) {
	var db dbFile
	b, err := os.ReadFile(filepath.Join(dir, dbName))
	if errors.Is(err, fs.ErrNotExist) {
		return dbFile{Version: 1}, nil
	}
	if err != nil {
		return db, fmt.Errorf("zigbee: read device database: %w", err)
	}
	if err := json.Unmarshal(b, &db); err != nil {
		return db, fmt.Errorf("zigbee: device database %s is corrupt: %w", filepath.Join(dir, dbName), err)
	}
	return db, nil
}

// saveDB writes the database atomically (temp file, fsync, rename) with mode 0600.
func saveDB(dir string, db dbFile) error {
	b, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return fmt.Errorf("zigbee: encode device database: %w", err)
	}
	tmp, err := os.CreateTemp(dir, dbName+".tmp*")
	if err != nil {
		return fmt.Errorf("zigbee: write device database: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(b)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("zigbee: write device database: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, dbName)); err != nil {
		return fmt.Errorf("zigbee: write device database: %w", err)
	}
	return nil
}

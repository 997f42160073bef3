package znpsim

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/avshub/avshub/bridges/zigbee/internal/hexbytes"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// host is the test's side of the line: raw frames in and out.
type host struct {
	t      *testing.T
	conn   io.ReadWriter
	frames chan []byte
}

func (h *host) write(s string) {
	h.t.Helper()
	if _, err := h.conn.Write(hexbytes.Must(h.t, s)); err != nil {
		h.t.Fatal(err)
	}
}

// expect reads frames until one equals want (hex, "??" matches any byte).
func (h *host) expect(want string) []byte {
	h.t.Helper()
	w := strings.Fields(want)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case raw := <-h.frames:
			if matches(raw, w) {
				return raw
			}
		case <-timeout:
			h.t.Fatalf("no frame %s", want)
		}
	}
}

func matches(raw []byte, w []string) bool {
	if len(raw) != len(w) {
		return false
	}
	for i, x := range w {
		if x == "??" {
			continue
		}
		b, _ := hex.DecodeString(x)
		if b[0] != raw[i] {
			return false
		}
	}
	return true
}

func readFrames(r io.Reader, out chan<- []byte) {
	var d unpi.Decoder
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		if n == 0 { // a read timeout: the line is idle, so a partial frame is garbage
			d.Flush()
		}
		d.Write(buf[:n])
		for {
			f, err := d.Next()
			if err != nil {
				break
			}
			raw, _ := f.Marshal()
			out <- raw
		}
	}
}

func testSpecs() []DeviceSpec {
	return []DeviceSpec{{IEEE: "0x0123456789abcdef", Type: "ikea-ct-bulb", NWK: 0x1234}}
}

func newHost(t *testing.T, specs []DeviceSpec) (*Sim, *host) {
	t.Helper()
	s, err := New(Options{Devices: specs, Latency: time.Millisecond, JoinDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, b) }()
	h := &host{t: t, conn: a, frames: make(chan []byte, 256)}
	go readFrames(a, h.frames)
	t.Cleanup(func() {
		cancel()
		a.Close()
		<-done
		s.Close()
	})
	return s, h
}

// form runs the bridge-style formation sequence and waits for ZB_COORD.
func (h *host) form() {
	h.write("FE 01 2F 05 04 2F") // APP_CNF_BDB_START_COMMISSIONING formation
	h.expect("FE 01 6F 05 00 6B")
	h.expect("FE 01 45 C0 08 8C")
	h.expect("FE 01 45 C0 09 8D")
}

func TestSystemVectors(t *testing.T) {
	_, h := newHost(t, testSpecs())
	h.write("FE 00 21 01 20")
	h.expect("FE 02 61 01 59 06 3D")
	h.write("FE 00 21 02 23")
	h.expect("FE 0E 61 02 02 01 02 07 01 3B 89 34 01 00 FF FF FF FF ED")
	h.write("FE 00 21 7F 5E") // unknown SYS command → RPC error, invalid command id
	h.expect("FE 03 60 00 02 21 7F 3F")
	h.write("FE 01 41 00 01 41") // soft reset → SYS_RESET_IND
	h.expect("FE 06 41 80 00 02 01 02 07 01 C0")
	h.write("FE 00 27 00 27") // device info: not started yet (state 0, short 0xFFFE)
	h.expect("FE 0E 67 00 00 B3 A2 C1 24 00 4B 12 00 FE FF 07 00 00 ??")
	h.write("FE 02 25 40 64 00 03") // startup from app without a network
	h.expect("FE 01 65 40 02 26")
}

func TestNVItems(t *testing.T) {
	_, h := newHost(t, testSpecs())
	h.write("FE 02 21 13 60 00 50") // length of HAS_CONFIGURED: missing
	h.expect("FE 02 61 13 00 00 70")
	h.write("FE 06 21 07 60 00 01 00 01 55 15") // init with 0x55
	h.expect("FE 01 61 07 09 6E")
	h.write("FE 06 21 07 60 00 01 00 01 55 15") // again: exists
	h.expect("FE 01 61 07 00 67")
	h.write("FE 04 21 1C 60 00 00 00 59") // read ext
	h.expect("FE 03 61 1C 00 01 55 2A")
	h.write("FE 04 21 1C 99 00 00 00 A0") // read a missing item
	h.expect("FE 02 61 1C 0A 00 75")
}

func TestJoinAndZCLVectors(t *testing.T) {
	s, h := newHost(t, testSpecs())
	h.form()
	h.write("FE 09 24 00 01 04 01 05 00 00 00 00 00 2C") // AF_REGISTER ep 1
	h.expect("FE 01 64 00 00 65")
	h.write("FE 09 24 00 01 04 01 05 00 00 00 00 00 2C") // again: duplicate
	h.expect("FE 01 64 00 B8 DD")
	h.write("FE 05 25 36 0F FC FF FE 01 E5") // permit join 254 s
	h.expect("FE 01 65 36 00 52")
	h.expect("FE 01 45 CB FE 71")
	h.expect("FE 0C 45 CA 34 12 EF CD AB 89 67 45 23 01 00 00 ??")
	h.expect("FE 0D 45 C1 34 12 34 12 EF CD AB 89 67 45 23 01 8E 07") // the notes' announce vector
	h.write("FE 04 25 05 34 12 34 12 24")                             // active endpoints
	h.expect("FE 01 65 05 00 61")
	h.expect("FE 07 45 85 34 12 00 34 12 01 01 ??")
	// On → nwk 0x1234 ep 1 (the notes' AF_DATA_REQUEST vector): SRSP, confirm, then the Default Response.
	h.write("FE 0D 24 01 34 12 01 01 06 00 01 00 1E 03 01 01 01 15")
	h.expect("FE 01 64 01 00 64")
	h.expect("FE 03 44 80 00 01 01 C7")
	h.expect("FE 19 44 81 00 00 06 00 34 12 01 01 00 C8 00 ?? ?? ?? ?? ?? 05 18 01 0B 01 00 34 12 1D ??")
	if d := s.Devices()[0]; d.Attributes["onOff"] != 1 || !d.Joined || d.NWK != "0x1234" {
		t.Fatalf("device after on: %+v", d)
	}
	// Offline: MAC_NO_ACK for a router.
	if err := s.SetOnline("0123456789abcdef", false); err != nil {
		t.Fatal(err)
	}
	h.write("FE 0D 24 01 34 12 01 01 06 00 02 00 1E 03 01 02 00 14")
	h.expect("FE 01 64 01 00 64")
	h.expect("FE 03 44 80 E9 01 02 2D")
	// Unknown destination: NWK_NO_ROUTE.
	h.write("FE 0D 24 01 99 99 01 01 06 00 03 00 1E 03 01 03 00 32")
	h.expect("FE 01 64 01 00 64")
	h.expect("FE 03 44 80 CD 01 03 08")
}

// TestReadAttributesVectors: a device answers ZCL Read Attributes as a real
// one does, in an AF_INCOMING_MSG to the requesting endpoint: a Read
// Attributes Response (frame control 0x18, the request's TSN) with one record
// per attribute in the order asked, id/status/type/value for a supported one
// (a character string with its length byte), id/UNSUPPORTED_ATTRIBUTE (0x86)
// without type or value for one the device lacks; a manual change is what the
// next read returns; a hung device answers nothing though the radio acks.
func TestReadAttributesVectors(t *testing.T) {
	s, h := newHost(t, testSpecs())
	h.form()
	h.write("FE 09 24 00 01 04 01 05 00 00 00 00 00 2C") // AF_REGISTER ep 1
	h.expect("FE 01 64 00 00 65")
	h.write("FE 09 24 00 02 04 01 05 00 00 00 00 00 2F") // AF_REGISTER ep 2
	h.expect("FE 01 64 00 00 65")
	h.write("FE 05 25 36 0F FC FF FE 01 E5")
	h.expect("FE 0D 45 C1 34 12 34 12 EF CD AB 89 67 45 23 01 8E 07")
	for _, c := range []struct {
		name     string
		set      map[string]int64
		req, rsp string
	}{
		{"onOff and StartUpOnOff (unsupported)", nil,
			"FE 11 24 01 34 12 01 01 06 00 10 00 1E 07 10 07 00 00 00 03 40 49",
			"FE 1F 44 81 00 00 06 00 34 12 01 01 00 C8 00 ?? ?? ?? ?? ?? 0B 18 07 01 00 00 00 10 00 03 40 86 34 12 1D ??"},
		{"after a change by hand", map[string]int64{"onOff": 1},
			"FE 11 24 01 34 12 01 01 06 00 10 00 1E 07 10 07 00 00 00 03 40 49",
			"FE 1F 44 81 00 00 06 00 34 12 01 01 00 C8 00 ?? ?? ?? ?? ?? 0B 18 07 01 00 00 00 10 01 03 40 86 34 12 1D ??"},
		{"Basic model id and power source, from endpoint 2", nil,
			"FE 11 24 01 34 12 01 02 00 00 11 00 1E 07 10 08 00 05 00 07 00 03",
			"FE 3F 44 81 00 00 00 00 34 12 01 02 00 C8 00 ?? ?? ?? ?? ?? 2B 18 08 01 05 00 00 42 1E " +
				"54 52 41 44 46 52 49 20 62 75 6C 62 20 45 32 37 20 57 53 20 6F 70 61 6C 20 39 38 30 6C 6D " +
				"07 00 00 30 01 34 12 1D ??"},
	} {
		// h fails the test itself (no subtests): the want string names the case.
		if c.set != nil {
			if err := s.Set("0123456789abcdef", c.set); err != nil {
				t.Fatal(err)
			}
		}
		h.write(c.req)
		h.expect("FE 01 64 01 00 64")
		h.expect("FE 03 44 80 00 ?? ?? ??")
		if raw := h.expect(c.rsp); len(raw) == 0 {
			t.Fatalf("%s: no answer", c.name)
		}
	}
	// Hung: the radio acknowledges (AF_DATA_CONFIRM success) and no response follows.
	if err := s.SetHung("0123456789abcdef", true); err != nil {
		t.Fatal(err)
	}
	h.write("FE 11 24 01 34 12 01 01 06 00 10 00 1E 07 10 07 00 00 00 03 40 49")
	h.expect("FE 01 64 01 00 64")
	h.expect("FE 03 44 80 00 01 10 ??")
	// Revived, the next read is answered; nothing arrived in between.
	if err := s.SetHung("0123456789abcdef", false); err != nil {
		t.Fatal(err)
	}
	h.write("FE 11 24 01 34 12 01 02 00 00 11 00 1E 07 10 08 00 05 00 07 00 03")
	for _, want := range []string{"FE 01 64 01 00 64", "FE 03 44 80 00 02 11 ??", "FE 3F 44 81 00 00 00 00 34 12 01 02" + strings.Repeat(" ??", 56)} {
		select {
		case raw := <-h.frames: // strictly the next frames: the hung read's answer never comes
			if !matches(raw, strings.Fields(want)) {
				t.Fatalf("got % X, want %s", raw, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no frame %s", want)
		}
	}
}

func TestReportsFollowConfiguration(t *testing.T) {
	s, h := newHost(t, testSpecs())
	h.form()
	h.write("FE 05 25 36 0F FC FF FE 01 E5")
	h.expect("FE 0D 45 C1 34 12 34 12 EF CD AB 89 67 45 23 01 8E 07")
	// No reporting configured: a manual change sends nothing; after configure reporting it does.
	if err := s.Set("0123456789abcdef", map[string]int64{"onOff": 1}); err != nil {
		t.Fatal(err)
	}
	h.write("FE 15 24 01 34 12 01 01 06 00 04 00 1E 0B 10 07 06 00 00 00 10 00 00 10 0E 1E") // configure onOff 0..3600
	h.expect("FE 01 64 01 00 64")
	h.expect("FE 18 44 81 00 00 06 00 34 12 01 01 00 C8 00 ?? ?? ?? ?? ?? 04 18 07 07 00 34 12 1D ??")
	if err := s.Set("0123456789abcdef", map[string]int64{"onOff": 0}); err != nil {
		t.Fatal(err)
	}
	h.expect("FE 1B 44 81 00 00 06 00 34 12 01 01 00 C8 00 ?? ?? ?? ?? ?? 07 18 ?? 0A 00 00 10 00 34 12 1D ??")
	if err := s.Set("0123456789abcdef", map[string]int64{"nope": 1}); err == nil {
		t.Fatal("unknown attribute accepted")
	}
}

func TestParseDevices(t *testing.T) {
	specs, err := ParseDevices(DefaultDevicesYAML())
	if err != nil || len(specs) != 7 {
		t.Fatalf("default devices: %d %v", len(specs), err)
	}
	b, err := os.ReadFile("testdata/sensors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sensors, err := ParseDevices(b)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, s := range append(specs, sensors...) {
		kinds[s.Type] = true
	}
	if len(kinds) != len(models) {
		t.Fatalf("the default and sensors files cover %d of %d models", len(kinds), len(models))
	}
	for _, bad := range []string{
		"devices:\n  - ieee: \"0x01\"\n    type: ikea-ct-bulb\n",
		"devices:\n  - ieee: \"0x0123456789abcdef\"\n    type: toaster\n",
		"devices:\n  - ieee: \"0x0123456789abcdef\"\n    type: ikea-ct-bulb\n    colour: red\n",
		"devices:\n  - {ieee: \"0x0123456789abcdef\", type: ikea-ct-bulb}\n  - {ieee: \"0123456789ABCDEF\", type: ikea-ct-bulb}\n",
	} {
		if _, err := ParseDevices([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := New(Options{Devices: []DeviceSpec{{IEEE: "0123456789abcdef", Type: "aqara-temp", Attributes: map[string]int64{"onOff": 1}}}}); err == nil {
		t.Error("a sensor accepted an onOff attribute")
	}
}

// TestPTYAndAdmin runs the simulator on a real pty, opened through go.bug.st/serial, and drives the admin API.
func TestPTYAndAdmin(t *testing.T) {
	s, err := New(Options{Devices: testSpecs(), Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	link := filepath.Join(t.TempDir(), "ttyZNP")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.RunPTY(ctx, link, func(string) { close(ready) }) }()
	<-ready
	port, err := serial.Open(link, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	if err := port.SetReadTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, conn: port, frames: make(chan []byte, 64)}
	go readFrames(port, h.frames)
	h.write("FE 00 21 01 20")
	h.expect("FE 02 61 01 59 06 3D")

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	post := func(path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	resp, err := http.Get(srv.URL + "/sim/devices")
	if err != nil {
		t.Fatal(err)
	}
	var devs []DeviceStatus
	if err := json.NewDecoder(resp.Body).Decode(&devs); err != nil || len(devs) != 1 || devs[0].Model != "TRADFRI bulb E27 WS opal 980lm" {
		t.Fatalf("GET /sim/devices: %+v %v", devs, err)
	}
	resp.Body.Close()
	for _, c := range []struct {
		path, body string
		code       int
	}{
		{"/sim/devices/0123456789abcdef/set", `{"colorTemperature":300}`, 200},
		{"/sim/devices/0123456789abcdef/set", `{"localTemperature":2150}`, 400},
		{"/sim/devices/0123456789abcdef/set", `not json`, 400},
		{"/sim/devices/ffffffffffffffff/offline", ``, 404},
		{"/sim/devices/0123456789abcdef/offline", ``, 200},
		{"/sim/devices/0123456789abcdef/online", ``, 200},
		{"/sim/noise", ``, 200},
	} {
		if got := post(c.path, c.body); got != c.code {
			t.Errorf("POST %s %s = %d, want %d", c.path, c.body, got, c.code)
		}
	}
	// Noise: the next ping still gets its answer.
	h.write("FE 00 21 01 20")
	h.expect("FE 02 61 01 59 06 3D")
	// Unplug: the port fails; replug: a new pty at the same link answers.
	if got := post("/sim/unplug", ""); got != 200 {
		t.Fatalf("unplug: %d", got)
	}
	buf := make([]byte, 16)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := port.Read(buf); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("port still readable after unplug")
		}
	}
	port.Close()
	if got := post("/sim/replug", ""); got != 200 {
		t.Fatalf("replug: %d", got)
	}
	var p2 serial.Port
	for deadline := time.Now().Add(10 * time.Second); ; {
		if p2, err = serial.Open(link, &serial.Mode{BaudRate: 115200}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reopen after replug: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer p2.Close()
	h2 := &host{t: t, conn: p2, frames: make(chan []byte, 64)}
	go readFrames(p2, h2.frames)
	h2.write("FE 00 21 01 20")
	h2.expect("FE 02 61 01 59 06 3D")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = bytes.Equal
}

// FuzzHandle feeds arbitrary host frames to a formed coordinator with joined
// devices: nothing may panic.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{"25 36 0F FC FF FE 01", "24 01 34 12 01 01 06 00 01 00 1E 03 01 01 01", "21 1D 60 00 00 00 01 00 55",
		"25 21 34 12 EF CD AB 89 67 45 23 01 01 06 00 03 B3 A2 C1 24 00 4B 12 00 01", "24 00 01 04 01 05 00 00 00 02 00 00", "25 04 34 12 34 12 01"} {
		b := hexbytes.Must(f, s)
		f.Add(b[0], b[1], b[2:])
	}
	s, err := New(Options{Devices: testSpecs(), Latency: time.Microsecond, JoinDelay: time.Microsecond})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.form()
	s.devState = 9
	s.permitEnd = time.Now().Add(time.Hour)
	s.join(s.devices[0])
	s.mu.Unlock()
	f.Fuzz(func(t *testing.T, cmd0, cmd1 byte, data []byte) {
		s.handle(unpi.Frame{Type: unpi.Type(cmd0 >> 5), Subsystem: unpi.Subsystem(cmd0 & 0x1F), Cmd: cmd1, Data: data})
		// A ZCL frame as a device would receive it.
		s.mu.Lock()
		s.deviceZCL(s.devices[0], 1, 1, uint16(cmd1)<<8|uint16(cmd0), data)
		s.mu.Unlock()
	})
}

// TestMgmtLeaveAndRejoin: ZDO_MGMT_LEAVE_REQ to a joined device (leave, no
// rejoin) answers SRSP SUCCESS, the device's Mgmt_Leave_rsp and then its
// leave (ZDO_LEAVE_IND: request 0, remove 0, rejoin 0); the device is no
// longer joined, and it joins again, as a new device would, when the network
// is next opened.
func TestMgmtLeaveAndRejoin(t *testing.T) {
	s, h := newHost(t, testSpecs())
	h.form()
	h.write("FE 05 25 36 0F FC FF FE 01 E5") // permit join 254 s
	h.expect("FE 01 65 36 00 52")
	h.expect("FE 01 45 CB FE 71")
	h.expect("FE 0C 45 CA 34 12 EF CD AB 89 67 45 23 01 00 00 ??")
	h.expect("FE 0D 45 C1 34 12 34 12 EF CD AB 89 67 45 23 01 8E 07")
	h.write("FE 05 25 36 0F FC FF 00 01 1B") // close the network
	h.expect("FE 01 65 36 00 52")
	h.expect("FE 01 45 CB 00 8F")

	h.write("FE 0B 25 34 34 12 EF CD AB 89 67 45 23 01 00 3C") // Mgmt_Leave_req to 0x1234
	h.expect("FE 01 65 34 00 50")
	h.expect("FE 03 45 B4 34 12 00 D4")
	h.expect("FE 0D 45 C9 34 12 EF CD AB 89 67 45 23 01 00 00 00 A7")
	if d := s.Devices()[0]; d.Joined {
		t.Fatalf("device still joined after leaving: %+v", d)
	}
	h.write("FE 05 25 36 0F FC FF FE 01 E5")
	h.expect("FE 01 65 36 00 52")
	h.expect("FE 01 45 CB FE 71")
	h.expect("FE 0C 45 CA ?? ?? EF CD AB 89 67 45 23 01 00 00 ??")
	h.expect("FE 0D 45 C1 ?? ?? ?? ?? EF CD AB 89 67 45 23 01 8E ??")
	if d := s.Devices()[0]; !d.Joined {
		t.Fatalf("device did not join again: %+v", d)
	}
}

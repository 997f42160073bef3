package zigbee

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestStartupGolden pins the exact host→ZNP frame sequence of a first start
// (network formation with a fixed stored network) and of a restart (restore).
// Run with -update to rewrite testdata/startup.golden after a deliberate change.
func TestStartupGolden(t *testing.T) {
	dir := t.TempDir()
	n := network{Channel: 20, PANID: 0x1A62, ExtPANID: 0xDDDDDDDDDDDDDDDD, Key: hexBytes{0x5a, 0x31, 0x9c, 0x04, 0xe8, 0x77, 0x10, 0x2b, 0xc6, 0x4f, 0x93, 0x0d, 0x71, 0xaa, 0x28, 0xf5}}
	if err := saveDB(dir, dbFile{Version: 1, Network: &n}); err != nil {
		t.Fatal(err)
	}
	rg := newRigInDir(t, testDevices(t), dir)
	first := frameLines(rg.frames, 0)
	m := rg.frames.mark()
	rg.stopBridge()
	rg.startBridge()
	got := "# first start: formation\n" + first + "# restart: restore\n" + frameLines(rg.frames, m)
	path := filepath.Join("testdata", "startup.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("startup frames differ from %s (run with -update if intended):\n%s", path, got)
	}
}

func frameLines(l *frameLog, mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, f := range l.frames[mark:] {
		raw, _ := f.Marshal()
		b.WriteString(strings.ToUpper(strings.TrimSpace(spaced(raw))))
		b.WriteString("  # " + describe(f) + "\n")
	}
	return b.String()
}

func spaced(raw []byte) string {
	var b strings.Builder
	for i, c := range raw {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

func describe(f unpi.Frame) string {
	names := map[[2]uint8]string{
		{1, 0x01}: "SYS_PING", {1, 0x02}: "SYS_VERSION", {1, 0x04}: "SYS_GET_EXT_ADDR", {1, 0x07}: "SYS_OSAL_NV_ITEM_INIT",
		{1, 0x13}: "SYS_OSAL_NV_LENGTH", {1, 0x1C}: "SYS_OSAL_NV_READ_EXT", {1, 0x1D}: "SYS_OSAL_NV_WRITE_EXT", {1, 0x00}: "SYS_RESET_REQ",
		{7, 0x00}: "UTIL_GET_DEVICE_INFO", {5, 0x40}: "ZDO_STARTUP_FROM_APP", {5, 0x50}: "ZDO_EXT_NWK_INFO", {5, 0x05}: "ZDO_ACTIVE_EP_REQ",
		{4, 0x00}: "AF_REGISTER", {0x0F, 0x08}: "APP_CNF_BDB_SET_CHANNEL", {0x0F, 0x05}: "APP_CNF_BDB_START_COMMISSIONING",
	}
	if n, ok := names[[2]uint8{uint8(f.Subsystem), f.Cmd}]; ok {
		return n
	}
	return f.String()
}

package zigbee

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// A stick in its CC253x bootloader answers nothing until it gets 0xEF.
func TestBootloaderSkip(t *testing.T) {
	a, b := net.Pipe()
	c := mt.New(a, mt.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		b.Close()
		<-done
	}()
	skipped := make(chan struct{})
	go func() {
		var d unpi.Decoder
		buf := make([]byte, 64)
		inApp := false
		for {
			n, err := b.Read(buf)
			if err != nil {
				return
			}
			if !inApp && bytes.IndexByte(buf[:n], mt.BootloaderSkip) >= 0 {
				inApp = true
				close(skipped)
			}
			d.Write(buf[:n])
			for {
				f, err := d.Next()
				if err != nil {
					break
				}
				if inApp && f.Subsystem == unpi.SYS && f.Cmd == mt.SysPing {
					raw, _ := unpi.Frame{Type: unpi.SRSP, Subsystem: unpi.SYS, Cmd: mt.SysPing, Data: []byte{0x59, 0x06}}.Marshal()
					_, _ = b.Write(raw)
				}
			}
		}
	}()
	co := &coordinator{c: c, log: slog.New(slog.DiscardHandler)}
	start := time.Now()
	if err := co.skipBootloader(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-skipped:
	default:
		t.Fatal("no 0xEF was sent")
	}
	if time.Since(start) < time.Second {
		t.Fatal("the bridge did not wait 1 s after the bootloader skip")
	}
}

// A data directory without the network (a new install, same stick) forms a
// new network with a new key instead of using the stick's old one.
func TestReformWhenStickHoldsAnotherNetwork(t *testing.T) {
	r := newRig(t, testDevices(t))
	old := r.sim.NetworkKey()
	r.stopBridge()
	if err := os.Remove(filepath.Join(r.dir, dbName)); err != nil {
		t.Fatal(err)
	}
	r.startBridge()
	db, err := loadDB(r.dir)
	if err != nil || db.Network == nil {
		t.Fatalf("database: %+v %v", db, err)
	}
	key := r.sim.NetworkKey()
	if bytes.Equal(key, old) || !bytes.Equal(key, db.Network.Key) {
		t.Fatalf("stick key %x, old %x, stored %x", key, old, []byte(db.Network.Key))
	}
}

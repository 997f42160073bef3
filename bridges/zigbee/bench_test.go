package zigbee

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/procstat"
)

// BenchmarkDirectiveToWire measures an on/off command from Execute to the
// AF_DATA_REQUEST bytes written on the serial port ("ns-to-wire"), and the
// whole command (the default response included) as ns/op. The baseline is a
// SYS_PING round trip over the same pty.
func BenchmarkDirectiveToWire(b *testing.B) {
	r := newBenchRig(b)
	b.Run("baseline-ping", func(b *testing.B) {
		link := r.br.currentLink()
		for i := 0; i < b.N; i++ {
			if _, err := link.Request(context.Background(), unpi.SYS, mt.SysPing, nil, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("execute", func(b *testing.B) {
		var toWire atomic.Int64
		var start atomic.Int64
		r.onWrite.Store(func(raw []byte) {
			if len(raw) > 3 && raw[2] == 0x24 && raw[3] == mt.AfDataRequest {
				toWire.Add(time.Now().UnixNano() - start.Load())
			}
		})
		defer r.onWrite.Store(func([]byte) {})
		for i := 0; i < b.N; i++ {
			start.Store(time.Now().UnixNano())
			if _, err := r.br.Execute(context.Background(), model.Request{DeviceID: ieeeHue, Command: model.SetPower(i%2 == 0), Deadline: time.Now().Add(5 * time.Second)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(toWire.Load())/float64(b.N), "ns-to-wire")
	})
}

type benchRig struct {
	*rig
	onWrite atomic.Value
}

func newBenchRig(b *testing.B) *benchRig {
	br := &benchRig{}
	br.onWrite.Store(func([]byte) {})
	r := newRigTB(b, testDevices(b), func(out bool, raw []byte) {
		if out {
			br.onWrite.Load().(func([]byte))(raw)
		}
	})
	br.rig = r
	r.pair(ieeeHue)
	return br
}

// reportFrame builds an AF_INCOMING_MSG carrying an On/Off report from nwk.
func reportFrame(nwk uint16, tsn uint8, on bool) []byte {
	v := int64(0)
	if on {
		v = 1
	}
	p, _ := zcl.AppendAttributes(nil, zcl.Attribute{ID: zcl.AttrOnOff, Value: zcl.U(zcl.TypeBool, uint64(v))})
	z := zcl.Frame{Header: zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ServerToClient, DisableDefaultResponse: true, TSN: tsn, Command: zcl.CmdReportAttributes}, Payload: p}.Marshal()
	d := binary.LittleEndian.AppendUint16(nil, 0)
	d = binary.LittleEndian.AppendUint16(d, zcl.ClusterOnOff)
	d = binary.LittleEndian.AppendUint16(d, nwk)
	d = append(d, 11, 1, 0, 0xC8, 0, 0, 0, 0, 0, tsn, byte(len(z)))
	return append(d, z...)
}

type countEmitter struct {
	recEmitter
	states atomic.Int64
}

func (c *countEmitter) StateChanged(string, model.State, model.Cause) { c.states.Add(1) }

// BenchmarkReports measures attribute reports through the bridge: "handler"
// is the bridge's own work per report (parse AF_INCOMING_MSG and ZCL, fold
// into state, emit) with cpu-ns/report; "baseline-parse" decodes the same
// frames only; "through-pty-1000" drives 1,000 real reports from the
// simulator over the pty per op (sim CPU included in cpu-ns/report).
func BenchmarkReports(b *testing.B) {
	frames := make([][]byte, 1000)
	for i := range frames {
		frames[i] = reportFrame(0x6a01, uint8(i), i%2 == 0)
	}
	b.Run("baseline-parse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m, err := parseIncoming(frames[i%len(frames)])
			if err != nil {
				b.Fatal(err)
			}
			f, _ := zcl.Parse(m.data)
			if _, err := zcl.ParseAttributes(f.Payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handler", func(b *testing.B) {
		br := New()
		br.dataDir = b.TempDir()
		em := &countEmitter{recEmitter: *newRecEmitter()}
		br.em = em
		br.devices[ieeeHue] = &record{IEEE: ieeeHue, NWK: 0x6a01, Interviewed: true, Reachable: true,
			Endpoints: []endpointRecord{{ID: 11, Profile: 0x0104, In: []uint16{zcl.ClusterOnOff}}}}
		br.byNWK[0x6a01] = ieeeHue
		ctx := context.Background()
		b.ReportAllocs()
		c0 := procstat.SelfCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			br.incoming(ctx, frames[i%len(frames)])
		}
		b.StopTimer()
		b.ReportMetric(float64(procstat.SelfCPU()-c0)/float64(b.N), "cpu-ns/report")
		if em.states.Load() != int64(b.N) {
			b.Fatalf("%d state changes for %d reports", em.states.Load(), b.N)
		}
		br.mu.Lock()
		if br.saveTimer != nil {
			br.saveTimer.Stop()
		}
		br.mu.Unlock()
	})
	b.Run("through-pty-1000", func(b *testing.B) {
		r := newBenchRig(b)
		c0 := procstat.SelfCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m := r.em.mark()
			for j := 0; j < 1000; j++ {
				if err := r.sim.Set(ieeeHue, map[string]int64{"onOff": int64(j % 2)}); err != nil {
					b.Fatal(err)
				}
			}
			want := 1000
			if i == 0 {
				want = 999 // the first report may repeat the paired state
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				n := 0
				r.em.mu.Lock()
				for _, ev := range r.em.events[m:] {
					if ev.Kind == model.EventState {
						n++
					}
				}
				r.em.mu.Unlock()
				if n >= want {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d reports arrived", n, want)
				}
				time.Sleep(time.Millisecond)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/report")
		b.ReportMetric(float64(procstat.SelfCPU()-c0)/float64(b.N*1000), "cpu-ns/report")
	})
}

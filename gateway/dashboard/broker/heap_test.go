package broker

import (
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapPeaks samples the Go heap every millisecond until stopped: the peak
// of the heap's objects (live and garbage not yet collected) and of the
// live heap after a collection.
type heapPeaks struct {
	stop    chan struct{}
	done    sync.WaitGroup
	objects uint64
	live    uint64
}

// With a file name, the heap profile is written there each time the live
// peak grows by 1 MiB (the profile is as of the last collection: the peak's).
func watchHeap(profile string) *heapPeaks {
	p := &heapPeaks{stop: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	p.done.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			p.objects = max(p.objects, samples[0].Value.Uint64())
			if live := samples[1].Value.Uint64(); live > p.live {
				if profile != "" && live > p.live+1<<20 {
					if f, err := os.Create(profile); err == nil {
						_ = pprof.Lookup("heap").WriteTo(f, 0)
						f.Close()
					}
				}
				p.live = live
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	})
	return p
}

// end stops the sampling and returns the peaks in MiB.
func (p *heapPeaks) end() (objects, live float64) {
	close(p.stop)
	p.done.Wait()
	return float64(p.objects) / (1 << 20), float64(p.live) / (1 << 20)
}

// BenchmarkSlowReaders: 3 clients subscribed to everything at QoS 1 never
// read their socket while a client publishes 1 MB QoS 1 messages (one per
// op) into a broker with the default limits. It reports the Go heap's peak
// (objects, live after a collection) and the bytes allocated per message;
// with AVSHUB_HEAPPROFILE=file it writes a heap profile at the live peak,
// and with AVSHUB_HEAPPROFILE_END=file one at the end, the slow readers
// still connected (their buffers full).
//
//	go test -run XXX -bench BenchmarkSlowReaders -benchtime 40x ./gateway/dashboard/broker/
func BenchmarkSlowReaders(b *testing.B) {
	br := startBroker(b, Config{})
	for range 3 {
		slowReader(b, br, creds{}, "#", 1)
	}
	pub := connect(b, br, creds{})
	payload := strings.Repeat("p", 1000_000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peaks := watchHeap(os.Getenv("AVSHUB_HEAPPROFILE"))
	b.ResetTimer()
	for range b.N {
		if tok := pub.Publish("attack/slow", 1, false, payload); !tok.WaitTimeout(100*time.Second) || tok.Error() != nil {
			b.Fatalf("publish: %v", tok.Error())
		}
	}
	b.StopTimer()
	objects, live := peaks.end()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(objects, "peak-heap-MiB")
	b.ReportMetric(live, "peak-live-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/msg")
	if f := os.Getenv("AVSHUB_HEAPPROFILE_END"); f != "" {
		runtime.GC()
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// Package hoptrace records when a directive passes each point of its path
// (emulator, hub, bridge), so that the benchmarks can give the latency of each
// hop. It is off, and Mark costs one branch, unless the environment variable
// AVSHUB_HOPTRACE names a directory: only the benchmarks set it. A process
// appends its marks to <dir>/<pid>.hops every 100 ms, one "key stage unixnano"
// line each; Read gathers them.
package hoptrace

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Env is the environment variable that turns tracing on (a directory).
const Env = "AVSHUB_HOPTRACE"

var (
	dir  atomic.Pointer[string]
	mu   sync.Mutex
	buf  []Mark
	once sync.Once
)

// Mark is one point a directive passed.
type Mark struct {
	Key   string // the directive's correlation token, or an alias of it
	Stage string
	At    int64 // Unix nanoseconds (one clock for every process of the machine)
}

func init() {
	if d := os.Getenv(Env); d != "" {
		dir.Store(&d)
	}
}

// On tells whether marks are recorded.
func On() bool { return dir.Load() != nil }

// Start turns tracing on in this process (a benchmark's own emulator),
// writing to d; Start("") turns it off.
func Start(d string) {
	if d == "" {
		dir.Store(nil)
		return
	}
	dir.Store(&d)
}

// At records that key passed stage now (a no-op unless tracing is on).
func At(key, stage string) {
	if dir.Load() == nil || key == "" {
		return
	}
	record(key, stage, time.Now().UnixNano())
}

// AtTime records that key passed stage at t (a no-op unless tracing is on).
func AtTime(key, stage string, t time.Time) {
	if dir.Load() == nil || key == "" {
		return
	}
	record(key, stage, t.UnixNano())
}

func record(key, stage string, t int64) {
	mu.Lock()
	buf = append(buf, Mark{key, stage, t})
	mu.Unlock()
	once.Do(func() { go flusher() })
}

// Alias records that marks under alias belong to key (e.g. the router's
// correlation id of a bridge call to the directive's token).
func Alias(alias, key string) { At(alias, "="+key) }

func flusher() {
	for {
		time.Sleep(100 * time.Millisecond)
		flush()
	}
}

func flush() {
	d := dir.Load()
	if d == nil {
		return
	}
	mu.Lock()
	b := buf
	buf = nil
	mu.Unlock()
	if len(b) == 0 {
		return
	}
	f, err := os.OpenFile(filepath.Join(*d, strconv.Itoa(os.Getpid())+".hops"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	w := bufio.NewWriter(f)
	for _, m := range b {
		fmt.Fprintf(w, "%s %s %d\n", m.Key, m.Stage, m.At)
	}
	_ = w.Flush()
	_ = f.Close()
}

// Read returns the marks of every process in d (this process's included),
// grouped by directive: aliases are resolved to their key; each directive's
// stages map to the first time it passed them.
func Read(d string) (map[string]map[string]int64, error) {
	flush()
	files, err := filepath.Glob(filepath.Join(d, "*.hops"))
	if err != nil {
		return nil, err
	}
	var marks []Mark
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.Fields(l)
			if len(f) != 3 {
				continue
			}
			t, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				continue
			}
			marks = append(marks, Mark{f[0], f[1], t})
		}
	}
	alias := map[string]string{}
	for _, m := range marks {
		if k, ok := strings.CutPrefix(m.Stage, "="); ok {
			alias[m.Key] = k
		}
	}
	out := map[string]map[string]int64{}
	for _, m := range marks {
		if strings.HasPrefix(m.Stage, "=") {
			continue
		}
		k := m.Key
		if a, ok := alias[k]; ok {
			k = a
		}
		st := out[k]
		if st == nil {
			st = map[string]int64{}
			out[k] = st
		}
		if t, ok := st[m.Stage]; !ok || m.At < t {
			st[m.Stage] = m.At
		}
	}
	return out, nil
}

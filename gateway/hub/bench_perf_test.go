package hub

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// perfRecord profiles the product's processes (pids: the hub and its bridge
// plugins) during a benchmark's timed loop with Linux `perf record`, when
// AVSHUB_BENCH_PERF names a directory: the profile goes to
// <dir>/<benchmark>.perf.data (read it with `perf report -i FILE --no-children
// --sort comm,sym`). AVSHUB_BENCH_PERF_EVENTS, a comma-separated list of
// perf events (e.g. syscalls:sys_enter_futex,sched:sched_switch), records
// those events with their call stacks instead of sampling the CPU, to find
// what makes a system call or a context switch. The benchmark processes are separate executables, so
// `go test -cpuprofile` sees only the emulator; this is their CPU profile.
// The returned function stops the recording (a no-op when not enabled).
func perfRecord(b *testing.B, pids ...int) (stop func()) {
	dir := os.Getenv("AVSHUB_BENCH_PERF")
	if dir == "" || len(pids) == 0 {
		return func() {}
	}
	ps := make([]string, len(pids))
	for i, p := range pids {
		ps[i] = strconv.Itoa(p)
	}
	out := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(b.Name())+".perf.data")
	args := []string{"record", "-q", "-g", "-o", out, "-p", strings.Join(ps, ",")}
	if evs := os.Getenv("AVSHUB_BENCH_PERF_EVENTS"); evs != "" {
		for _, ev := range strings.Split(evs, ",") {
			args = append(args, "-e", ev)
		}
	} else {
		args = append(args, "-F", "2000")
	}
	cmd := exec.Command("perf", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Logf("perf record: %v", err)
		return func() {}
	}
	time.Sleep(300 * time.Millisecond) // perf attaches
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait() // perf ends with the signal's status
		fmt.Fprintf(os.Stderr, "perf profile of %s: %s\n", b.Name(), out)
	}
}

// perfEvents are the kernel events perfStat counts: the system calls the
// directive path makes (socket and pty reads and writes, futex wake-ups
// between threads, netpoller waits, sysmon's sleeps) and the context switches.
var perfEvents = []struct{ event, metric string }{
	{"syscalls:sys_enter_write", "writes"},
	{"syscalls:sys_enter_read", "reads"},
	{"syscalls:sys_enter_futex", "futex"},
	{"syscalls:sys_enter_epoll_pwait", "epoll"},
	{"syscalls:sys_enter_nanosleep", "nanosleep"},
	{"context-switches", "ctxsw"},
}

// perfStat counts perfEvents in each named group of processes (e.g. "hub",
// "bridges")
// during a benchmark's timed loop, with `perf stat`, when AVSHUB_BENCH_PERFSTAT
// is set; stop(n) reports each count per operation as "<name>-<metric>/op".
// System call and context-switch counts do not depend on how busy the
// machine is the way times do, so they show a removed hop or flush even on
// a shared machine.
func perfStat(b *testing.B, procs map[string][]int) (stop func(n int)) {
	if os.Getenv("AVSHUB_BENCH_PERFSTAT") == "" || len(procs) == 0 {
		return func(int) {}
	}
	var evs []string
	for _, e := range perfEvents {
		evs = append(evs, "-e", e.event)
	}
	type run struct {
		cmd *exec.Cmd
		out string
	}
	runs := map[string]run{}
	for name, pids := range procs {
		if len(pids) == 0 {
			continue
		}
		ps := make([]string, len(pids))
		for i, p := range pids {
			ps[i] = strconv.Itoa(p)
		}
		out := filepath.Join(b.TempDir(), name+".stat")
		cmd := exec.Command("perf", append(append([]string{"stat", "-x", ",", "-o", out}, evs...), "-p", strings.Join(ps, ","))...)
		if err := cmd.Start(); err != nil {
			b.Logf("perf stat: %v", err)
			continue
		}
		runs[name] = run{cmd, out}
	}
	time.Sleep(300 * time.Millisecond) // perf attaches
	return func(n int) {
		for name, r := range runs {
			_ = r.cmd.Process.Signal(syscall.SIGINT)
			_ = r.cmd.Wait()
			data, _ := os.ReadFile(r.out)
			for _, l := range strings.Split(string(data), "\n") {
				f := strings.Split(l, ",")
				if len(f) < 3 {
					continue
				}
				v, err := strconv.ParseFloat(f[0], 64)
				if err != nil {
					continue
				}
				for _, e := range perfEvents {
					if f[2] == e.event {
						b.ReportMetric(v/float64(n), name+"-"+e.metric+"/op")
					}
				}
			}
		}
	}
}

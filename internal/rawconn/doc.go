// Package rawconn wraps a socket so that its reads and writes do not enter
// the Go runtime's system-call bookkeeping.
//
// A read or write on a net.Conn goes through syscall.Syscall, whose
// entersyscall wakes the runtime's monitor thread (sysmon) from its deep
// sleep whenever the process had gone idle; sysmon then polls every 20 µs
// (a nanosleep and a context switch each) until it sees every P idle again.
// For a process that wakes for a few short bursts per request, like the hub
// on the directive path, that is a futex wake-up and several sleeps and
// context switches per burst. The sockets are non-blocking (the runtime's
// poller waits for them), so a read or write never blocks in the kernel:
// there is nothing for sysmon to retake. Conn makes them with
// syscall.RawSyscall inside the poller's syscall.RawConn, which waits for
// readiness and honours deadlines as before.
package rawconn

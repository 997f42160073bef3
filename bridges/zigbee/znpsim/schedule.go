package znpsim

import (
	"container/heap"
	"sync"
	"time"
)

// schedule runs the simulator's delayed actions (radio latency, join delays, a
// lock's motor) in the order of their due times, and actions due at the same
// moment in the order they were scheduled: two frames the host sends to one
// device reach it in that order, as a real coordinator's MAC queue delivers
// them, whatever the Go scheduler does with timers.
type schedule struct {
	mu   sync.Mutex
	q    delayedQueue
	seq  uint64
	wake chan struct{}
}

type delayed struct {
	due time.Time
	seq uint64
	fn  func()
}

type delayedQueue []delayed

func (q delayedQueue) Len() int { return len(q) }
func (q delayedQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q delayedQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *delayedQueue) Push(x any)   { *q = append(*q, x.(delayed)) }
func (q *delayedQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// after runs fn with s.mu held once d has passed, unless the simulator closes.
func (s *Sim) after(d time.Duration, fn func()) {
	sc := &s.sched
	sc.mu.Lock()
	sc.seq++
	heap.Push(&sc.q, delayed{due: time.Now().Add(d), seq: sc.seq, fn: fn})
	sc.mu.Unlock()
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// runSchedule runs due actions until the simulator closes.
func (s *Sim) runSchedule() {
	defer s.wg.Done()
	sc := &s.sched
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		sc.mu.Lock()
		var next *delayed
		if sc.q.Len() > 0 && !sc.q[0].due.After(time.Now()) {
			d := heap.Pop(&sc.q).(delayed)
			next = &d
		}
		wait := time.Hour
		if next == nil && sc.q.Len() > 0 {
			wait = time.Until(sc.q[0].due)
		}
		sc.mu.Unlock()
		if next != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.mu.Lock()
			next.fn()
			s.mu.Unlock()
			continue
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-sc.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-s.ctx.Done():
			return
		}
	}
}

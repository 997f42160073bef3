package mqtt

import "sync"

type itemKind int

const (
	itemMessage itemKind = iota
	itemConnected
	itemLost
	itemConnectFailed
)

// item is one thing paho reported; its callbacks only ever push items.
type item struct {
	kind     itemKind
	topic    string
	payload  []byte
	retained bool
	err      error
}

// queue is the hand-off between paho's callbacks (which must never block) and
// the bridge's worker. It is unbounded up to max items; beyond that messages
// are dropped (connection events never are) and the drop is reported once.
type queue struct {
	mu      sync.Mutex
	items   []item
	max     int
	dropped int
	notify  chan struct{}
}

func newQueue(max int) *queue { return &queue{max: max, notify: make(chan struct{}, 1)} }

// push adds it and reports whether it was dropped.
func (q *queue) push(it item) (dropped bool) {
	q.mu.Lock()
	if it.kind == itemMessage && len(q.items) >= q.max {
		q.dropped++
		q.mu.Unlock()
		return true
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return false
}

// drain takes every queued item and how many were dropped since the last drain.
func (q *queue) drain() ([]item, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items, d := q.items, q.dropped
	q.items, q.dropped = nil, 0
	return items, d
}

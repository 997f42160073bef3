// Package relaysim is a Shelly-style HTTP relay box for tests: GET /relay/N
// answers {"ison":bool}, GET /relay/N?turn=on|off switches relay N first. It
// follows the Shelly Gen1 relay API's shape (the fields a bridge reads).
package relaysim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Box is a running relay box.
type Box struct {
	*httptest.Server
	mu    sync.Mutex
	on    []bool
	calls int
}

// New starts a box with n relays, all off, on a loopback port.
func New(n int) *Box {
	b := &Box{on: make([]bool, n)}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	return b
}

func (b *Box) serve(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/relay/"))
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if !strings.HasPrefix(r.URL.Path, "/relay/") || err != nil || idx < 0 || idx >= len(b.on) {
		http.Error(w, "no such relay", http.StatusNotFound)
		return
	}
	switch r.URL.Query().Get("turn") {
	case "on":
		b.on[idx] = true
	case "off":
		b.on[idx] = false
	case "":
	default:
		http.Error(w, "turn must be on or off", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ison": b.on[idx], "has_timer": false, "source": "http"})
}

// Set switches relay i as a person pressing its button would.
func (b *Box) Set(i int, on bool) {
	b.mu.Lock()
	b.on[i] = on
	b.mu.Unlock()
}

// On reports relay i's state.
func (b *Box) On(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.on[i]
}

// Calls counts the requests served.
func (b *Box) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

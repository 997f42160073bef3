package discovery

import (
	"context"
	"encoding/json"
	"fmt"
)

// Snapshot returns every endpoint that should be published, rendered (the
// static endpoints first, then the registry's by id, within MaxEndpoints):
// the payload of a Smart Home skill's Alexa.Discovery Discover.Response,
// which tells Alexa the whole set at once. Record it with Answered once it
// was handed to Alexa.
func (m *Manager) Snapshot(ctx context.Context) ([]json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want := m.desired()
	out := make([]json.RawMessage, len(want))
	for i, r := range want {
		out[i] = r.json
	}
	return out, nil
}

// Answered records that Alexa now knows exactly endpoints (a Discover.Response
// replaced its whole list): each is published as given, every other endpoint
// Alexa was told of before is forgotten, so Pending reports only what changes
// after this answer. One atomic store write.
func (m *Manager) Answered(ctx context.Context, endpoints []json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	published, err := m.published()
	if err != nil {
		return err
	}
	put := map[string][]byte{}
	for i, raw := range endpoints {
		var ref struct {
			EndpointID string `json:"endpointId"`
		}
		if err := json.Unmarshal(raw, &ref); err != nil || ref.EndpointID == "" {
			return fmt.Errorf("discovery: answered endpoint %d has no endpointId", i)
		}
		m.mu.Lock()
		b := m.bridgeOf[ref.EndpointID]
		m.mu.Unlock()
		rec, _ := json.Marshal(publishedRecord{SHA256: Hash(compact(raw)), Bridge: b})
		put[ref.EndpointID] = rec
	}
	var del []string
	for id := range published {
		if _, ok := put[id]; !ok {
			del = append(del, id)
		}
	}
	if err := m.opts.Store.Update(PublishedBucket, put, del); err != nil {
		return fmt.Errorf("discovery: record the Discover answer: %w", err)
	}
	m.signal() // what changed meanwhile is reported from this new record
	return nil
}

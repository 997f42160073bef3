package mqtt

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// fullIndex is the topic index built from scratch over every entity: what
// the index kept entity by entity must always equal.
func fullIndex(h *haSource) map[string][]string {
	out := map[string][]string{}
	for _, e := range h.entities {
		for _, s := range e.subs {
			out[s.topic] = append(out[s.topic], fmt.Sprintf("%s state %s", e.key, s.topic))
		}
		for i, a := range e.avail.entries {
			out[a.topic] = append(out[a.topic], fmt.Sprintf("%s avail %d", e.key, i))
		}
	}
	for _, refs := range out {
		slices.Sort(refs)
	}
	return out
}

func keptIndex(h *haSource) map[string][]string {
	out := map[string][]string{}
	for t, refs := range h.index {
		for _, r := range refs {
			if r.avail >= 0 {
				out[t] = append(out[t], fmt.Sprintf("%s avail %d", r.key, r.avail))
			} else {
				out[t] = append(out[t], fmt.Sprintf("%s state %s", r.key, r.sub.topic))
			}
		}
		slices.Sort(out[t])
	}
	return out
}

// TestHAIndexMatchesFullRebuild: random discovery configs (entities sharing
// state and availability topics, replaced with other topics, made
// unsupported, removed one by one and as device discovery) keep the topic
// index equal to one rebuilt over every entity, and a state message reaches
// exactly the entities listening to its topic.
func TestHAIndexMatchesFullRebuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 3))
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	topic := func() string { return fmt.Sprintf("home/t%d", rng.IntN(6)) }
	light := func(name string) string {
		return fmt.Sprintf(`{"name":%q,"schema":"json","cmd_t":"%s/set","stat_t":%q,"avty_t":%q,"uniq_id":%q}`,
			name, name, topic(), topic(), name)
	}
	sensor := func(name string) string {
		return fmt.Sprintf(`{"name":%q,"stat_t":%q,"device_class":"temperature","unit_of_measurement":"°C","uniq_id":%q,"availability":[{"topic":%q},{"topic":%q}]}`,
			name, topic(), name, topic(), topic())
	}
	for step := range 2000 {
		id := fmt.Sprintf("e%d", rng.IntN(20))
		var cfgTopic, payload string
		switch k := rng.IntN(10); {
		case k < 4:
			cfgTopic, payload = "homeassistant/light/"+id+"/config", light(id)
		case k < 7:
			cfgTopic, payload = "homeassistant/sensor/"+id+"/config", sensor(id)
		case k < 8:
			cfgTopic, payload = "homeassistant/light/"+id+"/config", `{"name":"broken","schema":"json"}` // no command topic: unsupported
		case k < 9:
			cfgTopic, payload = "homeassistant/"+[]string{"light", "sensor"}[rng.IntN(2)]+"/"+id+"/config", "" // removed
		default:
			cfgTopic = "homeassistant/device/d" + id + "/config"
			payload = fmt.Sprintf(`{"dev":{"ids":["d%s"],"name":"D"},"o":{"name":"x"},"cmps":{"a":{"p":"sensor","device_class":"humidity","unit_of_measurement":"%%","stat_t":%q,"uniq_id":"d%sa"},"b":{"p":"light","schema":"json","cmd_t":"x/set","stat_t":%q,"uniq_id":"d%sb"}}}`,
				id, topic(), id, topic(), id)
			if rng.IntN(3) == 0 {
				payload = ""
			}
		}
		h.handle(cfgTopic, []byte(payload))
		want, got := fullIndex(h), keptIndex(h)
		if !maps.EqualFunc(want, got, slices.Equal) {
			t.Fatalf("step %d (%s %s): index\n%v\nwant\n%v", step, cfgTopic, payload, got, want)
		}
	}
	if len(h.entities) == 0 || len(h.index) == 0 {
		t.Fatal("the sequence left no entity: it tested nothing")
	}
	// A message on a topic updates exactly its listeners' states.
	for tp, refs := range fullIndex(h) {
		// A sensor takes the number, a JSON-schema light the object.
		_, updated := h.handle(tp, []byte(`21`))
		_, u2 := h.handle(tp, []byte(`{"state":"ON"}`))
		updated = append(updated, u2...)
		var listeners []string
		for _, r := range refs {
			if k, _, _ := strings.Cut(r, " "); !slices.Contains(listeners, k) && !strings.Contains(r, " avail ") {
				listeners = append(listeners, k)
			}
		}
		slices.Sort(listeners)
		slices.Sort(updated)
		if !slices.Equal(slices.Compact(updated), listeners) {
			t.Errorf("message on %s updated %v, want %v", tp, updated, listeners)
		}
	}
}

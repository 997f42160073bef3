package dashboard

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// binarySensor is a read-only detected/clear trait on Home Assistant: a
// binary_sensor with its device_class, its state key holding ON/OFF.
type binarySensor struct {
	key, class, name string
	diagnostic       bool
	has              func(model.Traits) bool
	get              func(model.State) *bool
}

func (b binarySensor) component(c *components) {
	if !b.has(c.ep.Traits) {
		return
	}
	cm := map[string]any{"p": "binary_sensor", "unique_id": c.uid(b.key), "name": c.name(b.name), "device_class": b.class,
		"state_topic": c.st, "value_template": fmt.Sprintf("{{ value_json.%s }}", b.key), "payload_on": "ON", "payload_off": "OFF"}
	if b.diagnostic {
		cm["entity_category"] = "diagnostic"
	}
	c.out[b.key] = cm
}

func (b binarySensor) state(out map[string]any, n *node) {
	if v := b.get(n.entry.State); v != nil {
		out[b.key] = onOff(*v)
	}
}

// trait is b as a read-only trait.
func (b binarySensor) trait() haTrait { return haTrait{components: b.component, state: b.state} }

// sensor is a read-only reading on Home Assistant: a sensor with its
// device_class, unit, state_class and display precision.
type sensor struct {
	key, class, unit, stateClass, name string
	precision                          int
	diagnostic                         bool
	has                                func(model.Traits) bool
	get                                func(model.State) (float64, bool)
}

func (s sensor) component(c *components) {
	if !s.has(c.ep.Traits) {
		return
	}
	cm := map[string]any{"p": "sensor", "unique_id": c.uid(s.key), "name": c.name(s.name), "device_class": s.class,
		"state_topic": c.st, "value_template": fmt.Sprintf("{{ value_json.%s }}", s.key),
		"unit_of_measurement": s.unit, "state_class": s.stateClass, "suggested_display_precision": s.precision}
	if s.diagnostic {
		cm["entity_category"] = "diagnostic"
	}
	c.out[s.key] = cm
}

func (s sensor) state(out map[string]any, n *node) {
	if v, ok := s.get(n.entry.State); ok {
		out[s.key] = v
	}
}

// trait is s as a read-only trait.
func (s sensor) trait() haTrait { return haTrait{components: s.component, state: s.state} }

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

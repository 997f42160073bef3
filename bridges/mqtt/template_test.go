package mqtt

import (
	"errors"
	"testing"
)

func TestTemplates(t *testing.T) {
	payload := []byte(`{"state":"ON","POWER":"on","DS18B20":{"Temperature":21.44},"list":[{"v":3}],"n":"7.26","flag":true}`)
	tests := []struct {
		tpl, want string
		undefined bool
	}{
		{"", string(payload), false},
		{"{{ value_json.state }}", "ON", false},
		{"{{value_json.state}}", "ON", false},
		{"{{ value_json['state'] }}", "ON", false},
		{`{{ value_json["DS18B20"]["Temperature"] }}`, "21.44", false},
		{"{{value_json['DS18B20'].Temperature}}", "21.44", false},
		{"{{ value_json.list[0].v }}", "3", false},
		{"{{ value_json.POWER | upper }}", "ON", false},
		{"{{ value_json.n | float | round(1) }}", "7.3", false},
		{"{{ value_json.n | int }}", "7", false},
		{"{{ value_json.flag }}", "True", false},
		{"{{ value_json.missing | default('off') }}", "off", false},
		{"{{ value_json.missing }}", "", true},
		{"state={{ value_json.state }}!", "state=ON!", false},
	}
	for _, tc := range tests {
		tp, err := parseTemplate(tc.tpl)
		if err != nil {
			t.Errorf("parse %q: %v", tc.tpl, err)
			continue
		}
		got, err := tp.render(payload)
		if tc.undefined {
			if !errors.Is(err, errUndefined) {
				t.Errorf("%q: err = %v, want undefined", tc.tpl, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.tpl, got, err, tc.want)
		}
	}
	if got, err := mustTemplate(t, `{"target": {{ value }}}`).renderValue("21.5"); err != nil || got != `{"target": 21.5}` {
		t.Errorf("command template = %q, %v", got, err)
	}
	if got, _ := mustTemplate(t, "{{ value }}").render([]byte("plain")); got != "plain" {
		t.Errorf("{{ value }} = %q", got)
	}
}

func mustTemplate(t *testing.T, s string) *template {
	t.Helper()
	tp, err := parseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// Anything beyond the common forms is refused at parse time, with a reason.
func TestTemplatesRefused(t *testing.T) {
	for _, s := range []string{
		"{% if value == '1' %}ON{% endif %}",
		"{{ value_json.Color.split(',')[0] }}",
		"{{ value_json.a + 1 }}",
		"{{ states('sensor.x') }}",
		"{{ value | regex_replace('a','b') }}",
		"{{ value_json.a ",
		"{# comment #}",
	} {
		if _, err := parseTemplate(s); err == nil {
			t.Errorf("%q was accepted", s)
		}
	}
}

func TestQueueDropsOnlyMessagesBeyondLimit(t *testing.T) {
	q := newQueue(2)
	for i := 0; i < 4; i++ {
		q.push(item{kind: itemMessage})
	}
	q.push(item{kind: itemConnected})
	items, dropped := q.drain()
	if len(items) != 3 || dropped != 2 || items[2].kind != itemConnected {
		t.Errorf("items %d dropped %d", len(items), dropped)
	}
}

// availability_mode all, any and latest over two availability topics.
func TestAvailabilityModes(t *testing.T) {
	cfg := func(mode string) []byte {
		return []byte(`{"cmd_t":"s/set","uniq_id":"s","avty_mode":"` + mode + `","avty":[{"t":"a/1"},{"t":"a/2","pl_avail":"up","pl_not_avail":"down","val_tpl":"{{ value_json.s }}"}]}`)
	}
	steps := []struct{ topic, payload string }{{"a/1", "online"}, {"a/2", `{"s":"down"}`}, {"a/2", `{"s":"up"}`}, {"a/1", "offline"}}
	want := map[string][]bool{
		"all":    {false, false, true, false},
		"any":    {true, true, true, true},
		"latest": {true, false, true, false},
	}
	for mode, exp := range want {
		h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
		h.handle("homeassistant/switch/s/config", cfg(mode))
		if us := h.units(); len(us) != 1 || us[0].dev.Reachable {
			t.Fatalf("%s: before any availability message: %d units, reachable %v", mode, len(us), len(us) == 1 && us[0].dev.Reachable)
		}
		for i, s := range steps {
			h.handle(s.topic, []byte(s.payload))
			if got := h.units()[0].dev.Reachable; got != exp[i] {
				t.Errorf("%s after %s=%s: reachable %t, want %t", mode, s.topic, s.payload, got, exp[i])
			}
		}
	}
}

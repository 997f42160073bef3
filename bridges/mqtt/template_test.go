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
		// the forms zigbee2mqtt's discovery uses (switches of booleans, covers)
		{`{% if value_json["flag"] %}true{% else %}false{% endif %}`, "true", false},
		{`{% if value_json["missing"] %}true{% else %}false{% endif %}`, "false", false},
		{`{% if "state" in value_json and value_json["state"] == "ON" %}on{% elif "n" in value_json %}n{% else %}x{% endif %}`, "on", false},
		{`{% if "nope" in value_json and value_json["nope"] == 1 %}a{% elif value_json.list[0].v > 2 %}b{% endif %}`, "b", false},
		{`{% if not value_json.flag or value_json.n | float >= 7.26 %}ge{% endif %}`, "ge", false},
		{`{% if value_json.missing is defined %}d{% elif value_json.state is not defined %}n{% else %}{{ value_json.state | lower }}{% endif %}`, "on", false},
		{`{% if value_json.flag == 1 and value_json.state != "OFF" and (value_json.n < "8") %}yes{% endif %}`, "yes", false},
		{`{% if value_json.missing == 1 %}a{% endif %}`, "", true},
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
	// zigbee2mqtt's siren: the command's variables are undefined when the
	// command sets none (Home Assistant's siren.turn_on without options).
	siren := `{"warning": {"mode": "{{ tone | default('emergency') }}", "level": "{% if volume_level is defined %}{% if volume_level | float <= 0.25 %}low{% elif volume_level | float <= 0.5 %}medium{% else %}very_high{% endif %}{% else %}medium{% endif %}", "duration": {{ duration | default(10) }}}}`
	if got, err := mustTemplate(t, siren).renderValue("ON"); err != nil || got != `{"warning": {"mode": "emergency", "level": "medium", "duration": 10}}` {
		t.Errorf("siren command template = %q, %v", got, err)
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
		"{{ x }}",
		"{%}", // once a crash: the %} overlapped the {%
		"{{}",
		"{% set x %}{{ x }}",
		"{% set x == 1 %}",
		"{% set value_json = 1 %}",
		"{% if value %}{% set x = 1 %}{% endif %}",
		"{% set x = value_json.a + 1 %}",
		"{% set x = {1: 'a'} %}",
		"{% set x = {'a': value} %}",
		"{% set x = ['a', value] %}",
		"{% set x = {'a': 'b' %}",
		"{% set x = {'a' 'b'} %}",
		"{{ value if value }}",
		"{{ value_json.a.items() }}",
		"{% for x in value_json %}{{ x }}{% endfor %}",
		"{%- if value %}x{% endif %}",
		"{% if value %}x",
		"{% if value %}x{% else %}y{% elif value %}z{% endif %}",
		"{% endif %}",
		"{{ values[value] if value in values.keys() else 'off' }}",
		"{% if value is number %}x{% endif %}",
		"{% if value is not %}x{% endif %}",
		"{{ states.sensor }}",
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

// property names the one value_json key a state template reads plainly:
// the zigbee2mqtt source's and the Home Assistant source's judgement of a
// switch as a setting depends on it.
func TestTemplateProperty(t *testing.T) {
	for tpl, want := range map[string]string{
		`{{ value_json.state }}`:                                                   "state",
		`{{ value_json["child_lock"] | lower }}`:                                   "child_lock",
		`{% if value_json["power_outage_memory"] %}true{% else %}false{% endif %}`: "power_outage_memory",
		`{{ value_json.a.b }}`:                                                     "",
		`{{ value }}`:                                                              "",
		`{% if value_json.a %}{{ value_json.b }}{% endif %}`:                       "",
		`{% if "position" in value_json and value_json["position"] == 0 %}CLOSE{% endif %}`: "",
	} {
		if got := mustTemplate(t, tpl).property(); got != want {
			t.Errorf("property of %q = %q, want %q", tpl, got, want)
		}
	}
}

// zigbee2mqtt's thermostat mode templates (Bosch BTH-RA): {% set %} of a
// dict and of value, a lookup by an expression, .keys() and the inline if;
// and a list literal in a condition (WT-A03E's mode state).
func TestTemplateSetDictsAndInlineIf(t *testing.T) {
	state := `{% set values = {'schedule':'auto','manual':'heat','pause':'off'} %}{% set value = value_json.operating_mode %}{{ values[value] if value in values.keys() else 'off' }}`
	for _, tc := range []struct {
		payload, want string
		undefined     bool
	}{
		{`{"operating_mode":"manual"}`, "heat", false},
		{`{"operating_mode":"schedule","local_temperature":20}`, "auto", false},
		{`{"operating_mode":"boost"}`, "off", false},
		{`{"local_temperature":20}`, "", true}, // no mode in the message: the state stays
	} {
		got, err := mustTemplate(t, state).render([]byte(tc.payload))
		switch {
		case tc.undefined && !errors.Is(err, errUndefined):
			t.Errorf("%s: %q, %v; want undefined", tc.payload, got, err)
		case !tc.undefined && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.payload, got, err, tc.want)
		}
	}
	cmd := `{% set values = { 'auto':'schedule','heat':'manual','off':'pause'} %}{"operating_mode": "{{ values[value] if value in values.keys() else 'pause' }}"}`
	for v, want := range map[string]string{"heat": `{"operating_mode": "manual"}`, "auto": `{"operating_mode": "schedule"}`, "cool": `{"operating_mode": "pause"}`} {
		if got, err := mustTemplate(t, cmd).renderValue(v); err != nil || got != want {
			t.Errorf("command %s: %q, %v; want %q", v, got, err, want)
		}
	}
	cur := `{% if value_json is defined and value_json.local_temperature is defined and value_json.local_temperature is not none %}{{ value_json.local_temperature }}{% else %}None{% endif %}`
	for payload, want := range map[string]string{`{"local_temperature":21.5}`: "21.5", `{"local_temperature":null}`: "None", `{}`: "None"} {
		if got, err := mustTemplate(t, cur).render([]byte(payload)); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", payload, got, err, want)
		}
	}
	if got, err := mustTemplate(t, `{% if value_json.x is none %}n{% elif value_json.missing is not none %}u{% endif %}`).render([]byte(`{"x":1}`)); err != nil || got != "u" {
		t.Errorf("is none: %q, %v; want u (undefined is not none)", got, err)
	}
	list := `{% if value_json.system_mode is defined and value_json.system_mode in ['off', 'heat', 'auto'] %}{{ value_json.system_mode }}{% else %}off{% endif %}`
	for payload, want := range map[string]string{`{"system_mode":"heat"}`: "heat", `{"system_mode":"cool"}`: "off", `{}`: "off"} {
		if got, err := mustTemplate(t, list).render([]byte(payload)); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", payload, got, err, want)
		}
	}
}

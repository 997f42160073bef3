package discovery

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/avshub/avshub/discovery/model"
)

// SettingsBucket is the store bucket of what people set on endpoints (id →
// Settings JSON). Settings outlive the endpoint: a device paired again gets
// its name back.
const SettingsBucket = "discovery.settings"

// MaxAreaLen bounds an area's name.
const MaxAreaLen = 64

// Settings are what a person set on the hub for one endpoint.
type Settings struct {
	// Name replaces the bridge's friendly name ("" keeps the bridge's).
	Name string `json:"name,omitempty"`
	// Area is the room or area the device is in ("" for none); dashboards get it
	// as Home Assistant's suggested_area.
	Area string `json:"area,omitempty"`
	// HiddenFromAlexa keeps the endpoint out of Alexa's discovery (deleted from
	// Alexa when it was there) without removing the device.
	HiddenFromAlexa bool `json:"hiddenFromAlexa,omitempty"`
	// HiddenFromDashboards keeps the endpoint off MQTT (its discovery config is
	// cleared) without removing the device.
	HiddenFromDashboards bool `json:"hiddenFromDashboards,omitempty"`
}

// SettingsPatch changes some settings; nil fields are left as they are.
type SettingsPatch struct {
	Name                 *string `json:"name,omitempty"`
	Area                 *string `json:"area,omitempty"`
	HiddenFromAlexa      *bool   `json:"hiddenFromAlexa,omitempty"`
	HiddenFromDashboards *bool   `json:"hiddenFromDashboards,omitempty"`
}

// apply returns s changed by p, or an error naming the bad field.
func (p SettingsPatch) apply(s Settings) (Settings, error) {
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n != "" {
			if err := model.ValidateFriendlyName(n); err != nil {
				return s, &model.Error{Kind: model.ErrInvalidValue, Message: "name: " + err.Error()}
			}
			if strings.ContainsFunc(n, func(r rune) bool {
				return r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
			}) {
				return s, &model.Error{Kind: model.ErrInvalidValue, Message: "name: control characters are not allowed"}
			}
		}
		s.Name = n
	}
	if p.Area != nil {
		a := strings.TrimSpace(*p.Area)
		if !utf8.ValidString(a) || utf8.RuneCountInString(a) > MaxAreaLen || strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return s, &model.Error{Kind: model.ErrInvalidValue, Message: fmt.Sprintf("area: use up to %d printable characters", MaxAreaLen)}
		}
		s.Area = a
	}
	if p.HiddenFromAlexa != nil {
		s.HiddenFromAlexa = *p.HiddenFromAlexa
	}
	if p.HiddenFromDashboards != nil {
		s.HiddenFromDashboards = *p.HiddenFromDashboards
	}
	return s, nil
}

// loadSettings reads the stored settings; r.mu need not be held (construction).
func (r *Registry) loadSettings() {
	all, err := r.store.List(SettingsBucket)
	if err != nil {
		r.log.Warn("discovery: cannot load endpoint settings (names, areas, hidden); using none", "err", err)
		return
	}
	for id, raw := range all {
		var s Settings
		if err := json.Unmarshal(raw, &s); err != nil {
			r.log.Warn("discovery: skipping stored settings that do not parse", "id", id, "err", err)
			continue
		}
		r.settings[id] = s
	}
}

// Settings returns what a person set on endpoint id.
func (r *Registry) Settings(id string) Settings {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.settings[id]
}

// Configure changes the settings of endpoint id, persists them, and returns
// the changes it caused (a ChangeUpdated carrying the new name and settings,
// which the Alexa discovery manager and the dashboards act on). The endpoint
// must exist. An error is a *Error (ErrInvalidValue, or ErrNotSupported for
// an unknown endpoint).
func (r *Registry) Configure(id string, p SettingsPatch) ([]Change, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[id]
	if !ok {
		return nil, &model.Error{Kind: model.ErrNotSupported, Message: fmt.Sprintf("no endpoint %q", id)}
	}
	next, err := p.apply(r.settings[id])
	if err != nil {
		return nil, err
	}
	if next == r.settings[id] {
		return nil, nil
	}
	if r.store != nil {
		put, del := map[string][]byte{}, []string(nil)
		if next == (Settings{}) {
			del = []string{id}
		} else {
			raw, _ := json.Marshal(next)
			put[id] = raw
		}
		if err := r.store.Update(SettingsBucket, put, del); err != nil {
			return nil, fmt.Errorf("discovery: saving the settings of %s: %w", id, err)
		}
	}
	if next == (Settings{}) {
		delete(r.settings, id)
	} else {
		r.settings[id] = next
	}
	e.Settings = next
	e.Updated = r.now()
	changes := r.dedupe(nil)
	found := false
	for i := range changes {
		if changes[i].Entry.Endpoint.ID == id {
			changes[i].Entry.Settings = next
			found = true
		}
	}
	if !found { // the name did not change: the settings did
		changes = append(changes, Change{Kind: ChangeUpdated, Entry: e.copy()})
	}
	r.publish(changes)
	return changes, nil
}

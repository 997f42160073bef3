package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// directive is what the demo asks the emulator to send, as Alexa would.
type directive struct {
	Namespace  string         `json:"namespace"`
	Name       string         `json:"name"`
	EndpointID string         `json:"endpointId"`
	Instance   string         `json:"instance,omitempty"`
	Payload    map[string]any `json:"payload"`
}

// event is one event the emulator received, as its admin API shows it.
type event struct {
	Context json.RawMessage `json:"context"`
	Event   struct {
		Header struct {
			Namespace        string `json:"namespace"`
			Name             string `json:"name"`
			Instance         string `json:"instance"`
			CorrelationToken string `json:"correlationToken"`
		} `json:"header"`
		Endpoint *struct {
			EndpointID string `json:"endpointId"`
		} `json:"endpoint"`
		Payload json.RawMessage `json:"payload"`
	} `json:"event"`
}

// property is one context or change property.
type property struct {
	Namespace string          `json:"namespace"`
	Instance  string          `json:"instance"`
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
}

// ask sends a directive through the emulator and waits for the events that
// answer it (for a deferred one: the DeferredResponse and the final answer).
func (d *demo) ask(ctx context.Context, utterance string, dir directive) ([]event, error) {
	if dir.Payload == nil {
		dir.Payload = map[string]any{}
	}
	d.say("  \"Alexa, %s\"", utterance)
	d.say("    → %s.%s%s %s", dir.Namespace, dir.Name, instanceTag(dir.Instance), compactJSON(dir.Payload))
	var res struct {
		Events   []event `json:"events"`
		Complete bool    `json:"complete"`
	}
	if err := call(ctx, "POST", d.adminURL+"/sim/directive?wait=25s", dir, &res); err != nil {
		return nil, err
	}
	evs := res.Events
	if len(evs) == 0 || !res.Complete {
		return nil, fmt.Errorf("no (complete) answer to %s.%s within 25 s", dir.Namespace, dir.Name)
	}
	for _, e := range evs {
		d.say("    ← %s", describe(e))
	}
	return evs, nil
}

func instanceTag(inst string) string {
	if inst == "" {
		return ""
	}
	return "[" + inst + "]"
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	if string(b) == "{}" {
		return ""
	}
	return string(b)
}

// describe renders an event for the transcript.
func describe(e event) string {
	h := e.Event.Header
	s := h.Namespace + "." + h.Name
	var payload map[string]json.RawMessage
	_ = json.Unmarshal(e.Event.Payload, &payload)
	switch {
	case h.Name == "ErrorResponse":
		var p struct {
			Type    string          `json:"type"`
			Message string          `json:"message"`
			Valid   json.RawMessage `json:"validRange"`
		}
		_ = json.Unmarshal(e.Event.Payload, &p)
		s += " " + p.Type + ": " + p.Message
		if len(p.Valid) > 0 {
			var buf bytes.Buffer
			_ = json.Compact(&buf, p.Valid)
			s += " validRange=" + buf.String()
		}
	case h.Name == "DeferredResponse":
		s += " estimatedDeferralInSeconds=" + string(payload["estimatedDeferralInSeconds"])
	case h.Name == "ChangeReport":
		var p struct {
			Change struct {
				Cause      struct{ Type string } `json:"cause"`
				Properties []property            `json:"properties"`
			} `json:"change"`
		}
		_ = json.Unmarshal(e.Event.Payload, &p)
		s += " cause=" + p.Change.Cause.Type + " " + props(p.Change.Properties)
	default:
		var c struct {
			Properties []property `json:"properties"`
		}
		_ = json.Unmarshal(e.Context, &c)
		if len(c.Properties) > 0 {
			s += " " + props(c.Properties)
		}
	}
	return s
}

func props(ps []property) string {
	var parts []string
	for _, p := range ps {
		name := p.Name
		if p.Instance != "" {
			name = p.Instance + "." + p.Name
		}
		var v bytes.Buffer
		if json.Compact(&v, p.Value) != nil {
			v.Reset()
			v.Write(p.Value)
		}
		parts = append(parts, name+"="+strings.ReplaceAll(v.String(), `"`, ""))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// last returns the final answer of a directive (after a DeferredResponse).
func last(evs []event) event { return evs[len(evs)-1] }

// expect checks the final answer's name (and error type when it is an ErrorResponse).
func expect(evs []event, name, errType string) error {
	e := last(evs)
	if e.Event.Header.Name != name {
		return fmt.Errorf("expected %s, got %s", name, describe(e))
	}
	if errType != "" {
		var p struct{ Type string }
		_ = json.Unmarshal(e.Event.Payload, &p)
		if p.Type != errType {
			return fmt.Errorf("expected %s %s, got %s", name, errType, describe(e))
		}
	}
	return nil
}

// recordedEvents returns the events the emulator accepted so far.
func (d *demo) recordedEvents(ctx context.Context) ([]event, error) {
	var recs []struct {
		Status int   `json:"status"`
		Event  event `json:"event"`
	}
	if err := call(ctx, "GET", d.adminURL+"/sim/events", nil, &recs); err != nil {
		return nil, err
	}
	// Only what Alexa accepted counts (a request refused by an injected
	// fault is retried by the hub and recorded again).
	evs := make([]event, 0, len(recs))
	for _, r := range recs {
		if r.Status/100 == 2 {
			evs = append(evs, r.Event)
		}
	}
	return evs, nil
}

// waitChangeReport waits for a ChangeReport for endpointID with the given cause
// that arrived after n events, and returns it.
func (d *demo) waitChangeReport(ctx context.Context, n int, endpointID, cause string) (event, error) {
	var found event
	err := waitFor(ctx, "a ChangeReport ("+cause+")", 15*time.Second, func() (bool, error) {
		evs, err := d.recordedEvents(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range evs[min(n, len(evs)):] {
			if e.Event.Header.Name == "ChangeReport" && e.Event.Endpoint != nil && e.Event.Endpoint.EndpointID == endpointID &&
				strings.Contains(string(e.Event.Payload), cause) {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

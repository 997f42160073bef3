package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// pairingFuncs render the pairing panel (templates/pairing.html).
var pairingFuncs = template.FuncMap{
	"secs": func(d time.Duration) int { return int(d.Round(time.Second) / time.Second) },
	"stageWord": func(stage string) string {
		switch model.PairingStage(stage) {
		case model.PairingAnnounced:
			return "joined, waiting for its interview"
		case model.PairingInterviewing:
			return "being interviewed"
		case model.PairingPublished:
			return "ready: published to Alexa and the dashboards"
		case model.PairingFailed:
			return "failed"
		}
		return stage
	},
}

// PairingLine is a device's pairing event in words, as `avshub pair` and the
// demo print it: "+ NAME announced: DETAIL (38s left)", "  NAME: STEP",
// "✓ ID published as "NAME" (traits), endpoint ID", "✗ NAME failed: WHY";
// empty for the window's own events.
func PairingLine(ev PairingEvent) string {
	who := ev.Name
	if who == "" {
		who = ev.DeviceID
	}
	switch model.PairingStage(ev.Stage) {
	case model.PairingAnnounced:
		return fmt.Sprintf("+ %s announced: %s (%ds left)", who, ev.Detail, ev.Remaining)
	case model.PairingInterviewing:
		return fmt.Sprintf("  %s: %s", who, ev.Detail)
	case model.PairingPublished:
		return fmt.Sprintf("\u2713 %s published as %q (%s), endpoint %s", ev.DeviceID, ev.Name, strings.Join(ev.Traits, ", "), ev.EndpointID)
	case model.PairingFailed:
		return fmt.Sprintf("\u2717 %s failed: %s", who, ev.Detail)
	}
	return ""
}

// PairingEvent is one step of pairing as the page, the CLI (GET
// /api/v1/pairing/events) and MQTT (<prefix>/bridge/event) show it: the
// window opening or closing (DeviceID empty), or a device announced,
// interviewed (Detail says what is read), published (with its endpoint id,
// name and traits) or failed (Detail says why).
type PairingEvent struct {
	Bridge     string    `json:"bridge"`
	At         time.Time `json:"at"`
	Stage      string    `json:"stage"`
	DeviceID   string    `json:"deviceId,omitempty"`
	EndpointID string    `json:"endpointId,omitempty"`
	Name       string    `json:"name,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	// Remaining is how many seconds the network stays open.
	Remaining int      `json:"remainingSeconds"`
	Traits    []string `json:"traits,omitempty"`
}

// PairingDevice is one device of a pairing session.
type PairingDevice struct {
	DeviceID   string `json:"deviceId"`
	EndpointID string `json:"endpointId,omitempty"`
	Name       string `json:"name,omitempty"`
	Stage      string `json:"stage"`
	// Detail is the last step, or why pairing failed.
	Detail  string    `json:"detail,omitempty"`
	Steps   []string  `json:"steps,omitempty"`
	Traits  []string  `json:"traits,omitempty"`
	Updated time.Time `json:"updated"`
}

// PairingSession is what happened on one bridge since its network was last opened.
type PairingSession struct {
	Bridge  string          `json:"bridge"`
	Open    bool            `json:"open"`
	Started time.Time       `json:"started"`
	Until   time.Time       `json:"until"`
	Devices []PairingDevice `json:"devices"`
}

// Remaining is the time left until the network closes.
func (s PairingSession) Remaining(now time.Time) time.Duration {
	if !s.Open {
		return 0
	}
	return max(s.Until.Sub(now), 0)
}

// PairingSource is a Source that keeps pairing sessions and streams their
// events, and removes devices (the hub).
type PairingSource interface {
	// Pairing returns the sessions of the bridges opened since the hub started.
	Pairing() []PairingSession
	// PairingEvents streams every pairing event from now on until ctx ends.
	PairingEvents(ctx context.Context) <-chan PairingEvent
	// Remove makes the endpoint's device leave its bridge and forgets it.
	Remove(ctx context.Context, endpointID string) error
}

func (s *Server) pairingAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/pairing", func(w http.ResponseWriter, _ *http.Request) {
		ps, ok := s.src.(PairingSource)
		if !ok {
			writeJSON(w, http.StatusOK, []PairingSession{})
			return
		}
		writeJSON(w, http.StatusOK, ps.Pairing())
	})
	mux.HandleFunc("GET /api/v1/pairing/events", s.pairingEvents)
	mux.HandleFunc("POST /api/v1/endpoints/{ref}/remove", s.remove)
}

// pairingEvents streams pairing events as server-sent events ("event:
// pairing", data: one PairingEvent as JSON), optionally of one bridge.
func (s *Server) pairingEvents(w http.ResponseWriter, r *http.Request) {
	ps, ok := s.src.(PairingSource)
	fl, canFlush := w.(http.Flusher)
	if !ok || !canFlush {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this hub does not stream pairing events"})
		return
	}
	bridge := r.URL.Query().Get("bridge")
	streamEvents(w, fl, r, "pairing", "", ps.PairingEvents(r.Context()), func(ev PairingEvent) string {
		if bridge != "" && ev.Bridge != bridge {
			return ""
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return ""
		}
		return "event: pairing\ndata: " + string(b)
	})
}

// remove removes an endpoint's device: POST /api/v1/endpoints/{ref}/remove.
func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Avshub") == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing X-Avshub header"})
		return
	}
	ps, ok := s.src.(PairingSource)
	if !ok {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this hub cannot remove devices"})
		return
	}
	ep, err := Resolve(s.src.Endpoints(), r.PathValue("ref"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	if err := ps.Remove(r.Context(), ep.Endpoint.ID); err != nil {
		code := http.StatusBadGateway
		var de *model.Error
		if errors.As(err, &de) && (de.Kind == model.ErrNotSupported || de.Kind == model.ErrInvalidValue) {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": ep.Endpoint.ID, "name": ep.Endpoint.FriendlyName, "bridge": ep.Endpoint.Bridge})
}

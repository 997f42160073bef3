package avstest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits Alexa enforces on discovery.
const (
	MaxEndpoints           = 300
	MaxCapabilities        = 100
	MaxEndpointIDLen       = 256
	MaxFriendlyNameLen     = 128
	MaxDescriptionLen      = 128
	MaxManufacturerLen     = 128
	MaxAttributeLen        = 256
	MaxConnectionValueLen  = 256
	MaxCookieBytes         = 5000
	cookieOverheadPerEntry = 6
)

// avsInterfaces are the interfaces AVS documents for connected endpoints.
var avsInterfaces = map[string]bool{
	"Alexa": true, "Alexa.PowerController": true, "Alexa.ToggleController": true,
	"Alexa.RangeController": true, "Alexa.ModeController": true,
}

type endpointDoc struct {
	EndpointID           *string          `json:"endpointId"`
	FriendlyName         *string          `json:"friendlyName"`
	Description          *string          `json:"description"`
	ManufacturerName     *string          `json:"manufacturerName"`
	DisplayCategories    []string         `json:"displayCategories"`
	AdditionalAttributes map[string]any   `json:"additionalAttributes"`
	Registration         *json.RawMessage `json:"registration"`
	Connections          []map[string]any `json:"connections"`
	Cookie               map[string]any   `json:"cookie"`
	Capabilities         []capabilityDoc  `json:"capabilities"`
}

type capabilityDoc struct {
	Type      string `json:"type"`
	Interface string `json:"interface"`
	Version   string `json:"version"`
	Instance  string `json:"instance"`
}

func validIDChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_-=#;:?@&", c) >= 0
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// checkEndpoint applies Alexa's field rules and the profile to one endpoint.
func (s *Server) checkEndpoint(i int, raw json.RawMessage) (string, error) {
	return CheckEndpoint(i, raw, s.opts.Profile)
}

// CheckEndpoint applies Alexa's discovery field rules (lengths, endpointId
// charset, cookie size, capability count) and profile's interface rules
// (ProfileAVS or ProfileSmartHome) to endpoints[i] and returns its id. The
// skill emulator (gateway/skilltest) checks Discover.Response with it too.
func CheckEndpoint(i int, raw json.RawMessage, profile string) (string, error) {
	var e endpointDoc
	if err := json.Unmarshal(raw, &e); err != nil {
		return "", fmt.Errorf("endpoints[%d] is not an endpoint object: %v", i, err)
	}
	if e.EndpointID == nil || *e.EndpointID == "" {
		return "", fmt.Errorf("endpoints[%d] has no endpointId", i)
	}
	id := *e.EndpointID
	where := fmt.Sprintf("endpoints[%d] (%q)", i, model.Abbreviate(id, 64))
	if len(id) > MaxEndpointIDLen {
		return "", fmt.Errorf("%s: endpointId is %d characters; the limit is %d", where, len(id), MaxEndpointIDLen)
	}
	for j := 0; j < len(id); j++ {
		if !validIDChar(id[j]) {
			return "", fmt.Errorf("%s: endpointId has %q at %d; allowed are letters, digits and _-=#;:?@&", where, id[j], j)
		}
	}
	device := e.Registration != nil
	switch {
	case e.FriendlyName == nil:
		return "", fmt.Errorf("%s: friendlyName is missing", where)
	case runes(*e.FriendlyName) > MaxFriendlyNameLen:
		return "", fmt.Errorf("%s: friendlyName is %d characters; the limit is %d", where, runes(*e.FriendlyName), MaxFriendlyNameLen)
	case !device && *e.FriendlyName == "":
		return "", fmt.Errorf("%s: friendlyName is empty", where)
	case e.Description == nil || *e.Description == "" || runes(*e.Description) > MaxDescriptionLen:
		return "", fmt.Errorf("%s: description must be 1 to %d characters", where, MaxDescriptionLen)
	case e.ManufacturerName == nil || *e.ManufacturerName == "" || runes(*e.ManufacturerName) > MaxManufacturerLen:
		return "", fmt.Errorf("%s: manufacturerName must be 1 to %d characters", where, MaxManufacturerLen)
	case len(e.DisplayCategories) == 0:
		return "", fmt.Errorf("%s: displayCategories is empty", where)
	case len(e.Capabilities) == 0:
		return "", fmt.Errorf("%s: capabilities is empty", where)
	case len(e.Capabilities) > MaxCapabilities:
		return "", fmt.Errorf("%s: %d capabilities; the limit is %d", where, len(e.Capabilities), MaxCapabilities)
	}
	for k, v := range e.AdditionalAttributes {
		if str, ok := v.(string); !ok || runes(str) > MaxAttributeLen {
			return "", fmt.Errorf("%s: additionalAttributes.%s must be a string of at most %d characters", where, k, MaxAttributeLen)
		}
	}
	for j, c := range e.Connections {
		for k, v := range c {
			if str, ok := v.(string); ok && (str == "" || runes(str) > MaxConnectionValueLen) {
				return "", fmt.Errorf("%s: connections[%d].%s must be 1 to %d characters", where, j, k, MaxConnectionValueLen)
			}
		}
	}
	cookie := 0
	for k, v := range e.Cookie {
		str, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s: cookie.%s is not a string", where, k)
		}
		cookie += len(k) + len(str) + cookieOverheadPerEntry
	}
	if cookie >= MaxCookieBytes {
		return "", fmt.Errorf("%s: cookie is %d bytes (with %d per entry); the limit is %d", where, cookie, cookieOverheadPerEntry, MaxCookieBytes)
	}
	if device {
		var reg struct {
			ProductID          string `json:"productId"`
			DeviceSerialNumber string `json:"deviceSerialNumber"`
		}
		if json.Unmarshal(*e.Registration, &reg) != nil || reg.ProductID == "" || reg.DeviceSerialNumber == "" {
			return "", fmt.Errorf("%s: registration needs productId and deviceSerialNumber", where)
		}
	}
	hasAlexa, usesController := false, false
	for j, c := range e.Capabilities {
		if c.Type != "AlexaInterface" || c.Interface == "" || c.Version == "" {
			return "", fmt.Errorf("%s: capabilities[%d] needs type AlexaInterface, an interface and a version", where, j)
		}
		if c.Interface == "Alexa" {
			hasAlexa = true
		} else if strings.HasPrefix(c.Interface, "Alexa.") {
			usesController = true
		}
		if !device && profile == ProfileAVS && !avsInterfaces[c.Interface] {
			return "", fmt.Errorf("%s: interface %s is not documented for AVS connected endpoints (profile avs allows Alexa, Alexa.PowerController, Alexa.ToggleController, Alexa.RangeController, Alexa.ModeController)", where, c.Interface)
		}
	}
	if !device && usesController && !hasAlexa {
		return "", fmt.Errorf("%s: an endpoint with Alexa.* controllers must also list the Alexa interface (version 3)", where)
	}
	return id, nil
}

// discovery handles AddOrUpdateReport and DeleteReport.
func (s *Server) discovery(sc *simConn, h hdr, event json.RawMessage) reply {
	var env struct {
		Event struct {
			Payload struct {
				Scope *struct {
					Type  string `json:"type"`
					Token string `json:"token"`
				} `json:"scope"`
				Endpoints []json.RawMessage `json:"endpoints"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(event, &env); err != nil {
		return reply{status: http.StatusBadRequest, desc: "The discovery event is malformed: " + err.Error()}
	}
	p := env.Event.Payload
	switch {
	case h.Name != "AddOrUpdateReport" && h.Name != "DeleteReport":
		return reply{status: http.StatusBadRequest, desc: "Unknown Alexa.Discovery event " + h.Name + "."}
	case h.PayloadVersion != "3":
		return reply{status: http.StatusBadRequest, desc: "Alexa.Discovery events need payloadVersion \"3\"."}
	case p.Scope == nil || p.Scope.Type != "BearerToken" || p.Scope.Token == "":
		return reply{status: http.StatusBadRequest, desc: "payload.scope must be {\"type\":\"BearerToken\",\"token\":…}."}
	case !s.lwa.ValidAccessToken(p.Scope.Token):
		return reply{status: http.StatusBadRequest, desc: "payload.scope.token is not a valid access token."}
	case len(p.Endpoints) == 0:
		return reply{status: http.StatusBadRequest, desc: "payload.endpoints is empty."}
	case len(p.Endpoints) > MaxEndpoints:
		return reply{status: http.StatusBadRequest, desc: fmt.Sprintf("payload.endpoints has %d endpoints; the limit per report is %d.", len(p.Endpoints), MaxEndpoints)}
	}
	if h.Name == "DeleteReport" {
		s.mu.Lock()
		for _, raw := range p.Endpoints {
			var e struct {
				EndpointID string `json:"endpointId"`
			}
			if json.Unmarshal(raw, &e) == nil {
				delete(s.endpoints, e.EndpointID)
			}
		}
		s.bumpLocked()
		s.mu.Unlock()
		return reply{status: http.StatusAccepted, after: s.eventProcessed(h)}
	}
	ids := make([]string, len(p.Endpoints))
	var skill []json.RawMessage // connected endpoints: what the Smart Home schema describes
	seen := map[string]bool{}
	for i, raw := range p.Endpoints {
		id, err := s.checkEndpoint(i, raw)
		if err != nil {
			return reply{status: http.StatusBadRequest, desc: err.Error()}
		}
		if seen[id] {
			return reply{status: http.StatusBadRequest, desc: fmt.Sprintf("endpoints[%d]: endpointId %q appears twice in the report", i, id)}
		}
		seen[id] = true
		ids[i] = id
		var probe struct {
			Registration json.RawMessage `json:"registration"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.Registration == nil {
			skill = append(skill, raw)
		}
	}
	if len(skill) > 0 {
		if err := s.validate(replaceEndpoints(event, skill)); err != nil {
			return reply{status: http.StatusBadRequest, desc: err.Error()}
		}
	}
	s.mu.Lock()
	n := len(s.endpoints)
	for _, id := range ids {
		if _, ok := s.endpoints[id]; !ok {
			n++
		}
	}
	if n > MaxEndpoints {
		s.mu.Unlock()
		return reply{status: http.StatusBadRequest, desc: fmt.Sprintf("The report would make %d endpoints; an account holds at most %d.", n, MaxEndpoints)}
	}
	for i, id := range ids {
		s.endpoints[id] = append(json.RawMessage(nil), p.Endpoints[i]...)
	}
	s.bumpLocked()
	s.mu.Unlock()
	return reply{status: http.StatusAccepted, after: s.eventProcessed(h)}
}

// eventProcessed returns a func pushing Alexa.EventProcessed for h's eventCorrelationToken.
func (s *Server) eventProcessed(h hdr) func() {
	if h.EventCorrelationToken == "" {
		return nil
	}
	return func() {
		if _, skip := s.takeFault(targetEventProcessed); skip {
			return
		}
		d := directive(hdr{Namespace: "Alexa", Name: "EventProcessed", MessageID: uuid.NewString(),
			EventCorrelationToken: h.EventCorrelationToken, PayloadVersion: "3"}, nil, nil)
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		if err := s.push(ctx, d); err != nil {
			s.log.Warn("cannot send Alexa.EventProcessed", "err", err)
		}
	}
}

// replaceEndpoints returns event with payload.endpoints set to eps.
func replaceEndpoints(event json.RawMessage, eps []json.RawMessage) []byte {
	var env map[string]map[string]json.RawMessage
	if json.Unmarshal(event, &env) != nil || env["event"] == nil {
		return event
	}
	var payload map[string]json.RawMessage
	if json.Unmarshal(env["event"]["payload"], &payload) != nil {
		return event
	}
	payload["endpoints"], _ = json.Marshal(eps)
	env["event"]["payload"], _ = json.Marshal(payload)
	b, err := json.Marshal(env)
	if err != nil {
		return event
	}
	return b
}

// checkProfileEvent refuses, in profile avs, state properties of interfaces AVS
// does not document for connected endpoints.
func (s *Server) checkProfileEvent(event json.RawMessage) error {
	if s.opts.Profile != ProfileAVS {
		return nil
	}
	var env struct {
		Context struct {
			Properties []struct {
				Namespace string `json:"namespace"`
			} `json:"properties"`
		} `json:"context"`
		Event struct {
			Payload struct {
				Change struct {
					Properties []struct {
						Namespace string `json:"namespace"`
					} `json:"properties"`
				} `json:"change"`
			} `json:"payload"`
		} `json:"event"`
	}
	if json.Unmarshal(event, &env) != nil {
		return nil // context may be the device-context array: nothing to check
	}
	props := append(env.Context.Properties, env.Event.Payload.Change.Properties...)
	for _, p := range props {
		if !avsInterfaces[p.Namespace] {
			return fmt.Errorf("property of %s: the interface is not documented for AVS connected endpoints (profile avs)", p.Namespace)
		}
	}
	return nil
}

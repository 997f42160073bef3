package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

// The hub's own topics, beside the endpoints' (as zigbee2mqtt's bridge/…):
//
//	<prefix>/bridge/event                       pairing progress and removals (not retained)
//	<prefix>/bridge/request/endpoint/<op>       rename, remove, hide (publish a JSON request)
//	<prefix>/bridge/response/endpoint/<op>      the answer, with the request's transaction
const (
	bridgeEventLeaf    = "bridge/event"
	bridgeRequestLeaf  = "bridge/request/"
	bridgeResponseLeaf = "bridge/response/"
	requestQueue       = 16
)

// Requests carries out the requests of the bridge request topics (the hub
// implements it).
type Requests interface {
	// Configure changes what a person set on an endpoint (name, area, hidden).
	Configure(id string, p discovery.SettingsPatch) error
	// Remove makes the endpoint's device leave its bridge and forgets it.
	Remove(ctx context.Context, endpointID string) error
}

// Event is a message on <prefix>/bridge/event: Type "pairing" (Data is the
// hub's pairing event) or "endpoint_removed" (Data has the endpoint's id and name).
type Event struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// Response is the answer on <prefix>/bridge/response/endpoint/<op>, shaped
// as zigbee2mqtt's: status "ok" with data, or "error" with error and empty
// data; transaction echoes the request's.
type Response struct {
	Data        any    `json:"data"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
	Transaction any    `json:"transaction,omitempty"`
}

// request is the JSON of every request topic. id (or from) names the
// endpoint: its id, its dashboard node id or its name.
type request struct {
	ID          string          `json:"id"`
	From        string          `json:"from"`
	To          *string         `json:"to"`
	Alexa       *bool           `json:"alexa"`
	Dashboards  *bool           `json:"dashboards"`
	Transaction json.RawMessage `json:"transaction"`
}

// PublishEvent publishes an event on <prefix>/bridge/event (not retained).
func (p *Publisher) PublishEvent(ev Event) bool {
	return p.publishJSON(p.l.prefix+"/"+bridgeEventLeaf, false, ev)
}

// requestOp returns the operation of a request topic ("rename"), if it is one.
func (p *Publisher) requestOp(topic string) (string, bool) {
	op, ok := strings.CutPrefix(topic, p.l.prefix+"/"+bridgeRequestLeaf+"endpoint/")
	return op, ok && op != "" && !strings.Contains(op, "/")
}

// onRequest runs in paho's goroutine: it queues the request for requestWorker.
func (p *Publisher) onRequest(m paho.Message) {
	p.cfg.Metrics.MQTTMessage("in")
	select {
	case p.requests <- m:
	default:
		p.log.Warn("dashboard request dropped: too many pending requests", "topic", m.Topic())
	}
}

func (p *Publisher) requestWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-p.requests:
			op, ok := p.requestOp(m.Topic())
			if !ok || m.Retained() {
				continue // a retained request would run again at every reconnection
			}
			p.publishJSON(p.l.prefix+"/"+bridgeResponseLeaf+"endpoint/"+op, false, p.handleRequest(ctx, op, m.Payload()))
		}
	}
}

// handleRequest carries out one request and returns its response.
func (p *Publisher) handleRequest(ctx context.Context, op string, payload []byte) Response {
	var r request
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	fail := func(format string, a ...any) Response {
		resp := Response{Data: map[string]any{}, Status: "error", Error: fmt.Sprintf(format, a...)}
		if len(r.Transaction) > 0 {
			resp.Transaction = r.Transaction
		}
		p.log.Info("dashboard request refused", "op", op, "error", resp.Error)
		return resp
	}
	if len(payload) > MaxCommandSize {
		return fail("request payload is larger than %d bytes", MaxCommandSize)
	}
	if err := dec.Decode(&r); err != nil {
		return fail("the request must be a JSON object with id (or from), to, alexa, dashboards, transaction: %v", err)
	}
	ref := r.ID
	if ref == "" {
		ref = r.From
	}
	if ref == "" {
		return fail("the request names no endpoint: give id (its id, node id or name)")
	}
	e, err := p.resolve(ref)
	if err != nil {
		return fail("%v", err)
	}
	id := e.Endpoint.ID
	var data map[string]any
	switch op {
	case "rename":
		if r.To == nil {
			return fail("rename needs to: the new name (an empty one gives the bridge's name back)")
		}
		if err := p.cfg.Requests.Configure(id, discovery.SettingsPatch{Name: r.To}); err != nil {
			return fail("%v", err)
		}
		data = map[string]any{"id": id, "from": e.Endpoint.FriendlyName, "to": strings.TrimSpace(*r.To)}
	case "hide":
		if r.Alexa == nil && r.Dashboards == nil {
			return fail("hide needs alexa or dashboards: true hides the endpoint there, false shows it again")
		}
		if err := p.cfg.Requests.Configure(id, discovery.SettingsPatch{HiddenFromAlexa: r.Alexa, HiddenFromDashboards: r.Dashboards}); err != nil {
			return fail("%v", err)
		}
		data = map[string]any{"id": id}
		if r.Alexa != nil {
			data["alexa"] = *r.Alexa
		}
		if r.Dashboards != nil {
			data["dashboards"] = *r.Dashboards
		}
	case "remove":
		cctx, cancel := context.WithTimeout(ctx, 2*p.cfg.CommandTimeout)
		err := p.cfg.Requests.Remove(cctx, id)
		cancel()
		if err != nil {
			return fail("%v", err)
		}
		data = map[string]any{"id": id, "name": e.Endpoint.FriendlyName}
		p.PublishEvent(Event{Type: "endpoint_removed", Data: data})
	default:
		return fail("unknown request %q: the requests are rename, remove and hide", model.Abbreviate(op, 40))
	}
	p.log.Info("dashboard request carried out", "op", op, "endpoint", id)
	resp := Response{Data: data, Status: "ok"}
	if len(r.Transaction) > 0 {
		resp.Transaction = r.Transaction
	}
	return resp
}

// resolve finds the endpoint ref names: its id, its node id, or its name
// (any case) when one endpoint has it.
func (p *Publisher) resolve(ref string) (discovery.Entry, error) {
	var byName []discovery.Entry
	for _, e := range p.reg.List() {
		if e.Endpoint.ID == ref || NodeID(e.Endpoint) == ref {
			return e, nil
		}
		if strings.EqualFold(e.Endpoint.FriendlyName, ref) {
			byName = append(byName, e)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return discovery.Entry{}, fmt.Errorf("no endpoint %q: give its id, node id or name", model.Abbreviate(ref, 80))
	}
	return discovery.Entry{}, fmt.Errorf("%q names %d endpoints: give the endpoint id", model.Abbreviate(ref, 80), len(byName))
}

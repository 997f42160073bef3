// Command httprelay is an example bridge written with the SDK's building
// blocks: the relays of Shelly-style HTTP relay boxes (GET /relay/N, answer
// {"ison":…}), as switches, polled every second.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// Config is the bridge's configuration; its JSON Schema is generated from it.
type Config struct {
	Boxes     []Box        `json:"boxes" jsonschema:"required,minItems=1"`
	PollEvery sdk.Duration `json:"pollEvery,omitempty"`
}

// Box is one relay box.
type Box struct {
	ID     string `json:"id" jsonschema:"required,pattern=^[a-z0-9-]+$"`
	Name   string `json:"name" jsonschema:"required,minLength=1"`
	URL    string `json:"url" jsonschema:"required,description=base URL such as http://192.168.1.20"`
	Relays int    `json:"relays,omitempty" jsonschema:"minimum=1,maximum=4"`
}

type relay struct {
	url string
	n   int
}

type bridge struct {
	client *http.Client
	relays map[string]relay
	poll   *sdk.Poller
}

func (b *bridge) Describe() sdk.Description {
	return sdk.Description{Name: "httprelay", Version: "1.0.0", APIVersions: []string{sdk.APIVersion},
		ConfigSchema: sdk.Schema[Config](),
		SampleConfig: sdk.Sample(Config{Boxes: []Box{{ID: "garage", Name: "Garage", URL: "http://127.0.0.1:8099", Relays: 2}}})}
}

func (b *bridge) Configure(_ context.Context, c sdk.Config) error {
	cfg, err := sdk.DecodeConfig(c, Config{PollEvery: sdk.Duration(time.Second)})
	if err != nil {
		return err
	}
	b.relays = map[string]relay{}
	b.poll = &sdk.Poller{Read: b.read, Every: cfg.PollEvery.D()}
	for _, box := range cfg.Boxes {
		for i := range max(box.Relays, 1) {
			id := fmt.Sprintf("%s-%d", box.ID, i)
			b.relays[id] = relay{box.URL, i}
			b.poll.Devices = append(b.poll.Devices, sdk.Switch(id, fmt.Sprintf("%s Relay %d", box.Name, i+1),
				sdk.WithInfo("Shelly", "relay box", "HTTP relay")))
		}
	}
	return nil
}

func (b *bridge) Run(ctx context.Context, em sdk.Emitter) error {
	defer b.client.CloseIdleConnections()
	return b.poll.Run(ctx, em)
}

func (b *bridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	turn := map[bool]string{true: "on", false: "off"}[*req.Command.Power]
	st, err := b.get(ctx, req.DeviceID, "?turn="+turn)
	if err != nil {
		return model.Result{}, err
	}
	b.poll.Update(req.DeviceID, st)
	return model.Result{Status: model.Done, State: st}, nil
}

func (b *bridge) State(_ context.Context, id string) (model.State, error) { return b.poll.State(id) }

func (b *bridge) read(ctx context.Context, id string) (model.State, error) { return b.get(ctx, id, "") }

// get asks a relay for its state (switching it first when query says so).
func (b *bridge) get(ctx context.Context, id, query string) (model.State, error) {
	r := b.relays[id]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/relay/%d%s", r.url, r.n, query), nil)
	if err != nil {
		return model.State{}, model.Errorf(model.ErrInternal, "%s: %v", id, err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return model.State{}, model.Errorf(model.ErrUnreachable, "%s: %v", id, err)
	}
	defer resp.Body.Close()
	var body struct {
		IsOn *bool `json:"ison"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.IsOn == nil {
		return model.State{}, model.Errorf(model.ErrHardwareFault, "%s answered %s", id, resp.Status)
	}
	return model.State{On: body.IsOn}, nil
}

func main() { sdk.Serve(&bridge{client: &http.Client{Timeout: 5 * time.Second}}) }

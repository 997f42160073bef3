package host

import (
	"log/slog"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// implausibleEvery is how often the drop of implausible values from one device
// is logged; the drops in between are counted into the next line.
const implausibleEvery = time.Minute

// plausibility drops the state values a bridge reports outside the ranges their
// traits declare (model.Traits.CheckState), for every bridge, before they
// reach the registry, Alexa or the dashboards. It remembers each device's traits
// from the stream, and logs the drops at most once a minute per device.
type plausibility struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	traits map[string]model.Traits
	logged map[string]time.Time // device id -> last drop logged
	quiet  map[string]int       // device id -> drops not logged since
	corr   map[string]string    // correlation id -> device id of commands that may complete later
}

func newPlausibility(log *slog.Logger) *plausibility {
	return &plausibility{log: log, now: time.Now, traits: map[string]model.Traits{},
		logged: map[string]time.Time{}, quiet: map[string]int{}, corr: map[string]string{}}
}

// event checks the states an event carries and returns it without the
// implausible values (learning device traits from snapshots and upserts).
func (p *plausibility) event(ev model.Event) model.Event {
	switch ev.Kind {
	case model.EventSnapshot:
		p.mu.Lock()
		p.traits = make(map[string]model.Traits, len(ev.Devices))
		for _, d := range ev.Devices {
			p.traits[d.Endpoint.DeviceID] = d.Endpoint.Traits
		}
		p.mu.Unlock()
		devs := make([]model.Device, len(ev.Devices))
		for i, d := range ev.Devices {
			d.State = p.state(d.Endpoint.DeviceID, d.State)
			devs[i] = d
		}
		ev.Devices = devs
	case model.EventUpsert:
		d := *ev.Device
		p.mu.Lock()
		p.traits[d.Endpoint.DeviceID] = d.Endpoint.Traits
		p.mu.Unlock()
		d.State = p.state(d.Endpoint.DeviceID, d.State)
		ev.Device = &d
	case model.EventRemove:
		p.mu.Lock()
		delete(p.traits, ev.DeviceID)
		p.mu.Unlock()
	case model.EventState:
		ev.State = p.state(ev.DeviceID, ev.State)
	case model.EventCompletion:
		if c := ev.Completion; c != nil && c.Err == nil {
			p.mu.Lock()
			dev := p.corr[c.CorrelationID]
			p.mu.Unlock()
			cc := *c
			cc.State = p.state(dev, c.State)
			ev.Completion = &cc
		}
		p.command(ev.Completion.CorrelationID, "")
	}
	return ev
}

// command remembers (deviceID set) or forgets (empty) which device a command
// that may be completed later is for.
func (p *plausibility) command(correlationID, deviceID string) {
	if correlationID == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if deviceID == "" {
		delete(p.corr, correlationID)
	} else {
		p.corr[correlationID] = deviceID
	}
}

// state returns s without the values outside the ranges of the device's traits.
func (p *plausibility) state(deviceID string, s model.State) model.State {
	p.mu.Lock()
	t, ok := p.traits[deviceID]
	p.mu.Unlock()
	if !ok {
		return s
	}
	clean, bad := t.CheckState(s)
	if len(bad) == 0 {
		return s
	}
	p.mu.Lock()
	now := p.now()
	last, seen := p.logged[deviceID]
	if seen && now.Sub(last) < implausibleEvery {
		p.quiet[deviceID] += len(bad)
		p.mu.Unlock()
		return clean
	}
	p.logged[deviceID] = now
	quiet := p.quiet[deviceID]
	delete(p.quiet, deviceID)
	p.mu.Unlock()
	p.log.Warn("dropped state values outside their trait's range", "device", deviceID, "values", bad, "droppedSinceLastLine", quiet)
	return clean
}

package host

import "github.com/avshub/avshub/discovery/model"

// cleanNames returns ev with every name its devices carry cleaned by
// model.CleanEndpoint (control and bidi characters out, Alexa's lengths),
// where a bridge's data enters the hub: whatever a device or a peer of the
// bridge named itself, Alexa, the page and the CLI see a plain name.
func cleanNames(ev model.Event) model.Event {
	switch ev.Kind {
	case model.EventSnapshot:
		devs := make([]model.Device, len(ev.Devices))
		for i, d := range ev.Devices {
			d.Endpoint = model.CleanEndpoint(d.Endpoint)
			devs[i] = d
		}
		ev.Devices = devs
	case model.EventUpsert:
		if ev.Device != nil {
			d := *ev.Device
			d.Endpoint = model.CleanEndpoint(d.Endpoint)
			ev.Device = &d
		}
	case model.EventPairing:
		if ev.Pairing != nil {
			p := *ev.Pairing
			p.Detail = model.CleanName(p.Detail, maxPairingDetail)
			if p.Endpoint != nil {
				e := model.CleanEndpoint(*p.Endpoint)
				p.Endpoint = &e
			}
			ev.Pairing = &p
		}
	}
	return ev
}

// maxPairingDetail bounds a pairing step's or failure's text from a bridge.
const maxPairingDetail = 300

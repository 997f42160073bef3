package alexa

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// A remote the user opted into Alexa (the MQTT bridge's remotes) is a
// motion or contact stand-in with its battery, as that bridge builds it: in
// both profiles its discovery, its state report and the ChangeReport of a
// press are schema-valid; smarthome shows the native sensor interface, avs
// the read-only mode AVS allows (a non-controllable ModeController).
func TestRemoteStandIns(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ep       model.Endpoint
		pressed  model.State
		native   string // smarthome's interface
		instance string // avs's mode instance
	}{
		{"motion", model.Endpoint{ID: epID("remote-1"), DeviceID: "remote-1", FriendlyName: "Hall button", Manufacturer: "IKEA of Sweden", Model: "E1524/E1810",
			Description: "TRADFRI remote control via zigbee2mqtt", Category: model.CategoryMotionSensor,
			Traits: model.Traits{Motion: &model.Motion{}, Battery: &model.Battery{}}},
			model.State{Motion: model.Ptr(true), Battery: model.Ptr(87)}, nsMotionSensor, InstanceMotion},
		{"contact", model.Endpoint{ID: epID("remote-2"), DeviceID: "remote-2", FriendlyName: "Bedside button", Manufacturer: "SONOFF", Model: "SNZB-01",
			Description: "Wireless button via zigbee2mqtt", Category: model.CategoryContactSensor,
			Traits: model.Traits{Contact: &model.Contact{}, Battery: &model.Battery{}}},
			model.State{ContactOpen: model.Ptr(true), Battery: model.Ptr(100)}, nsContactSensor, InstanceContact},
	} {
		for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
			t.Run(tc.name+"/"+prof, func(t *testing.T) {
				p := mustProfile(t, prof, "en-US", "de-DE")
				obj, err := p.Endpoint(tc.ep)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := NewAddOrUpdateReport([]json.RawMessage{obj})
				if err != nil {
					t.Fatal(err)
				}
				if rep, err = WithScopeToken(rep, "test-token"); err != nil {
					t.Fatal(err)
				}
				mustValidate(t, rep)
				want := `"interface":"` + tc.native + `"`
				if prof == ProfileAVS {
					want = `"instance":"` + tc.instance + `"`
				}
				if !strings.Contains(string(obj), want) {
					t.Errorf("discovery has no %s: %s", want, obj)
				}
				if prof == ProfileAVS && (strings.Contains(string(obj), nsMotionSensor+`"`) || strings.Contains(string(obj), nsContactSensor+`"`)) {
					t.Errorf("avs discovery uses a Smart Home sensor interface: %s", obj)
				}
				props := p.Properties(tc.ep, tc.pressed, true, sampleTime)
				if len(props) < 2 {
					t.Fatalf("properties %+v", props)
				}
				cr, err := NewChangeReport(tc.ep.ID, model.CausePhysical, props[:1], props[1:])
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, cr)
				resp, err := NewResponse(directive(t, "Alexa", "ReportState", "", tc.ep.ID, ""), tc.ep.ID, props)
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, resp)
			})
		}
	}
}

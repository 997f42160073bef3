package alexa_test

import (
	"fmt"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
)

// A brightness directive of the avs profile, decoded against the lamp's
// current state into an absolute command for its bridge.
func Example() {
	p, err := alexa.ProfileByName("avs", alexa.ProfileOptions{Locales: []string{"en-US"}})
	if err != nil {
		panic(err)
	}
	lamp := model.Endpoint{
		ID: model.EndpointID("HUB1", "zigbee", "0x00124b0001"), FriendlyName: "Desk lamp", Category: model.CategoryLight,
		Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}},
	}
	state := model.State{On: model.Ptr(true), Brightness: model.Ptr(60)}

	d, err := alexa.ParseDirective([]byte(`{"directive":{"header":{"namespace":"Alexa.RangeController","name":"AdjustRangeValue",
		"instance":"Light.Brightness","messageId":"m1","correlationToken":"c1","payloadVersion":"3"},
		"endpoint":{"endpointId":"HUB1::zigbee::0x00124b0001"},"payload":{"rangeValueDelta":-25,"rangeValueDeltaDefault":false}}}`))
	if err != nil {
		panic(err)
	}
	in, err := p.Decode(d, lamp, state)
	if err != nil {
		panic(err)
	}
	fmt.Println(in.Command)
	if err := in.Command.Validate(lamp.Traits, state); err != nil {
		panic(err)
	}
	for _, prop := range p.Properties(lamp, in.Command.Apply(state), true, time.Now()) {
		fmt.Println(prop.Namespace, prop.Instance, prop.Name, prop.Value)
	}
	// Output:
	// brightness=35
	// Alexa.PowerController  powerState ON
	// Alexa.RangeController Light.Brightness rangeValue 35
}

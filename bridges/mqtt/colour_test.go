package mqtt

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// TestXYIsTheSharedConversion: for every colour of colorconv.AlexaColors, the
// zigbee2mqtt command for an xy-only lamp carries exactly the xy of avshub's
// one colour conversion. The Zigbee bridge's TestXYIsTheSharedConversion checks
// the same table, so both bridges send the same xy for the same Alexa colour.
func TestXYIsTheSharedConversion(t *testing.T) {
	extra, err := os.ReadFile("testdata/z2m/extra_devices.json")
	if err != nil {
		t.Fatal(err)
	}
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", extra)
	u := unitByID(t, z.units(), "z2m:0x00158d0003c0de03") // the desk lamp: xy only
	for _, c := range colorconv.AlexaColors {
		msgs, err := u.command(model.SetColor(model.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: 1}), model.State{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%s: %v %v", c.Name, msgs, err)
		}
		var got struct {
			Color colorconv.Point `json:"color"`
		}
		if err := json.Unmarshal([]byte(msgs[0].payload), &got); err != nil {
			t.Fatalf("%s: %v in %s", c.Name, err, msgs[0].payload)
		}
		if want := colorconv.HSToXY(c.Hue, c.Saturation, nil); got.Color != want {
			t.Errorf("%s: sent xy %v, want %v", c.Name, got.Color, want)
		}
	}
}

// TestXYKeepsToTheLampsGamut: a lamp whose zigbee2mqtt model_id is a Hue model
// Philips lists (LCT001, gamut B) gets xy inside its gamut: sRGB green, outside
// gamut B, goes to the gamut's green corner. The Zigbee bridge's test of the
// same name sends the same xy for the same model.
func TestXYKeepsToTheLampsGamut(t *testing.T) {
	extra, err := os.ReadFile("testdata/z2m/extra_devices.json")
	if err != nil {
		t.Fatal(err)
	}
	const lamp = `"ieee_address":"0x00158d0003c0de03",`
	withModel := strings.Replace(string(extra), lamp, lamp+`"model_id":"LCT001",`, 1)
	if withModel == string(extra) {
		t.Fatal("the desk lamp is not in extra_devices.json")
	}
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", []byte(withModel))
	u := unitByID(t, z.units(), "z2m:0x00158d0003c0de03")
	msgs, err := u.command(model.SetColor(model.HSB{Hue: 120, Saturation: 1, Brightness: 1}), model.State{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%v %v", msgs, err)
	}
	var got struct {
		Color colorconv.Point `json:"color"`
	}
	if err := json.Unmarshal([]byte(msgs[0].payload), &got); err != nil {
		t.Fatal(err)
	}
	if want := (colorconv.Point{X: 0.409, Y: 0.518}); got.Color != want {
		t.Errorf("green to an LCT001: sent xy %v, want gamut B's green corner %v", got.Color, want)
	}
}

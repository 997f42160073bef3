package zigbee

import (
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

func TestDefaultNames(t *testing.T) {
	light := model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}}
	tests := []struct {
		manufacturer, model string
		traits              model.Traits
		want                string
	}{
		{"IKEA of Sweden", "TRADFRI bulb E27 WS opal 980lm", light, "IKEA bulb"},
		{"Signify Netherlands B.V.", "LCT015", light, "Philips Hue bulb"},
		{"Yale", "YRD256 TSDB", model.Traits{Lock: &model.Lock{}}, "Yale lock"},
		{"Danfoss", "eTRV0100", model.Traits{Thermostat: &model.Thermostat{}}, "Danfoss radiator valve"},
		{"LUMI", "lumi.weather", model.Traits{TemperatureSensor: &model.TemperatureSensor{}}, "Aqara temperature sensor"},
		{"_TZ3000_abcdefgh", "TS011F", model.Traits{OnOff: &model.OnOff{}}, "Tuya switch"},
		{"", "", model.Traits{OnOff: &model.OnOff{}}, "Switch"},
		{"0x1234", "", light, "Bulb"},
		{"Acme", "Smart plug 2", model.Traits{OnOff: &model.OnOff{}}, "Acme plug"},
		{"IKEA of Sweden", "FYRTUR block-out roller blind", model.Traits{Cover: &model.Cover{}, Battery: &model.Battery{}}, "IKEA blind"},
		{"Schneider Electric", "CHFAN/SWITCH/1", model.Traits{OnOff: &model.OnOff{}, Fan: &model.Fan{}}, "Schneider fan"},
		{"HEIMAN", "WarningDevice", model.Traits{Siren: &model.Siren{}}, "Heiman siren"},
		{"LUMI", "lumi.sensor_magnet.aq2", model.Traits{Contact: &model.Contact{}}, "Aqara door sensor"},
		{"Signify Netherlands B.V.", "SML001", model.Traits{Motion: &model.Motion{}, TemperatureSensor: &model.TemperatureSensor{}}, "Philips Hue motion sensor"},
		{"LUMI", "lumi.sensor_wleak.aq1", model.Traits{WaterLeak: &model.WaterLeak{}}, "Aqara leak sensor"},
		{"HEIMAN", "SmokeSensor-N-3.0", model.Traits{Smoke: &model.Smoke{}, Tamper: &model.Tamper{}}, "Heiman smoke alarm"},
		{"HEIMAN", "COSensor-EM", model.Traits{Gas: &model.Gas{}}, "Heiman gas alarm"},
	}
	for _, tt := range tests {
		r := &record{IEEE: "000d6ffffe2b9c41", Manufacturer: tt.manufacturer, Model: tt.model}
		got := r.defaultName(tt.traits)
		if got != tt.want {
			t.Errorf("%q %q: %q, want %q", tt.manufacturer, tt.model, got, tt.want)
		}
		if err := model.ValidateFriendlyName(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
	}
}

package model

import "testing"

func TestBrands(t *testing.T) {
	for _, tc := range []struct{ in, brand, catalogue string }{
		{"IKEA of Sweden", "IKEA", "IKEA"},
		{"Signify Netherlands B.V.", "Philips Hue", "Philips Hue"},
		{"Philips", "Philips Hue", "Philips Hue"},
		{"LUMI", "Aqara", "Aqara"},
		{"_TZ3000_okaz9tjs", "Tuya", "Tuya"},
		{"Hampton Bay", "Hampton", "Hampton Bay"},
		{"Third Reality", "Third", "Third Reality"},
		{"AVATTO", "AVATTO", "AVATTO"},
		{"", "", ""},
		{"  ", "", ""},
		{"0x000d6ffffe2b9c41", "", ""},
		{"X", "", ""},
		{"ABC_123", "", ""},
	} {
		if got := Brand(tc.in); got != tc.brand {
			t.Errorf("Brand(%q) = %q, want %q", tc.in, got, tc.brand)
		}
		if got := CatalogueBrand(tc.in); got != tc.catalogue {
			t.Errorf("CatalogueBrand(%q) = %q, want %q", tc.in, got, tc.catalogue)
		}
	}
}

func TestIsAddressName(t *testing.T) {
	for in, want := range map[string]bool{
		"0x000d6ffffe2b9c41":   true,
		" 0x000D6FFFFE2B9C41 ": true,
		"0x000d6ffffe2b9c4":    false,
		"0x000d6ffffe2b9c4g":   false,
		"Kitchen lamp":         false,
		"":                     false,
	} {
		if got := IsAddressName(in); got != want {
			t.Errorf("IsAddressName(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	on, lvl := &OnOff{}, &Brightness{}
	for _, tc := range []struct {
		traits   Traits
		words    string
		heatOnly bool
		brand    string
		want     string
	}{
		{Traits{OnOff: on, Brightness: lvl}, "LED1545G12", false, "IKEA", "IKEA bulb"},
		{Traits{OnOff: on, Brightness: lvl}, "LCL001 Hue lightstrip", false, "Philips Hue", "Philips Hue light strip"},
		{Traits{OnOff: on}, "Smart plug (with power monitoring)", false, "Tuya", "Tuya plug"},
		{Traits{OnOff: on}, "QBKG04LM", false, "Aqara", "Aqara switch"},
		{Traits{Thermostat: &Thermostat{}}, "eTRV0100", true, "Danfoss", "Danfoss radiator valve"},
		{Traits{Thermostat: &Thermostat{}}, "Thermostatic radiator valve", false, "", "Radiator valve"},
		{Traits{Thermostat: &Thermostat{}}, "Zigbee Thermostat", false, "", "Thermostat"},
		{Traits{Lock: &Lock{}}, "YRD256", false, "Yale", "Yale lock"},
		{Traits{Contact: &Contact{}}, "", false, "Aqara", "Aqara door sensor"},
		{Traits{Motion: &Motion{}}, "TRADFRI remote control", false, "IKEA", "IKEA remote"},
		{Traits{Power: &Power{}}, "", false, "", "Meter"},
		{Traits{}, "", false, "", "Device"},
	} {
		if got := DefaultName(tc.brand, DeviceKind(tc.traits, tc.words, tc.heatOnly)); got != tc.want {
			t.Errorf("%v %q: %q, want %q", tc.traits.Kinds(), tc.words, got, tc.want)
		}
	}
}

package model

import (
	"reflect"
	"testing"
)

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

// TestEveryTraitHasAKindWord lists every trait (AllTraitKinds) and requires
// the words DeviceKind names a device by when the trait is its only one
// ("fan" for the fan), so a new trait's device is not named "device"
// ("IKEA device"): a case in DeviceKind, or an entry here saying why the
// trait alone is no device a person names.
func TestEveryTraitHasAKindWord(t *testing.T) {
	noKind := map[TraitKind]string{
		TraitToggle:  "generic: a device's own setting, beside its function",
		TraitRange:   "generic: a reading or a setting, named by the device's other traits",
		TraitMode:    "generic: a setting, named by the device's other traits",
		TraitBattery: "beside a device's function, never one by itself",
		TraitTamper:  "beside a detector, never one by itself",
	}
	for _, k := range AllTraitKinds() {
		tr, _ := Example(k)
		got := DeviceKind(tr, "", false)
		if why, ok := noKind[k]; ok {
			if got != "device" {
				t.Errorf("%s: DeviceKind says %q; drop it from noKind (%s)", k, got, why)
			}
			continue
		}
		if got == "device" {
			t.Errorf("%s: a device of it alone is a %q: give it its words in DeviceKind (names.go)", k, got)
		}
	}
}

// FunctionRank agrees with DeviceKind: of any two functions, DeviceKind
// names a device of both by the one FunctionRank puts first, and
// FunctionWord names each.
func TestFunctionRankAgreesWithDeviceKind(t *testing.T) {
	var ranked []TraitKind
	for _, k := range AllTraitKinds() {
		if tr, _ := Example(k); FunctionRank(tr) < FunctionRanks {
			ranked = append(ranked, k)
			if FunctionWord(tr) == "" {
				t.Errorf("%s: ranked but no FunctionWord", k)
			}
		}
	}
	if len(ranked) < FunctionRanks {
		t.Fatalf("only %v are ranked", ranked)
	}
	for _, a := range ranked {
		for _, b := range ranked {
			ta, _ := Example(a)
			tb, _ := Example(b)
			both := ta.Clone()
			bv, fv := reflect.ValueOf(&both).Elem(), reflect.ValueOf(tb)
			for i := range fv.NumField() {
				if !fv.Field(i).IsZero() {
					bv.Field(i).Set(fv.Field(i))
				}
			}
			first := ta
			if FunctionRank(tb) < FunctionRank(ta) {
				first = tb
			}
			if got, want := DeviceKind(both, "", false), DeviceKind(first, "", false); got != want {
				t.Errorf("%s with %s: DeviceKind says %q, FunctionRank puts first a %q", a, b, got, want)
			}
		}
	}
}

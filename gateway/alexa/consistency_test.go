package alexa

import (
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// randomState is a generated state for the kitchen-sink endpoint.
type randomState struct{ st model.State }

func (randomState) Generate(r *rand.Rand, _ int) reflect.Value {
	p := model.Ptr[float64]
	modes := []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeOff}
	locks := []model.LockState{model.Locked, model.Unlocked, model.Jammed}
	lower := 5 + r.Float64()*25
	return reflect.ValueOf(randomState{model.State{
		On:               model.Ptr(r.Intn(2) == 0),
		Brightness:       model.Ptr(r.Intn(101)),
		Color:            &model.HSB{Hue: r.Float64() * 360, Saturation: r.Float64(), Brightness: r.Float64()},
		ColorTemperature: model.Ptr(2000 + r.Intn(4501)),
		Lock:             locks[r.Intn(len(locks))],
		Thermostat: &model.ThermostatState{Mode: modes[r.Intn(len(modes))], Target: p(5 + r.Float64()*30),
			Lower: p(lower), Upper: p(lower + r.Float64()*(35-lower))},
		Temperature: p(r.Float64()*60 - 20),
	}})
}

// TestProfilesAgree renders random states with both profiles and checks that
// they report the same device state, each in its own vocabulary.
func TestProfilesAgree(t *testing.T) {
	ep, _ := kitchenSink()
	for _, scale := range []string{"CELSIUS", "FAHRENHEIT"} {
		th := *ep.Traits.Thermostat
		th.Scale = scale
		ep.Traits.Thermostat = &th
		avs, sh := mustProfile(t, ProfileAVS), mustProfile(t, ProfileSmartHome)
		at := time.Unix(0, 0)
		f := func(rs randomState) bool {
			a := map[string]any{}
			for _, p := range avs.Properties(ep, rs.st, true, at) {
				a[p.Namespace+"/"+p.Instance+"/"+p.Name] = p.Value
			}
			s := map[string]any{}
			for _, p := range sh.Properties(ep, rs.st, true, at) {
				s[p.Namespace+"/"+p.Name] = p.Value
			}
			temp := func(k string) float64 { return s[k].(temperatureProp).Value }
			lockValue := map[string]string{"LOCKED": LockValueLocked, "UNLOCKED": LockValueUnlocked, "JAMMED": LockValueJammed}
			checks := []struct {
				name string
				ok   bool
			}{
				{"power", a["Alexa.PowerController//powerState"] == s["Alexa.PowerController/powerState"]},
				{"brightness", a[nsRange+"/"+InstanceBrightness+"/rangeValue"] == float64(s[nsBrightness+"/brightness"].(int))},
				{"colour temperature", a[nsRange+"/"+InstanceColorTemperature+"/rangeValue"] == float64(s[nsColorTemperature+"/colorTemperatureInKelvin"].(int))},
				{"colour", a[nsMode+"/"+InstanceColor+"/mode"] == nearestColor(*rs.st.Color).value},
				{"lock", a[nsMode+"/"+InstanceLock+"/mode"] == lockValue[s[nsLock+"/lockState"].(string)]},
				{"mode", a[nsMode+"/"+InstanceThermostatMode+"/mode"] == thermostatModeValue(model.ThermostatMode(s[nsThermostat+"/thermostatMode"].(string)))},
				{"target", a[nsRange+"/"+InstanceTargetSetpoint+"/rangeValue"] == temp(nsThermostat+"/targetSetpoint")},
				{"lower", a[nsRange+"/"+InstanceLowerSetpoint+"/rangeValue"] == temp(nsThermostat+"/lowerSetpoint")},
				{"upper", a[nsRange+"/"+InstanceUpperSetpoint+"/rangeValue"] == temp(nsThermostat+"/upperSetpoint")},
				{"temperature", a[nsRange+"/"+InstanceCurrentTemperature+"/rangeValue"] == temp(nsTemperature+"/temperature")},
				{"scale", s[nsTemperature+"/temperature"].(temperatureProp).Scale == scale},
			}
			for _, c := range checks {
				if !c.ok {
					t.Logf("%s: %s differs\navs: %v\nsmarthome: %v", scale, c.name, a, s)
					return false
				}
			}
			// avs declares no EndpointHealth; smarthome one connectivity more.
			return len(s) == len(a)+1
		}
		if err := quick.Check(f, &quick.Config{MaxCount: 300}); err != nil {
			t.Errorf("%s: %v", scale, err)
		}
	}
}

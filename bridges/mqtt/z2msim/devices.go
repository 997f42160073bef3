package z2msim

// Expose builders, shaped like zigbee-herdsman-converters' lib/exposes output
// as zigbee2mqtt 2.x serialises it in bridge/devices.

const (
	accessState = 1
	accessSet   = 2
	accessGet   = 4
	accessAll   = accessState | accessSet | accessGet
)

type obj = map[string]any

func binary(name, property string, access int, on, off any, toggle any, desc string) obj {
	e := obj{"type": "binary", "name": name, "property": property, "access": access,
		"value_on": on, "value_off": off, "label": label(name), "description": desc}
	if toggle != nil {
		e["value_toggle"] = toggle
	}
	return e
}

func numeric(name string, access int, min, max any, unit, desc string) obj {
	e := obj{"type": "numeric", "name": name, "property": name, "access": access, "label": label(name), "description": desc}
	if min != nil {
		e["value_min"] = min
	}
	if max != nil {
		e["value_max"] = max
	}
	if unit != "" {
		e["unit"] = unit
	}
	return e
}

func enum(name string, access int, values []string, desc string) obj {
	return obj{"type": "enum", "name": name, "property": name, "access": access, "values": values, "label": label(name), "description": desc}
}

func label(name string) string {
	b := []byte(name)
	for i := range b {
		if b[i] == '_' {
			b[i] = ' '
		}
	}
	if len(b) > 0 && b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

func linkquality() obj {
	e := numeric("linkquality", accessState, 0, 255, "lqi", "Link quality (signal strength)")
	e["category"] = "diagnostic"
	return e
}

func battery() obj {
	e := numeric("battery", accessState|accessGet, 0, 100, "%", "Remaining battery in %, can take up to 24 hours before reported")
	e["category"] = "diagnostic"
	return e
}

func lightFeatures(minMired, maxMired int, xy, hs bool) []any {
	f := []any{
		binary("state", "state", accessAll, "ON", "OFF", "TOGGLE", "On/off state of this light"),
		numeric("brightness", accessAll, 0, 254, "", "Brightness of this light"),
	}
	if minMired > 0 {
		ct := numeric("color_temp", accessAll, minMired, maxMired, "mired", "Color temperature of this light")
		ct["presets"] = []any{
			obj{"name": "coolest", "value": minMired, "description": "Coolest temperature supported"},
			obj{"name": "cool", "value": 250, "description": "Cool temperature (250 mireds / 4000 Kelvin)"},
			obj{"name": "neutral", "value": 370, "description": "Neutral temperature (370 mireds / 2700 Kelvin)"},
			obj{"name": "warm", "value": 454, "description": "Warm temperature (454 mireds / 2200 Kelvin)"},
			obj{"name": "warmest", "value": maxMired, "description": "Warmest temperature supported"},
		}
		f = append(f, ct)
		startup := numeric("color_temp_startup", accessAll, minMired, maxMired, "mired", "Color temperature after cold power on of this light")
		startup["presets"] = []any{obj{"name": "previous", "value": 65535, "description": "Restore previous color_temp on cold power on"}}
		f = append(f, startup)
	}
	if xy {
		f = append(f, obj{"type": "composite", "name": "color_xy", "label": "Color (X/Y)", "property": "color", "access": accessAll,
			"description": "Color of this light in the CIE 1931 color space (x/y)",
			"features":    []any{numeric("x", accessAll, nil, nil, "", ""), numeric("y", accessAll, nil, nil, "", "")}})
	}
	if hs {
		f = append(f, obj{"type": "composite", "name": "color_hs", "label": "Color (HS)", "property": "color", "access": accessAll,
			"description": "Color of this light expressed as hue/saturation",
			"features":    []any{numeric("hue", accessAll, nil, nil, "", ""), numeric("saturation", accessAll, nil, nil, "", "")}})
	}
	return f
}

func lightExposes(minMired, maxMired int, xy, hs bool, effects []string) []any {
	e := []any{obj{"type": "light", "features": lightFeatures(minMired, maxMired, xy, hs)}}
	if len(effects) > 0 {
		e = append(e, enum("effect", accessSet, effects, "Triggers an effect on the light (e.g. make light blink for a few seconds)"))
	}
	e = append(e, enum("power_on_behavior", accessAll, []string{"off", "on", "toggle", "previous"}, "Controls the behavior when the device is powered on after power loss"))
	e = append(e, enum("identify", accessSet, []string{"identify"}, "Initiate device identification"))
	return e
}

// device is one simulated zigbee2mqtt device.
type device struct {
	IEEE         string
	Name         string
	Type         string // Router, EndDevice
	NetworkAddr  int
	Model        string // zhc model
	ModelID      string // reported by the device
	Vendor       string
	Manufacturer string
	Description  string // definition description
	PowerSource  string
	Exposes      []any
	State        map[string]any
	// retain: device option retain (state messages retained).
	Retain    bool
	Online    bool
	Supported bool
	Disabled  bool
	// joining: joined, zigbee2mqtt's interview in progress.
	joining bool
	// asleep: takes no commands and answers nothing (SetAsleep); refused:
	// properties whose /set the device refuses (SetRefused).
	asleep  bool
	refused map[string]bool
	// unanswered: properties whose converter sends its command without
	// waiting for an answer and returns no state (Danfoss's setpoint
	// command): only the device's report shows the result, so a refusal or
	// a sleeping device leaves zigbee2mqtt silent.
	unanswered map[string]bool
	// entry: the bridge/devices entry of a recorded device (kinds.go),
	// published as recorded; kind: its kind (KindCover …).
	entry map[string]any
	kind  string
	// A cover's movements (numbered by moves; travel: the one under way)
	// and a siren's warning mode ("" when silent).
	moves   int
	travel  *travel
	warning string
}

// defaultDevices returns the realistic device set: definitions and exposes as
// zigbee-herdsman-converters describes these products.
func defaultDevices() []*device {
	return []*device{
		{
			IEEE: "0x001788010b1c2d3e", Name: "Living Room/Colour Bulb", Type: "Router", NetworkAddr: 0x3a1f,
			Model: "9290022166", ModelID: "LCA001", Vendor: "Philips", Manufacturer: "Signify Netherlands B.V.",
			Description: "Hue white and color ambiance E26/E27", PowerSource: "Mains (single phase)",
			Exposes: lightExposes(153, 500, true, true, []string{"blink", "breathe", "okay", "channel_change", "candle", "fireplace", "colorloop", "finish_effect", "stop_effect", "stop_hue_effect"}),
			State:   map[string]any{"state": "OFF", "brightness": 254, "color_temp": 366, "color_mode": "color_temp", "color": map[string]any{"x": 0.4573, "y": 0.41}, "power_on_behavior": "previous"},
			Online:  true, Supported: true,
		},
		{
			IEEE: "0x000d6ffffe7a8b9c", Name: "kitchen/ceiling", Type: "Router", NetworkAddr: 0x51c2,
			Model: "LED1545G12", ModelID: "TRADFRI bulb E27 WS opal 980lm", Vendor: "IKEA", Manufacturer: "IKEA of Sweden",
			Description: "TRADFRI bulb E26/E27, white spectrum, globe, opal, 980 lm", PowerSource: "Mains (single phase)",
			Exposes: lightExposes(250, 454, false, false, []string{"blink", "breathe", "okay", "channel_change", "finish_effect", "stop_effect"}),
			State:   map[string]any{"state": "ON", "brightness": 200, "color_temp": 370, "color_mode": "color_temp", "power_on_behavior": "on"},
			Online:  true, Supported: true,
		},
		{
			IEEE: "0x000d6ffffe1f2e3d", Name: "Hallway Bulb", Type: "Router", NetworkAddr: 0x22b0,
			Model: "LED1836G9", ModelID: "TRADFRI bulb E27 WW 806lm", Vendor: "IKEA", Manufacturer: "IKEA of Sweden",
			Description: "TRADFRI bulb E26/E27, warm white, globe, opal, 806 lm", PowerSource: "Mains (single phase)",
			Exposes: lightExposes(0, 0, false, false, []string{"blink", "breathe", "okay", "channel_change", "finish_effect", "stop_effect"}),
			State:   map[string]any{"state": "OFF", "brightness": 127, "power_on_behavior": "off"},
			Online:  true, Supported: true,
		},
		{
			IEEE: "0x000d6f0011a2b3c4", Name: "Front Door", Type: "EndDevice", NetworkAddr: 0x6d11,
			Model: "YRD256HA20BSC", ModelID: "YRD256 TSDB", Vendor: "Yale", Manufacturer: "Yale",
			Description: "Assure lock SL", PowerSource: "Battery",
			Exposes: []any{
				obj{"type": "lock", "features": []any{
					binary("state", "state", accessAll, "LOCK", "UNLOCK", nil, "State of the lock"),
					enum("lock_state", accessState, []string{"not_fully_locked", "locked", "unlocked"}, "Actual state of the lock"),
				}},
				battery(),
				obj{"type": "composite", "name": "pin_code", "label": "Pin code", "property": "pin_code", "access": accessSet,
					"features": []any{numeric("user", accessSet, nil, nil, "", "User ID to set or clear the pincode for"),
						enum("user_type", accessSet, []string{"unrestricted", "year_day_schedule", "week_day_schedule", "master", "non_access"}, "Type of user, valid values: unrestricted, year_day_schedule, week_day_schedule, master or non_access"),
						binary("user_enabled", "user_enabled", accessSet, true, false, nil, "Whether the user is enabled/disabled"),
						numeric("pin_code", accessSet, nil, nil, "", "Pincode to set, set pincode to null to clear")}},
				enum("action", accessState, []string{"unknown", "lock", "unlock", "lock_failure_invalid_pin_or_id", "lock_failure_invalid_schedule", "unlock_failure_invalid_pin_or_id", "unlock_failure_invalid_schedule", "one_touch_lock", "key_lock", "key_unlock", "auto_lock", "schedule_lock", "schedule_unlock", "manual_lock", "manual_unlock", "non_access_user_operational_event"}, "Triggered action on the lock"),
				obj{"type": "text", "name": "action_source_name", "label": "Action source name", "property": "action_source_name", "access": accessState, "description": "Source of the triggered action on the lock"},
				numeric("auto_relock_time", accessAll, 0, 3600, "s", "The number of seconds to wait after unlocking a lock before it automatically locks again. 0=disabled"),
				enum("sound_volume", accessAll, []string{"silent_mode", "low_volume", "high_volume"}, "Sound volume of the lock"),
			},
			State:  map[string]any{"state": "LOCK", "lock_state": "locked", "battery": 78, "auto_relock_time": 0, "sound_volume": "low_volume"},
			Online: true, Supported: true,
		},
		{
			IEEE: "0x000b57fffe9a8b7c", Name: "Bedroom Radiator", Type: "EndDevice", NetworkAddr: 0x7e02,
			Model: "014G2461", ModelID: "eTRV0100", Vendor: "Danfoss", Manufacturer: "Danfoss",
			Description: "Ally thermostat", PowerSource: "Battery",
			Exposes: []any{
				battery(),
				obj{"type": "climate", "features": []any{
					func() obj {
						e := numeric("occupied_heating_setpoint", accessAll, 5, 35, "°C", "Temperature setpoint")
						e["value_step"] = 0.5
						return e
					}(),
					numeric("local_temperature", accessState|accessGet, nil, nil, "°C", "Current temperature measured on the device"),
					enum("system_mode", accessAll, []string{"heat"}, "Mode of this device"),
					enum("running_state", accessState|accessGet, []string{"idle", "heat"}, "The current running state"),
					numeric("pi_heating_demand", accessState|accessGet, 0, 100, "%", "Position of the valve (= demanded heat) where 0% is fully closed and 100% is fully open"),
				}},
				binary("window_open_external", "window_open_external", accessAll, true, false, nil, "Set if the window is open or close."),
				numeric("external_measured_room_sensor", accessAll, -8000, 3500, "", "The temperature sensor of the TRV is — due to its design — relatively close to the heat source."),
				enum("mounted_mode_active", accessState|accessGet, []string{"true", "false"}, "Is the unit in mounting mode."),
				// Unknown until the valve reports them (null, as the real one publishes them).
				enum("setpoint_change_source", accessState, []string{"manual", "schedule", "externally"}, "Values observed are `0` (manual), `1` (schedule) or `2` (externally)"),
				numeric("trigger_time", accessAll, 0, 65535, "min", "Time that the schedule is triggered"),
			},
			State: map[string]any{"occupied_heating_setpoint": 20.0, "local_temperature": 19.5, "system_mode": "heat", "running_state": "heat", "pi_heating_demand": 34, "battery": 91,
				"window_open_external": false, "external_measured_room_sensor": -8000, "mounted_mode_active": "false"},
			Online: true, Supported: true, unanswered: map[string]bool{"occupied_heating_setpoint": true},
		},
		{
			IEEE: "0x00158d00045a6b7c", Name: "Office Sensor", Type: "EndDevice", NetworkAddr: 0x1c44,
			Model: "WSDCGQ11LM", ModelID: "lumi.weather", Vendor: "Aqara", Manufacturer: "LUMI",
			Description: "Temperature, humidity and pressure sensor", PowerSource: "Battery",
			Exposes: []any{
				battery(),
				func() obj {
					e := numeric("voltage", accessState, nil, nil, "mV", "Voltage of the battery in millivolts")
					e["category"] = "diagnostic"
					return e
				}(),
				numeric("temperature", accessState, nil, nil, "°C", "Measured temperature value"),
				numeric("humidity", accessState, nil, nil, "%", "Measured relative humidity"),
				numeric("pressure", accessState, nil, nil, "hPa", "The measured atmospheric pressure"),
			},
			State:  map[string]any{"temperature": 21.37, "humidity": 48.2, "pressure": 1012.4, "battery": 100, "voltage": 3005},
			Online: true, Supported: true, Retain: true,
		},
		{
			IEEE: "0x000d6ffffeab1234", Name: "Bedroom Remote", Type: "EndDevice", NetworkAddr: 0x0bb3,
			Model: "E1524/E1810", ModelID: "TRADFRI remote control", Vendor: "IKEA", Manufacturer: "IKEA of Sweden",
			Description: "TRADFRI remote control", PowerSource: "Battery",
			Exposes: []any{
				battery(),
				enum("action", accessState, []string{"arrow_left_click", "arrow_left_hold", "arrow_left_release", "arrow_right_click", "arrow_right_hold", "arrow_right_release", "brightness_down_click", "brightness_down_hold", "brightness_down_release", "brightness_up_click", "brightness_up_hold", "brightness_up_release", "toggle"}, "Triggered action (e.g. a button click)"),
			},
			State:  map[string]any{"battery": 87},
			Online: true, Supported: true,
		},
	}
}

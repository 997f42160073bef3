package alexa

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Intent is what a decoded directive asks for: a state report, or one absolute
// command (relative adjustments already resolved against the current state).
type Intent struct {
	ReportState bool
	Command     model.Command
	// Scale is the temperature scale the directive used ("CELSIUS", "FAHRENHEIT",
	// "KELVIN"), for answering TEMPERATURE_VALUE_OUT_OF_RANGE in the same scale.
	Scale string
}

// Profile renders traits as Alexa capabilities and decodes directives back into
// trait commands. Two profiles exist: "avs" (the default) and "smarthome".
// Profiles are immutable and safe for concurrent use.
type Profile interface {
	// Name is "avs" or "smarthome".
	Name() string
	// Endpoint renders one endpoint as an Alexa.Discovery endpoint object.
	Endpoint(ep model.Endpoint) (json.RawMessage, error)
	// Decode turns a directive for ep (whose current state is st) into an Intent,
	// or returns a *model.Error to answer with an ErrorResponse. It does not
	// call model.Command.Validate (the router does).
	Decode(d *Directive, ep model.Endpoint, st model.State) (Intent, error)
	// Properties renders the endpoint's state as context properties.
	Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []Property
	// Proactive reports whether a property is declared proactivelyReported.
	Proactive(ep model.Endpoint, p Property) bool
}

// Profile names.
const (
	ProfileAVS       = "avs"
	ProfileSmartHome = "smarthome"
)

// ProfileOptions configures a profile.
type ProfileOptions struct {
	// Locales for capabilityResources friendly names (default ["en-US"]); each
	// must be one of SupportedLocales.
	Locales []string
	// TemperatureScale is the scale temperatures are reported in when the
	// endpoint does not say (a bare temperature sensor): "CELSIUS" (default) or
	// "FAHRENHEIT". A thermostat's own Scale always wins.
	TemperatureScale string
}

// ProfileByName returns the "avs" (default when name is "") or "smarthome" profile.
func ProfileByName(name string, opts ProfileOptions) (Profile, error) {
	locales, err := checkLocales(opts.Locales)
	if err != nil {
		return nil, err
	}
	scale, err := ParseScale(opts.TemperatureScale)
	if err != nil || scale == Kelvin {
		return nil, fmt.Errorf("alexa: temperature scale %q: want CELSIUS or FAHRENHEIT", opts.TemperatureScale)
	}
	p := &profile{locales: locales, scale: scale}
	// lite renders the same capabilities without friendly names; Proactive
	// only needs the declared properties.
	lite := &profile{scale: scale}
	switch name {
	case "", ProfileAVS:
		p.name, lite.name = ProfileAVS, ProfileAVS
		p.lite = &avsProfile{lite}
		return &avsProfile{p}, nil
	case ProfileSmartHome:
		p.name, lite.name = ProfileSmartHome, ProfileSmartHome
		p.lite = &smartHomeProfile{lite}
		return &smartHomeProfile{p}, nil
	}
	return nil, fmt.Errorf("alexa: unknown profile %q (want %q or %q)", name, ProfileAVS, ProfileSmartHome)
}

// profile holds what both profiles share.
type profile struct {
	name    string
	locales []string
	scale   Scale
	lite    renderer // the same profile without locales (see ProfileByName)
}

// Name is the profile's name.
func (p *profile) Name() string { return p.name }

// displayCategories Alexa's schema knows; any other category is published as OTHER.
var displayCategories = []string{
	"ACTIVITY_TRIGGER", "CAMERA", "COMPUTER", "CONTACT_SENSOR", "DOOR", "DOORBELL", "EXTERIOR_BLIND", "FAN",
	"GAME_CONSOLE", "GARAGE_DOOR", "INTERIOR_BLIND", "LAPTOP", "LIGHT", "MICROWAVE", "MOBILE_PHONE", "MOTION_SENSOR",
	"MUSIC_SYSTEM", "NETWORK_HARDWARE", "OTHER", "OVEN", "PHONE", "SCENE_TRIGGER", "SCREEN", "SECURITY_PANEL",
	"SMARTLOCK", "SMARTPLUG", "SPEAKER", "STREAMING_DEVICE", "SWITCH", "TABLET", "TEMPERATURE_SENSOR", "THERMOSTAT",
	"TV", "WEARABLE",
}

type endpointObject struct {
	EndpointID           string                `json:"endpointId"`
	FriendlyName         string                `json:"friendlyName"`
	Description          string                `json:"description"`
	ManufacturerName     string                `json:"manufacturerName"`
	DisplayCategories    []string              `json:"displayCategories"`
	AdditionalAttributes *additionalAttributes `json:"additionalAttributes,omitempty"`
	Connections          []connection          `json:"connections,omitempty"`
	Capabilities         []capability          `json:"capabilities"`
}

type additionalAttributes struct {
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
}

type connection struct {
	Type       string `json:"type"`
	MACAddress string `json:"macAddress,omitempty"`
	Value      string `json:"value,omitempty"`
}

type capability struct {
	Type                string        `json:"type"`
	Interface           string        `json:"interface"`
	Instance            string        `json:"instance,omitempty"`
	Version             string        `json:"version"`
	Properties          *capProps     `json:"properties,omitempty"`
	CapabilityResources *resources    `json:"capabilityResources,omitempty"`
	Configuration       any           `json:"configuration,omitempty"`
	Semantics           *semantics    `json:"semantics,omitempty"`
	declared            []propertyKey // properties it declares (not rendered)
}

type capProps struct {
	Supported           []supportedName `json:"supported"`
	ProactivelyReported bool            `json:"proactivelyReported"`
	Retrievable         bool            `json:"retrievable"`
	NonControllable     bool            `json:"nonControllable,omitempty"`
}

type supportedName struct {
	Name string `json:"name"`
}

type semantics struct {
	ActionMappings []actionMapping `json:"actionMappings,omitempty"`
	StateMappings  []stateMapping  `json:"stateMappings,omitempty"`
}

type actionMapping struct {
	Type      string          `json:"@type"` // ActionsToDirective
	Actions   []string        `json:"actions"`
	Directive semanticCommand `json:"directive"`
}

type semanticCommand struct {
	Name    string `json:"name"`
	Payload any    `json:"payload,omitempty"`
}

type stateMapping struct {
	Type   string      `json:"@type"` // StatesToValue or StatesToRange
	States []string    `json:"states"`
	Value  any         `json:"value,omitempty"`
	Range  *stateRange `json:"range,omitempty"`
}

// stateRange is the range of a StatesToRange mapping.
type stateRange struct {
	Min float64 `json:"minimumValue"`
	Max float64 `json:"maximumValue"`
}

// propertyKey names one reportable property.
type propertyKey struct{ namespace, instance, name string }

// iface builds an AlexaInterface capability with reportable properties
// (all proactively reported and retrievable).
func iface(namespace, instance string, names ...string) capability {
	c := capability{Type: "AlexaInterface", Interface: namespace, Instance: instance, Version: "3"}
	if len(names) > 0 {
		c.Properties = &capProps{ProactivelyReported: true, Retrievable: true}
		for _, n := range names {
			c.Properties.Supported = append(c.Properties.Supported, supportedName{n})
			c.declared = append(c.declared, propertyKey{namespace, instance, n})
		}
	}
	return c
}

// renderer is what differs between profiles.
type renderer interface {
	capabilities(ep model.Endpoint) ([]capability, error)
}

// renderEndpoint renders ep with r's capabilities.
func (p *profile) renderEndpoint(r renderer, ep model.Endpoint) (json.RawMessage, error) {
	if !model.ValidEndpointID(ep.ID) {
		return nil, fmt.Errorf("alexa: endpoint id %q is not a valid Alexa endpointId", ep.ID)
	}
	if err := model.ValidateFriendlyName(ep.FriendlyName); err != nil {
		return nil, fmt.Errorf("alexa: endpoint %s: %w", ep.ID, err)
	}
	caps, err := r.capabilities(ep)
	if err != nil {
		return nil, fmt.Errorf("alexa: endpoint %s: %w", ep.ID, err)
	}
	if len(caps) > 100 {
		return nil, fmt.Errorf("alexa: endpoint %s has %d capabilities; Alexa takes at most 100", ep.ID, len(caps))
	}
	obj := endpointObject{
		EndpointID:        ep.ID,
		FriendlyName:      ep.FriendlyName,
		Description:       model.Truncate(ep.Description, model.MaxDescriptionLen),
		ManufacturerName:  model.Truncate(ep.Manufacturer, 128),
		DisplayCategories: []string{string(ep.Category)},
		Capabilities:      caps,
	}
	if obj.ManufacturerName == "" {
		obj.ManufacturerName = "avshub"
	}
	if obj.Description == "" {
		obj.Description = model.Truncate(describe(ep), model.MaxDescriptionLen)
	}
	if !slices.Contains(displayCategories, obj.DisplayCategories[0]) {
		obj.DisplayCategories[0] = string(model.CategoryOther)
	}
	if ep.Manufacturer != "" || ep.Model != "" {
		obj.AdditionalAttributes = &additionalAttributes{Manufacturer: model.Truncate(ep.Manufacturer, 256), Model: model.Truncate(ep.Model, 256)}
	}
	for _, c := range ep.Connections {
		cn := connection{Type: string(c.Type), MACAddress: model.Truncate(c.MACAddress, 256), Value: model.Truncate(c.Value, 256)}
		switch c.Type {
		case model.ConnectionZigbee, model.ConnectionTCPIP, model.ConnectionUnknown, "ZWAVE":
		default:
			cn.Type = string(model.ConnectionUnknown)
		}
		obj.Connections = append(obj.Connections, cn)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("alexa: encode endpoint %s: %w", ep.ID, err)
	}
	return b, nil
}

// describe is the description of an endpoint that has none.
func describe(ep model.Endpoint) string {
	switch {
	case ep.Model != "" && ep.Bridge != "":
		return ep.Model + " via avshub " + ep.Bridge
	case ep.Model != "":
		return ep.Model + " via avshub"
	case ep.Bridge != "":
		return "Device via avshub " + ep.Bridge
	}
	return "Device via avshub"
}

// declaredProperties returns every property the capabilities declare.
func declaredProperties(caps []capability) map[propertyKey]bool {
	m := map[propertyKey]bool{}
	for _, c := range caps {
		for _, k := range c.declared {
			m[k] = true
		}
	}
	return m
}

// proactive reports whether p is one of the endpoint's declared properties
// (every declared property is proactivelyReported). r is a profile's lite
// renderer: names do not change what is declared.
func proactive(r renderer, ep model.Endpoint, p Property) bool {
	caps, err := r.capabilities(ep)
	if err != nil {
		return false
	}
	return declaredProperties(caps)[propertyKey{p.Namespace, p.Instance, p.Name}]
}

// checkInstances refuses two capabilities with the same interface and
// instance, and two with the same primary friendly name (Alexa requires the
// first name of each capability to be unique on the endpoint).
func checkInstances(caps []capability) error {
	seen := map[[2]string]bool{}
	primary := map[labelValue]string{}
	for _, c := range caps {
		k := [2]string{c.Interface, c.Instance}
		if seen[k] {
			if c.Instance == "" {
				return fmt.Errorf("interface %s twice", c.Interface)
			}
			return fmt.Errorf("instance %q of %s twice (generic traits must not reuse the profile's instance names)", c.Instance, c.Interface)
		}
		seen[k] = true
		if c.CapabilityResources == nil || len(c.CapabilityResources.FriendlyNames) == 0 {
			continue
		}
		first := c.CapabilityResources.FriendlyNames[0].Value
		first.Text = strings.ToLower(first.Text)
		if other, dup := primary[first]; dup {
			return fmt.Errorf("instances %q and %q have the same primary friendly name %+v", other, c.Instance, c.CapabilityResources.FriendlyNames[0].Value)
		}
		primary[first] = c.Instance
	}
	return nil
}

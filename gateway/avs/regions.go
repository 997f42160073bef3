package avs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Region base URLs. Alexa.ApiGateway.SetGateway
// may point elsewhere; that URL then wins and is persisted.
var (
	// Endpoints maps a region (NA, EU, FE) to its current base URL.
	Endpoints = map[string]string{
		"NA": "https://alexa.na.gateway.devices.a2z.com",
		"EU": "https://alexa.eu.gateway.devices.a2z.com",
		"FE": "https://alexa.fe.gateway.devices.a2z.com",
	}
	// LegacyEndpoints maps a region to its legacy base URL.
	LegacyEndpoints = map[string]string{
		"NA": "https://avs-alexa-na.amazon.com",
		"EU": "https://avs-alexa-eu.amazon.com",
		"FE": "https://avs-alexa-fe.amazon.com",
	}
)

// RegionURL returns the base URL of region ("" means NA), current or legacy.
func RegionURL(region string, legacy bool) (string, error) {
	if region == "" {
		region = "NA"
	}
	t := Endpoints
	if legacy {
		t = LegacyEndpoints
	}
	u, ok := t[strings.ToUpper(region)]
	if !ok {
		return "", fmt.Errorf("avs: unknown region %q (want NA, EU or FE)", region)
	}
	return u, nil
}

// checkBaseURL accepts an https URL with a host and no path beyond "/".
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("avs: gateway URL %q: %w", s, err)
	}
	if u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("avs: gateway URL %q is not https://host[:port]", s)
	}
	return "https://" + u.Host, nil
}

// GatewayStore persists the gateway URL that Alexa.ApiGateway.SetGateway sets.
type GatewayStore interface {
	// LoadGateway returns the persisted URL, "" when none.
	LoadGateway(ctx context.Context) (string, error)
	// SaveGateway persists url.
	SaveGateway(ctx context.Context, url string) error
}

// DeviceInfo describes the hub itself as an AVS device.
type DeviceInfo struct {
	// EndpointID overrides the default "<productId>::<serial>" (escaped).
	EndpointID string
	// ProductID is the AVS product id.
	ProductID string
	// SerialNumber is the device serial number (DSN).
	SerialNumber string
	// FriendlyName is the hub's name; the AVS default endpoint leaves it empty.
	FriendlyName string
	// Description defaults to "avshub home hub".
	Description string
	// Manufacturer defaults to "avshub".
	Manufacturer string
	// Locales for System 2.0 (default en-US).
	Locales []string
}

// DeviceEndpointID returns the hub's endpoint id for info.
func DeviceEndpointID(info DeviceInfo) string {
	if info.EndpointID != "" {
		return info.EndpointID
	}
	id := escapeID(info.ProductID) + "::" + escapeID(info.SerialNumber)
	if len(id) > 256 {
		id = id[:256]
	}
	return id
}

// escapeID escapes characters outside Alexa's endpointId charset as "_xx".
func escapeID(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-=;?@&", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// DeviceEndpoint returns the hub's own endpoint for the first AddOrUpdateReport:
// display category ALEXA_VOICE_ENABLED, registration {productId,
// deviceSerialNumber}, and the device-only capabilities System 2.0 (locales),
// Alexa.ApiGateway 1.0 and Alexa 3.
func DeviceEndpoint(info DeviceInfo) json.RawMessage {
	locales := info.Locales
	if len(locales) == 0 {
		locales = []string{"en-US"}
	}
	desc, manu := info.Description, info.Manufacturer
	if desc == "" {
		desc = "avshub home hub"
	}
	if manu == "" {
		manu = "avshub"
	}
	type capability struct {
		Type           string `json:"type"`
		Interface      string `json:"interface"`
		Version        string `json:"version"`
		Configurations any    `json:"configurations,omitempty"`
	}
	ep := struct {
		EndpointID        string       `json:"endpointId"`
		FriendlyName      string       `json:"friendlyName"`
		Description       string       `json:"description"`
		ManufacturerName  string       `json:"manufacturerName"`
		DisplayCategories []string     `json:"displayCategories"`
		Registration      any          `json:"registration"`
		Capabilities      []capability `json:"capabilities"`
	}{
		EndpointID:        DeviceEndpointID(info),
		FriendlyName:      info.FriendlyName,
		Description:       desc,
		ManufacturerName:  manu,
		DisplayCategories: []string{"ALEXA_VOICE_ENABLED"},
		Registration: map[string]string{
			"productId":          info.ProductID,
			"deviceSerialNumber": info.SerialNumber,
		},
		Capabilities: []capability{
			{Type: "AlexaInterface", Interface: "Alexa", Version: "3"},
			{Type: "AlexaInterface", Interface: "Alexa.ApiGateway", Version: "1.0"},
			{Type: "AlexaInterface", Interface: "System", Version: "2.0", Configurations: map[string]any{
				"locales": locales,
			}},
		},
	}
	b, _ := json.Marshal(ep) // plain strings: cannot fail
	return b
}

package lwa

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/cacerts"
)

// DefaultBaseURL is Login with Amazon's API host.
const DefaultBaseURL = "https://api.amazon.com"

// Config configures linking and token refresh.
type Config struct {
	// ClientID of the security profile ("Other devices and platforms" tab).
	ClientID string
	// ClientSecret is sent on refresh only for refresh tokens imported from a
	// companion app (remote authorization); CBL tokens never need it.
	ClientSecret string
	// ProductID is the AVS product id (scope_data productID).
	ProductID string
	// SerialNumber is the device serial number (scope_data deviceSerialNumber).
	SerialNumber string
	// DataDir holds the token file (created 0700; the file is 0600).
	DataDir string
	// BaseURL of LWA (default https://api.amazon.com).
	BaseURL string
	// HTTPClient for LWA requests (default: a client with a 30 s timeout and
	// system roots); inject one to trust the emulator's CA.
	HTTPClient *http.Client
	// RefreshHeadStart: refresh this long before the access token expires
	// (default 10 min, capped at half the token's lifetime).
	RefreshHeadStart time.Duration
	// CodePairAttempts is how many code pairs Link requests when the owner
	// does not enter a code in time (default 3).
	CodePairAttempts int
	// Logger (default slog.Default()); token text never reaches it.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: a timer); tests inject a fake
	// clock through Now and Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults returns c with defaults applied.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.RefreshHeadStart <= 0 {
		c.RefreshHeadStart = 10 * time.Minute
	}
	if c.CodePairAttempts <= 0 {
		c.CodePairAttempts = 3
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("lwa configuration")

// validate checks what every operation needs; linking needs more (link=true).
func (c Config) validate(link bool) error {
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, "lwa.clientId")
	}
	if c.DataDir == "" {
		missing = append(missing, "hub.dataDir")
	}
	if link && c.ProductID == "" {
		missing = append(missing, "hub.productId")
	}
	if link && c.SerialNumber == "" {
		missing = append(missing, "hub.serialNumber")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrConfig, strings.Join(missing, ", "))
	}
	if !strings.HasPrefix(c.BaseURL, "https://") && !strings.HasPrefix(c.BaseURL, "http://127.0.0.1") && !strings.HasPrefix(c.BaseURL, "http://localhost") {
		return fmt.Errorf("%w: lwa.url %q must be https://", ErrConfig, c.BaseURL)
	}
	return nil
}

// HTTPClientWithCA returns an HTTP client that trusts the system roots plus
// the PEM certificates in caFile ("" = system roots only).
func HTTPClientWithCA(caFile string) (*http.Client, error) {
	if caFile == "" {
		return &http.Client{Timeout: 30 * time.Second}, nil
	}
	pool, err := cacerts.File(caFile, true)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrConfig, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}, nil
}

// Package forward is the Lambda side of the skill road: it signs a directive
// (package sign), POSTs it to the hub's skill endpoint and returns the hub's
// answer. When the hub cannot be reached it answers Alexa itself, so the
// person hears that the hub is offline instead of a silent failure:
// BRIDGE_UNREACHABLE for controller directives and ReportState,
// ACCEPT_GRANT_FAILED for AcceptGrant; Discover fails (Alexa keeps the devices
// it knows). It uses only the standard library, so the Lambda binary stays small.
package forward

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/cacerts"
	"github.com/avshub/avshub/gateway/skill/sign"
)

// Forwarder forwards directives to the hub.
type Forwarder struct {
	// URL is the hub's skill endpoint (https://…/alexa/skill).
	URL string
	// Secret is the HMAC secret shared with the hub.
	Secret []byte
	// Client is the HTTP client (Timeout is applied per request by Handle).
	Client *http.Client
	// Timeout bounds one forward (default 7 s: Alexa waits 8 s).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// MaxAnswer bounds the hub's answer (a Discover.Response of 300 endpoints fits).
const MaxAnswer = 4 << 20

// FromEnv builds a Forwarder from AVSHUB_URL, AVSHUB_SECRET and the optional
// AVSHUB_CA_PEM (a PEM certificate to trust besides the system roots: the
// hub's own self-signed certificate).
func FromEnv(getenv func(string) string) (*Forwarder, error) {
	u, secret := strings.TrimSpace(getenv("AVSHUB_URL")), strings.TrimSpace(getenv("AVSHUB_SECRET"))
	switch {
	case !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost"):
		return nil, errors.New("AVSHUB_URL must be the hub's https:// skill endpoint")
	case len(secret) < 32:
		return nil, errors.New("AVSHUB_SECRET must be the hub's skill.secret (at least 32 characters)")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if pem := getenv("AVSHUB_CA_PEM"); pem != "" {
		pool, err := cacerts.Pool([]byte(pem), true)
		if err != nil {
			return nil, fmt.Errorf("AVSHUB_CA_PEM: %w", err)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &Forwarder{URL: u, Secret: []byte(secret), Client: &http.Client{Transport: tr}}, nil
}

// Handle forwards one directive and returns the answer to give Alexa.
func (f *Forwarder) Handle(ctx context.Context, event []byte) ([]byte, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 7 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)-300*time.Millisecond < timeout {
		timeout = max(time.Until(dl)-300*time.Millisecond, 100*time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	answer, err := f.post(ctx, event, now())
	if err == nil {
		return answer, nil
	}
	return fallback(event, err)
}

func (f *Forwarder) post(ctx context.Context, event []byte, at time.Time) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sign.Header, sign.Sign(f.Secret, at, event))
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hub unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("reading the hub's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("hub answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	if len(body) > MaxAnswer || !json.Valid(body) {
		return nil, errors.New("the hub's answer is not one JSON document")
	}
	return body, nil
}

// ErrDiscoverFailed is returned for a Discover the hub could not answer.
var ErrDiscoverFailed = errors.New("forward: the hub could not answer Discover")

// fallback answers Alexa when the hub could not.
func fallback(event []byte, cause error) ([]byte, error) {
	var d struct {
		Directive struct {
			Header struct {
				Namespace        string `json:"namespace"`
				Name             string `json:"name"`
				CorrelationToken string `json:"correlationToken"`
			} `json:"header"`
			Endpoint *struct {
				EndpointID string `json:"endpointId"`
			} `json:"endpoint"`
		} `json:"directive"`
	}
	if err := json.Unmarshal(event, &d); err != nil || d.Directive.Header.Namespace == "" {
		return nil, fmt.Errorf("forward: not a directive, and %w", cause)
	}
	h := d.Directive.Header
	header := map[string]string{"namespace": "Alexa", "name": "ErrorResponse", "payloadVersion": "3", "messageId": messageID()}
	if h.CorrelationToken != "" {
		header["correlationToken"] = h.CorrelationToken
	}
	payload := map[string]string{"type": "BRIDGE_UNREACHABLE", "message": "The avshub hub cannot be reached: " + limit(cause.Error(), 200)}
	ev := map[string]any{"header": header, "payload": payload}
	switch {
	case h.Namespace == "Alexa.Discovery":
		return nil, fmt.Errorf("%w: %w", ErrDiscoverFailed, cause)
	case h.Namespace == "Alexa.Authorization":
		header["namespace"] = "Alexa.Authorization"
		payload["type"] = "ACCEPT_GRANT_FAILED"
	case d.Directive.Endpoint != nil:
		ev["endpoint"] = map[string]string{"endpointId": d.Directive.Endpoint.EndpointID}
	}
	return json.Marshal(map[string]any{"event": ev})
}

func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// messageID returns a version 4 UUID.
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

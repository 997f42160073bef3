package skill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill/sign"
)

// Check is one finding of Doctor.
type Check struct {
	Name   string // what was checked
	OK     bool   // it is fine (a warning is OK with Detail)
	Detail string // what was found, or what to do
}

// DoctorOptions is what Doctor checks.
type DoctorOptions struct {
	// PublicURL is the URL the Lambda calls (skill.publicUrl).
	PublicURL string
	// Secret is the HMAC secret (skill.secret).
	Secret []byte
	// LWA is the skill's LWA configuration (DataDir, BaseURL, HTTPClient).
	LWA lwa.Config
	// HTTPClient reaches PublicURL as the Lambda would (default: system roots).
	HTTPClient *http.Client
	// MaxSkew is the clock difference tolerated (default 30 s).
	MaxSkew time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Doctor checks the hub's side of the skill road: the secret, that the public
// URL reaches this hub's endpoint through the tunnel or proxy with a valid
// certificate and the same secret, the event gateway tokens and the linked
// user, and the hub's clock against Login with Amazon's.
func Doctor(ctx context.Context, o DoctorOptions) []Check {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = 30 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	var out []Check
	if len(o.Secret) < 32 {
		out = append(out, Check{"HMAC secret", false, "skill.secret must be at least 32 characters, the same as the Lambda's AVSHUB_SECRET"})
	} else {
		out = append(out, Check{"HMAC secret", true, fmt.Sprintf("%d characters (the Lambda's AVSHUB_SECRET must be the same)", len(o.Secret))})
	}
	out = append(out, probeURL(ctx, o)...)
	out = append(out, tokens(o))
	out = append(out, clock(ctx, o))
	return out
}

// probeURL POSTs a signed ReportState without a token to the public URL, as
// the Lambda would: this hub answers it with an ErrorResponse
// (INVALID_AUTHORIZATION_CREDENTIAL), which proves the whole way in works.
func probeURL(ctx context.Context, o DoctorOptions) []Check {
	if o.PublicURL == "" {
		return []Check{{"public URL", false, "skill.publicUrl is not set: set it to the https:// URL of your tunnel or proxy (the Lambda's AVSHUB_URL) so it can be checked"}}
	}
	body := []byte(`{"directive":{"header":{"namespace":"Alexa","name":"ReportState","payloadVersion":"3","messageId":"avshub-skill-doctor","correlationToken":"avshub-skill-doctor"},"endpoint":{"endpointId":"avshub-skill-doctor"},"payload":{}}}`)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.PublicURL, bytes.NewReader(body))
	if err != nil {
		return []Check{{"public URL", false, err.Error()}}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sign.Header, sign.Sign(o.Secret, o.Now(), body))
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return []Check{{"public URL", false, fmt.Sprintf("%s cannot be reached as the Lambda would reach it: %v (is the hub running, and the tunnel or proxy up? a certificate error means AWS will refuse it too)", o.PublicURL, err)}}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var checks []Check
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		c := resp.TLS.PeerCertificates[0]
		left := c.NotAfter.Sub(o.Now())
		checks = append(checks, Check{"certificate", left > 14*24*time.Hour,
			fmt.Sprintf("%s, valid until %s (%d days left)", c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))})
	} else if resp.Request != nil && resp.Request.URL.Scheme != "https" {
		checks = append(checks, Check{"certificate", false, "the public URL is not https://: Lambda must reach the hub over TLS"})
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		checks = append(checks, Check{"public URL", false, "the hub refused the signature: skill.secret differs from what this check used, or the hub's clock is off"})
	case resp.StatusCode != http.StatusOK:
		checks = append(checks, Check{"public URL", false, fmt.Sprintf("HTTP %d from %s: the tunnel or proxy does not lead to the hub's skill endpoint (skill.listen, skill.path)", resp.StatusCode, o.PublicURL)})
	default:
		var ev struct {
			Event struct {
				Header struct{ Name string } `json:"header"`
			} `json:"event"`
		}
		if json.Unmarshal(answer, &ev) != nil || ev.Event.Header.Name != "ErrorResponse" {
			checks = append(checks, Check{"public URL", false, "something answered, but not an avshub skill endpoint"})
		} else {
			checks = append(checks, Check{"public URL", true, o.PublicURL + " reaches the hub, and the hub accepts the secret"})
		}
	}
	return checks
}

func tokens(o DoctorOptions) Check {
	st, err := lwa.LoadStatus(o.LWA)
	user := ""
	if b, rerr := os.ReadFile(filepath.Join(o.LWA.DataDir, "lwa", userFile)); rerr == nil {
		var v struct {
			UserID string `json:"user_id"`
		}
		if json.Unmarshal(b, &v) == nil {
			user = ", Amazon user " + v.UserID
		}
	}
	switch {
	case err != nil:
		return Check{"event gateway tokens", false, err.Error()}
	case st.NeedsRelink:
		return Check{"event gateway tokens", false, "Login with Amazon refused them (" + st.Reason + "): disable and enable the skill in the Alexa app"}
	case !st.Linked:
		return Check{"event gateway tokens", false, "none yet: enable the skill in the Alexa app (Alexa then sends AcceptGrant); is Send Alexa Events on in the skill's permissions?"}
	}
	return Check{"event gateway tokens", true, fmt.Sprintf("stored in %s since %s%s", st.TokenFile, st.LinkedAt.UTC().Format(time.RFC3339), user)}
}

// clock compares the hub's clock with the Date header of Login with Amazon.
func clock(ctx context.Context, o DoctorOptions) Check {
	base := o.LWA.BaseURL
	if base == "" {
		base = lwa.DefaultBaseURL
	}
	client := o.LWA.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/auth/o2/token", nil)
	if err != nil {
		return Check{"clock", false, err.Error()}
	}
	t0 := o.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Check{"clock", false, fmt.Sprintf("cannot reach Login with Amazon to compare clocks: %v", lwa.RedactError(err))}
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return Check{"clock", false, "Login with Amazon's answer has no Date header to compare with"}
	}
	mid := t0.Add(o.Now().Sub(t0) / 2)
	skew := mid.Sub(date).Round(time.Second)
	if skew < -o.MaxSkew-time.Second || skew > o.MaxSkew+time.Second {
		return Check{"clock", false, fmt.Sprintf("the hub's clock is %s off Amazon's: fix NTP (signatures older than %s are refused, tokens expire early or late)", skew, sign.MaxSkew)}
	}
	return Check{"clock", true, fmt.Sprintf("within %s of Amazon's", max(skew, -skew)+time.Second)}
}

// ErrDoctor is returned by callers when a check failed.
var ErrDoctor = errors.New("skill doctor: some checks failed")

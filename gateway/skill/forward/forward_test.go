package forward

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/gateway/skill/sign"
)

const secret = "0123456789abcdef0123456789abcdef"

func TestForwardSignsAndReturnsTheAnswer(t *testing.T) {
	answer := `{"event":{"header":{"namespace":"Alexa","name":"Response"}}}`
	var got []byte
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if _, err := sign.Verify([]byte(secret), r.Header.Get(sign.Header), got, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(answer))
	}))
	defer hub.Close()
	f, err := FromEnv(env{"AVSHUB_URL": hub.URL, "AVSHUB_SECRET": secret}.get)
	if err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"directive":{"header":{"namespace":"Alexa.PowerController","name":"TurnOn"}}}`)
	out, err := f.Handle(context.Background(), in)
	if err != nil || string(out) != answer || string(got) != string(in) {
		t.Fatalf("Handle = %s, %v; the hub got %s", out, err, got)
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  env
		ok   bool
	}{
		{"https", env{"AVSHUB_URL": "https://hub.example.com/alexa/skill", "AVSHUB_SECRET": secret}, true},
		{"loopback http", env{"AVSHUB_URL": "http://127.0.0.1:8790/alexa/skill", "AVSHUB_SECRET": secret}, true},
		{"public http", env{"AVSHUB_URL": "http://hub.example.com/alexa/skill", "AVSHUB_SECRET": secret}, false},
		{"short secret", env{"AVSHUB_URL": "https://hub.example.com/", "AVSHUB_SECRET": "short"}, false},
		{"bad CA", env{"AVSHUB_URL": "https://hub.example.com/", "AVSHUB_SECRET": secret, "AVSHUB_CA_PEM": "not a certificate"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FromEnv(tc.env.get); (err == nil) != tc.ok {
				t.Errorf("FromEnv: %v, want ok=%t", err, tc.ok)
			}
		})
	}
}

// TestFallback: when the hub cannot be reached the Lambda still answers
// Alexa with a schema-valid event (or fails Discover).
func TestFallback(t *testing.T) {
	down := &Forwarder{URL: "http://127.0.0.1:1/alexa/skill", Secret: []byte(secret), Timeout: time.Second}
	for _, tc := range []struct {
		name, directive, wantNS, wantType string
		discover                          bool
	}{
		{"controller", `{"directive":{"header":{"namespace":"Alexa.PowerController","name":"TurnOn","payloadVersion":"3","messageId":"m","correlationToken":"c"},"endpoint":{"endpointId":"e1"},"payload":{}}}`, "Alexa", "BRIDGE_UNREACHABLE", false},
		{"report state", `{"directive":{"header":{"namespace":"Alexa","name":"ReportState","payloadVersion":"3","messageId":"m","correlationToken":"c"},"endpoint":{"endpointId":"e1"},"payload":{}}}`, "Alexa", "BRIDGE_UNREACHABLE", false},
		{"accept grant", `{"directive":{"header":{"namespace":"Alexa.Authorization","name":"AcceptGrant","payloadVersion":"3","messageId":"m"},"payload":{}}}`, "Alexa.Authorization", "ACCEPT_GRANT_FAILED", false},
		{"discover", `{"directive":{"header":{"namespace":"Alexa.Discovery","name":"Discover","payloadVersion":"3","messageId":"m"},"payload":{}}}`, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := down.Handle(context.Background(), []byte(tc.directive))
			if tc.discover {
				if !errors.Is(err, ErrDiscoverFailed) {
					t.Fatalf("Discover: %s, %v; want ErrDiscoverFailed", out, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				Event struct {
					Header  struct{ Namespace, Name string }
					Payload struct{ Type string }
				}
			}
			if err := json.Unmarshal(out, &ev); err != nil || ev.Event.Header.Namespace != tc.wantNS || ev.Event.Payload.Type != tc.wantType {
				t.Fatalf("answer %s (%v)", out, err)
			}
			if err := schema.Validate(out); err != nil {
				t.Errorf("the fallback answer is not valid: %v\n%s", err, out)
			}
		})
	}
	if _, err := down.Handle(context.Background(), []byte(`not json`)); err == nil {
		t.Error("a non-directive got an answer")
	}
}

// FuzzFallback: whatever Alexa (or anyone) sends, the fallback answers JSON
// or an error, never panics.
func FuzzFallback(f *testing.F) {
	f.Add([]byte(`{"directive":{"header":{"namespace":"Alexa","name":"ReportState","correlationToken":"c"},"endpoint":{"endpointId":"e"}}}`))
	f.Add([]byte(`{"directive":{"header":{"namespace":"Alexa.Discovery"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := fallback(in, errors.New("down"))
		if err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON answer %q", out)
		}
	})
}

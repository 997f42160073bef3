package mqtt

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ConfigSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The schema and the parser agree: what the schema accepts parses, what it
// rejects is rejected by the parser too.
func TestConfigSchemaAndParser(t *testing.T) {
	s := compileSchema(t)
	tests := []struct {
		name  string
		json  string
		valid bool
	}{
		{"empty", `{}`, true},
		{"sample", string(SampleConfig), true},
		{"ws", `{"broker":"ws://10.0.0.2:9001/mqtt"}`, true},
		{"tls", `{"broker":"ssl://mqtt.example.net:8883","tls":{"serverName":"mqtt.example.net"}}`, true},
		{"z2m only", `{"homeassistant":{"enabled":false},"zigbee2mqtt":{"baseTopic":"z2m/home"}}`, true},
		{"unknown key", `{"brokr":"tcp://x:1"}`, false},
		{"bad scheme", `{"broker":"http://x:1"}`, false},
		{"wildcard topic", `{"zigbee2mqtt":{"baseTopic":"z2m/#"}}`, false},
		{"bad timeout", `{"commandTimeout":"soon"}`, false},
		{"tiny limit", `{"maxMessageBytes":10}`, false},
		{"cert without key", `{"broker":"ssl://x:8883","tls":{"certFile":"/c.pem"}}`, false},
		{"remotes", `{"remotes":[{"device":"Hall button","as":"motion"},{"device":"0x00124b0022aa3301","as":"contact","actions":["single","double"],"hold":"10s"}]}`, true},
		{"remote as door", `{"remotes":[{"device":"Hall button","as":"door"}]}`, false},
		{"remote without device", `{"remotes":[{"as":"motion"}]}`, false},
		{"remote with a blank device", `{"remotes":[{"device":"  ","as":"motion"}]}`, false},
		{"remote with an empty action", `{"remotes":[{"device":"Hall button","as":"motion","actions":[""]}]}`, false},
		{"remote hold not a duration", `{"remotes":[{"device":"Hall button","as":"motion","hold":"soon"}]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(inst); (err == nil) != tc.valid {
				t.Errorf("schema: valid=%t, err=%v", tc.valid, err)
			}
			if _, err := parseConfig([]byte(tc.json)); (err == nil) != tc.valid {
				t.Errorf("parseConfig: valid=%t, err=%v", tc.valid, err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, raw := range []string{"", "{}", " \n"} {
		s, err := parseConfig([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if s.broker != "tcp://127.0.0.1:1883" || !s.z2m || s.z2mBase != "zigbee2mqtt" || !s.ha || s.haPrefix != "homeassistant" ||
			s.commandTimeout != 3*time.Second || s.tls != nil || !strings.HasPrefix(s.clientID, "avshub-mqtt-") {
			t.Errorf("defaults for %q: %+v", raw, s)
		}
	}
}

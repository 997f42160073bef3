package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSkillTransport(t *testing.T) {
	base := "hub:\n  serialNumber: hub-1\nalexa:\n  transport: skill\n"
	good := "skill:\n  secret: 0123456789abcdef0123456789abcdef\n  clientId: amzn1.application-oa2-client.x\n  clientSecret: s\n"
	cfg, err := Parse("/etc/avshub/avshub.yaml", []byte(base+good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hub.Profile != "smarthome" || cfg.Skill.Listen != "127.0.0.1:8790" || cfg.Skill.Path != "/alexa/skill" || cfg.Skill.Region != "NA" {
		t.Errorf("skill defaults: profile %s listen %s path %s region %s", cfg.Hub.Profile, cfg.Skill.Listen, cfg.Skill.Path, cfg.Skill.Region)
	}
	if d, _ := Parse("x.yaml", []byte("hub:\n  serialNumber: hub-1\n")); d.Alexa.Transport != TransportAVS {
		t.Errorf("default transport %q", d.Alexa.Transport)
	}
	for _, tc := range []struct{ name, yaml, key string }{
		{"unknown transport", "hub:\n  serialNumber: hub-1\nalexa:\n  transport: carrier-pigeon\n", "alexa.transport"},
		{"no secret", base + "skill:\n  clientId: c\n  clientSecret: s\n", "skill.secret"},
		{"short secret", base + "skill:\n  secret: short\n  clientId: c\n  clientSecret: s\n", "skill.secret"},
		{"both secrets", base + "skill:\n  secret: 0123456789abcdef0123456789abcdef\n  secretFile: f\n  clientId: c\n  clientSecret: s\n", "skill.secret"},
		{"no client", base + "skill:\n  secret: 0123456789abcdef0123456789abcdef\n", "skill.clientId"},
		{"http public URL", base + good + "  publicUrl: http://hub.example.com/alexa/skill\n", "skill.publicUrl"},
		{"bad region", base + good + "  region: MARS\n", "skill.region"},
		{"half TLS", base + good + "  tlsCert: c.pem\n", "skill.tlsCert"},
		{"bad user", base + good + "  userId: someone\n", "skill.userId"},
		{"path", base + good + "  path: alexa\n", "skill.path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/avshub/avshub.yaml", []byte(tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Errorf("error %v, want one for %s", err, tc.key)
			}
		})
	}
	_, err = Parse("x.yaml", []byte("hub:\n  serialNumber: hub-1\n  profile: avs\n"+strings.TrimPrefix(base, "hub:\n  serialNumber: hub-1\n")+good))
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "hub.profile" {
		t.Errorf("profile avs on the skill road: %v", err)
	}
}

func TestSkillSecretFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "hub:\n  serialNumber: hub-1\nalexa:\n  transport: skill\nskill:\n  secretFile: secret\n  clientId: c\n  clientSecret: s\n"
	cfg, err := Parse(filepath.Join(dir, "avshub.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := cfg.SkillSecret(); err != nil || s != "0123456789abcdef0123456789abcdef" {
		t.Errorf("SkillSecret = %q, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.SkillSecret(); err == nil {
		t.Error("a short secret file was accepted")
	}
}

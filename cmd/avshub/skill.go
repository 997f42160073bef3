package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/hub"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill"
)

// cmdSkill runs `avshub skill doctor`.
func cmdSkill(ctx context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 {
		return usageError("say what to do: doctor")
	}
	if args[0] != "doctor" {
		return usageError("unknown sub-command %q: the only one is doctor", args[0])
	}
	fs := flags("skill doctor", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := parseNoArgs(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.Alexa.Transport != config.TransportSkill {
		return fmt.Errorf("%s: alexa.transport is %s; the skill doctor checks the skill road (alexa.transport: skill, docs/alexa-skill.md)", *cfgPath, cfg.Alexa.Transport)
	}
	secret, err := cfg.SkillSecret()
	if err != nil {
		return err
	}
	lc, err := lwa.FromConfig(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	lc.ClientID, lc.ClientSecret, lc.DataDir = cfg.Skill.ClientID, cfg.Skill.ClientSecret, hub.SkillDataDir(cfg.Hub.DataDir)
	checks := skill.Doctor(ctx, skill.DoctorOptions{PublicURL: cfg.Skill.PublicURL, Secret: []byte(secret), LWA: lc})
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(out, "%s %-22s %s\n", mark, c.Name, c.Detail)
	}
	if failed > 0 {
		return fmt.Errorf("%w (%d of %d); see docs/alexa-skill.md", skill.ErrDoctor, failed, len(checks))
	}
	fmt.Fprintln(out, "The hub's side of the skill road is ready.")
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/web"
)

func cmdRename(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("rename", errw)
	socket := socketFlags(fs)
	area := fs.String("area", "", "also put the device in this room or area (\"-\" clears it)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("give the endpoint (its id or current name) and the new name, in quotes when it has spaces")
	}
	name := pos[1]
	p := discovery.SettingsPatch{Name: &name}
	if *area != "" {
		a := *area
		if a == "-" {
			a = ""
		}
		p.Area = &a
	}
	return configure(ctx, socket, pos[0], p, out, func(e web.Endpoint) string {
		s := fmt.Sprintf("%s is now called %q", e.Endpoint.ID, e.Endpoint.FriendlyName)
		if e.Settings.Area != "" {
			s += fmt.Sprintf(" (area %s)", e.Settings.Area)
		}
		return s + ": Alexa and the dashboards are told"
	})
}

func cmdHide(hide bool) func(ctx context.Context, args []string, out, errw io.Writer) error {
	name := map[bool]string{true: "hide", false: "unhide"}[hide]
	return func(ctx context.Context, args []string, out, errw io.Writer) error {
		fs := flags(name, errw)
		socket := socketFlags(fs)
		from := fs.String("from", "alexa", "alexa, dashboards, or alexa,dashboards")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("give one endpoint (its id or name)")
		}
		var p discovery.SettingsPatch
		for _, f := range strings.Split(*from, ",") {
			switch strings.TrimSpace(f) {
			case "alexa":
				p.HiddenFromAlexa = &hide
			case "dashboards":
				p.HiddenFromDashboards = &hide
			default:
				return usageError("--from %q: use alexa, dashboards, or alexa,dashboards", f)
			}
		}
		return configure(ctx, socket, pos[0], p, out, func(e web.Endpoint) string {
			var where []string
			if e.Settings.HiddenFromAlexa {
				where = append(where, "Alexa")
			}
			if e.Settings.HiddenFromDashboards {
				where = append(where, "the dashboards")
			}
			if len(where) == 0 {
				return fmt.Sprintf("%q is shown to Alexa and the dashboards", e.Endpoint.FriendlyName)
			}
			return fmt.Sprintf("%q is hidden from %s (still on the hub)", e.Endpoint.FriendlyName, strings.Join(where, " and "))
		})
	}
}

func configure(ctx context.Context, socket func() (string, error), ref string, p discovery.SettingsPatch, out io.Writer, say func(web.Endpoint) string) error {
	path, err := socket()
	if err != nil {
		return err
	}
	e, err := web.NewClient(path).Configure(ctx, ref, p)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, say(e))
	return nil
}

// Command avs-sim runs the AVS emulator (gateway/avstest) as a process: AVS's
// HTTP/2 API and Login with Amazon over TLS with its own CA, and a plain-HTTP
// admin API.
//
//	avs-sim --listen 127.0.0.1:8443 --admin 127.0.0.1:8444 --cert-dir DIR \
//	        --record FILE.jsonl --profile avs|smarthome [--issue-token FILE]
//
// When ready it prints exactly one line to stdout:
//
//	avs-sim ready url=https://127.0.0.1:8443 admin=http://127.0.0.1:8444 ca=DIR/ca.pem
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/avshub/avshub/cmd/internal/simcmd"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

func main() {
	simcmd.Main("avs-sim", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("avs-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8443", "TLS address of the AVS and LWA API")
	admin := fs.String("admin", "127.0.0.1:8444", "plain-HTTP address of the admin API")
	certDir := fs.String("cert-dir", "", "directory that receives ca.pem (required)")
	record := fs.String("record", "", "append every event received to this JSON-lines file")
	profile := fs.String("profile", avstest.ProfileAVS, "avs (AVS-documented interfaces only) or smarthome")
	tokenLife := fs.Duration("token-lifetime", time.Hour, "lifetime of the access tokens LWA issues")
	clientID := fs.String("client-id", "", "the only LWA client id accepted (empty: any)")
	issue := fs.String("issue-token", "", "write a freshly issued token pair (JSON) to this file at start")
	setGateway := fs.String("set-gateway", "", "answer VerifyGateway with SetGateway to this URL")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *certDir == "" {
		return errors.New("--cert-dir is required")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var rec io.Writer
	if *record != "" {
		f, err := simcmd.AppendFile(*record)
		if err != nil {
			return err
		}
		defer f.Close()
		rec = f
	}
	lwa := lwatest.New(lwatest.Options{AccessTokenLifetime: *tokenLife, ClientID: *clientID})
	srv, err := avstest.New(avstest.Options{Addr: *listen, Profile: *profile, LWA: lwa, CertDir: *certDir,
		Record: rec, SetGateway: *setGateway, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	adm, err := simcmd.ServeAdmin(*admin, srv.AdminHandler())
	if err != nil {
		return err
	}
	defer adm.Close()
	if *issue != "" {
		b, _ := json.MarshalIndent(srv.IssueToken(), "", "  ")
		if err := os.WriteFile(*issue, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("issue token: %w", err)
		}
	}
	fmt.Fprintf(stdout, "avs-sim ready url=%s admin=http://%s ca=%s\n", srv.URL(), adm.Addr(), srv.CAFile())
	select {
	case <-ctx.Done():
	case err := <-adm.Failed():
		return err
	}
	log.Info("avs-sim stopping")
	return nil
}

// Command skill-sim emulates Alexa's side of a Smart Home skill whose backend
// is avshub (gateway/skilltest): Alexa sending directives through the skill's
// Lambda — the real forwarder binary (cmd/skill-lambda) run locally under an
// emulated Lambda Runtime API — Login with Amazon, and the Alexa event gateway.
//
//	skill-sim --lambda bin/skill-lambda --hub-url http://127.0.0.1:8790/alexa/skill --secret-file secret
//
// When ready it prints exactly one line to stdout:
//
//	skill-sim ready url=https://127.0.0.1:PORT admin=http://127.0.0.1:PORT ca=DIR/ca.pem runtime=127.0.0.1:PORT
//
// url is Login with Amazon (lwa.url) and, with /v3/events, the event gateway
// (skill.eventGatewayUrl); ca the certificate to trust (lwa.caFile,
// skill.caFile). The admin API: GET /sim/state, /sim/endpoints, /sim/events;
// POST /sim/accept-grant, /sim/discover, /sim/directive?wait=10s, /sim/fault.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/avshub/avshub/cmd/internal/simcmd"
	"github.com/avshub/avshub/gateway/skilltest"
)

func main() { simcmd.Main("skill-sim", run) }

func run(ctx context.Context) error {
	admin := flag.String("admin", "127.0.0.1:0", "admin API listen address")
	certDir := flag.String("cert-dir", "", "directory for ca.pem (default: a temporary directory)")
	record := flag.String("record", "", "file receiving every answer and event as JSON lines")
	clientID := flag.String("client-id", "amzn1.application-oa2-client.skillsim", "the skill's Alexa Skill Messaging client id")
	clientSecret := flag.String("client-secret", "skill-sim-client-secret", "the skill's Alexa Skill Messaging client secret")
	lambda := flag.String("lambda", "", "the forwarder binary to run as the skill's Lambda (cmd/skill-lambda); empty: none")
	hubURL := flag.String("hub-url", "", "the hub's skill endpoint, the Lambda's AVSHUB_URL")
	secret := flag.String("secret", "", "the HMAC secret, the Lambda's AVSHUB_SECRET")
	secretFile := flag.String("secret-file", "", "read the HMAC secret from this file")
	hubCA := flag.String("hub-ca", "", "PEM certificate of the hub's endpoint, the Lambda's AVSHUB_CA_PEM")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *certDir == "" {
		d, err := os.MkdirTemp("", "skill-sim-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*certDir = d
	}
	opts := skilltest.Options{ClientID: *clientID, ClientSecret: *clientSecret, CertDir: *certDir, Logger: log}
	if *record != "" {
		f, err := simcmd.AppendFile(*record)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Record = f
	}
	srv, err := skilltest.New(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *lambda != "" {
		sec := *secret
		if *secretFile != "" {
			b, err := os.ReadFile(*secretFile)
			if err != nil {
				return err
			}
			sec = strings.TrimSpace(string(b))
		}
		env := map[string]string{"AVSHUB_URL": *hubURL, "AVSHUB_SECRET": sec}
		if *hubCA != "" {
			b, err := os.ReadFile(*hubCA)
			if err != nil {
				return err
			}
			env["AVSHUB_CA_PEM"] = string(b)
		}
		logf, err := simcmd.AppendFile(filepath.Join(*certDir, "lambda.log"))
		if err != nil {
			return err
		}
		defer logf.Close()
		l, err := srv.StartLambda(*lambda, env, logf)
		if err != nil {
			return err
		}
		defer l.Stop()
	}
	adm, err := simcmd.ServeAdmin(*admin, srv.AdminHandler())
	if err != nil {
		return err
	}
	defer adm.Close()
	fmt.Printf("skill-sim ready url=%s admin=http://%s ca=%s runtime=%s\n", srv.URL(), adm.Addr(), srv.CAFile(), srv.RuntimeAPI())
	select {
	case <-ctx.Done():
		return nil
	case err := <-adm.Failed():
		return err
	}
}

package mqtt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

type testPKI struct {
	caPEM                 []byte
	server                tls.Certificate
	clientCert, clientKey []byte
	caPool                *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "avshub test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte, tls.Certificate) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return certPEM, keyPEM, pair
	}
	p := &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	_, _, p.server = issue("broker", x509.ExtKeyUsageServerAuth, true)
	p.clientCert, p.clientKey, _ = issue("avshub", x509.ExtKeyUsageClientAuth, false)
	return p
}

// startWith runs the bridge with cfg against a broker and returns the recorder.
func startWith(t *testing.T, cfg string) (*recorder, *logCapture) {
	t.Helper()
	rec, logs := newRecorder(), &logCapture{}
	br := New(slogFor(logs))
	br.settle, br.startupWait, br.reconnectMax = 50*time.Millisecond, time.Second, 300*time.Millisecond
	local := sdk.Local(br, "mqtt", rec)
	if err := local.Start(context.Background(), sdk.Config{JSON: json.RawMessage(cfg)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = local.Close(ctx)
	})
	return rec, logs
}

func healthy(r *recorder) bool { return r.health.State == model.HealthHealthy }

// publishDevices puts the simulator's device list on the broker (inline client).
func publishDevices(t *testing.T, b *mqtttest.Broker) {
	t.Helper()
	if err := b.Publish("zigbee2mqtt/bridge/devices", z2msim.BridgeDevices(), true, 1); err != nil {
		t.Fatal(err)
	}
}

func TestConnectTLSWithClientCertificate(t *testing.T) {
	p := newPKI(t)
	b := mqtttest.MustStart(t, mqtttest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: p.caPool, MinVersion: tls.VersionTLS12}})
	publishDevices(t, b)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ca, cert, key := write("ca.pem", p.caPEM), write("client.pem", p.clientCert), write("client.key", p.clientKey)
	if !strings.HasPrefix(b.URL, "ssl://") {
		t.Fatalf("broker URL %s", b.URL)
	}
	rec, _ := startWith(t, fmt.Sprintf(`{"broker":%q,"tls":{"caFile":%q,"certFile":%q,"keyFile":%q}}`, b.URL, ca, cert, key))
	rec.wait(t, "healthy over mutual TLS with the devices", func(r *recorder) bool { return healthy(r) && len(r.devices) == 6 })
}

func TestConnectTLSRefusesUnknownCA(t *testing.T) {
	p := newPKI(t)
	b := mqtttest.MustStart(t, mqtttest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}})
	rec, _ := startWith(t, fmt.Sprintf(`{"broker":%q}`, b.URL)) // system roots do not know the test CA
	rec.wait(t, "snapshot", func(r *recorder) bool { return len(r.events) >= 3 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if healthy(rec) {
		t.Errorf("connected to a broker whose certificate is not trusted")
	}
}

func TestConnectWebsocket(t *testing.T) {
	b := mqtttest.MustStart(t, mqtttest.Options{Websocket: true})
	publishDevices(t, b)
	rec, _ := startWith(t, fmt.Sprintf(`{"broker":%q}`, b.WSURL))
	rec.wait(t, "healthy over WebSocket with the devices", func(r *recorder) bool { return healthy(r) && len(r.devices) == 6 })
}

func TestConnectWithCredentials(t *testing.T) {
	b := mqtttest.MustStart(t, mqtttest.Options{Username: "hub", Password: "s3cret-pw"})
	publishDevices(t, b)
	rec, _ := startWith(t, fmt.Sprintf(`{"broker":%q,"username":"hub","password":"s3cret-pw","clientId":"avshub-test"}`, b.URL))
	rec.wait(t, "healthy with credentials", func(r *recorder) bool { return healthy(r) && len(r.devices) == 6 })

	bad, logs := startWith(t, fmt.Sprintf(`{"broker":%q,"username":"hub","password":"wrong-pw"}`, b.URL))
	bad.wait(t, "snapshot without connection", func(r *recorder) bool {
		for _, e := range r.events {
			if e.Kind == model.EventSnapshot {
				return true
			}
		}
		return false
	})
	bad.wait(t, "UNHEALTHY with the broker's refusal", func(r *recorder) bool {
		return r.health.State == model.HealthUnhealthy && strings.Contains(r.health.Description, "cannot connect")
	})
	bad.mu.Lock()
	evs, _ := json.Marshal(bad.events)
	bad.mu.Unlock()
	if strings.Contains(string(evs), "wrong-pw") || len(logs.matching("wrong-pw")) > 0 {
		t.Errorf("the password leaked into events or logs")
	}
}

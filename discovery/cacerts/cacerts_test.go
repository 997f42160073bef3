package cacerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newCA returns a self-signed CA certificate, PEM-encoded, and its parsed form.
func newCA(t *testing.T, name string) ([]byte, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), c
}

// trusts reports whether pool verifies c (a self-signed CA verifies against a
// pool holding it).
func trusts(pool *x509.CertPool, c *x509.Certificate) bool {
	_, err := c.Verify(x509.VerifyOptions{Roots: pool})
	return err == nil
}

func TestPool(t *testing.T) {
	pemA, a := newCA(t, "a")
	pemB, b := newCA(t, "b")
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a certificate")})
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})
	for _, c := range []struct {
		name    string
		data    []byte
		trusted []*x509.Certificate
		err     string
	}{
		{"one", pemA, []*x509.Certificate{a}, ""},
		{"a bundle, a key among them skipped", append(append(append([]byte("comment\n"), pemA...), key...), pemB...), []*x509.Certificate{a, b}, ""},
		{"empty", nil, nil, "no PEM certificate"},
		{"only a key", key, nil, "no PEM certificate"},
		{"a certificate that does not parse", append(pemA, bad...), nil, "certificate 2:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, err := Pool(c.data, false)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range c.trusted {
				if !trusts(pool, tc) {
					t.Errorf("pool does not trust %s", tc.Subject.CommonName)
				}
			}
			_, other := newCA(t, "other")
			if trusts(pool, other) {
				t.Error("pool trusts a certificate it was not given")
			}
		})
	}
}

func TestPoolWithSystemKeepsTheGivenOnes(t *testing.T) {
	pemA, a := newCA(t, "a")
	pool, err := Pool(pemA, true)
	if err != nil {
		t.Fatal(err)
	}
	if !trusts(pool, a) {
		t.Error("with the system roots, the given certificate is not trusted")
	}
}

func TestFile(t *testing.T) {
	pemA, a := newCA(t, "a")
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(good, pemA, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := File(good, false)
	if err != nil || !trusts(pool, a) {
		t.Fatalf("File(%s) = %v, %v", good, pool, err)
	}
	if _, err := File(empty, false); !errors.Is(err, ErrNoCertificate) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: err = %v, want ErrNoCertificate naming the file", err)
	}
	if _, err := File(filepath.Join(dir, "missing.pem"), false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
}

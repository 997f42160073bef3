// Package cacerts is avshub's one loader of the PEM CA certificates a TLS
// client trusts: the hub's MQTT, AVS and Login with Amazon clients, the
// skill forwarder, and the bridges' broker connections.
package cacerts

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ErrNoCertificate is returned for PEM data without a certificate.
var ErrNoCertificate = errors.New("no PEM certificate in it")

// Pool returns a pool of the certificates in data (PEM; blocks other than
// CERTIFICATE are skipped), added to the system roots when withSystem is
// set. A certificate that does not parse is an error, not silently dropped.
func Pool(data []byte, withSystem bool) (*x509.CertPool, error) {
	var pool *x509.CertPool
	if withSystem {
		pool, _ = x509.SystemCertPool() // none on this system: the given ones alone
	}
	if pool == nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, ErrNoCertificate
	}
	return pool, nil
}

// File reads a PEM file and returns Pool of it; errors name the file.
func File(path string, withSystem bool) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *fs.PathError names the file
	}
	pool, err := Pool(data, withSystem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pool, nil
}

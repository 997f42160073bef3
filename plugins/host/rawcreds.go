package host

import (
	"context"
	"net"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/avshub/avshub/internal/rawconn"
)

// rawCreds are the plugin link's transport credentials as go-plugin sets
// them (its AutoMTLS configuration in cc.TLSConfig once the plugin started,
// or none for a reattached --debug bridge), over a socket whose reads and
// writes are raw system calls (package rawconn): each Execute's request and
// reply then no longer wake the hub's runtime monitor thread when the hub
// was idle. The bytes on the wire and the TLS handshake are go-plugin's.
type rawCreds struct{ cc *plugin.ClientConfig }

// withRawSocket returns the dial option that installs rawCreds for cc; it
// replaces the credentials go-plugin set (gRPC keeps the last ones given).
func withRawSocket(cc *plugin.ClientConfig) grpc.DialOption {
	return grpc.WithTransportCredentials(rawCreds{cc})
}

func (r rawCreds) inner() credentials.TransportCredentials {
	if r.cc.TLSConfig == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(r.cc.TLSConfig)
}

func (r rawCreds) ClientHandshake(ctx context.Context, authority string, c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return r.inner().ClientHandshake(ctx, authority, rawconn.Wrap(c))
}

func (r rawCreds) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return r.inner().ServerHandshake(rawconn.Wrap(c))
}

func (r rawCreds) Info() credentials.ProtocolInfo { return r.inner().Info() }

func (r rawCreds) Clone() credentials.TransportCredentials { return r }

// OverrideServerName is part of the (deprecated) interface; nothing to override.
func (r rawCreds) OverrideServerName(string) error { return nil }

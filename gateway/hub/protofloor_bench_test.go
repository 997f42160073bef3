//lint:file-ignore SA1019 the hub process speaks HTTP/2 with golang.org/x/net/http2, as gateway/avs does (deprecated in x/net v0.62 in favour of net/http's own HTTP/2).

package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/avshub/avshub/gateway/avs"
	"github.com/avshub/avshub/internal/rawconn"
	bridgev1 "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/sdk"
)

// The protocol floor of the directive path. BenchmarkProtocolFloor keeps
// BenchmarkProcessFloor's chain of processes (this process as AVS → a "hub"
// process → a "bridge" process → back) and lets them speak the directive
// path's protocols with the libraries the product uses, and do nothing else:
//
//   - the hub process holds an HTTP/2 client connection over TLS
//     (golang.org/x/net/http2's Transport on a TLS socket whose reads and
//     writes are raw system calls, package rawconn, as gateway/avs dials it)
//     to an HTTP/2 TLS server in this process, with one long-lived GET whose
//     response body streams the directives as multipart/related parts, framed
//     as the AVS emulator frames them and read with the hub's own
//     avs.MultipartReader;
//   - for each directive it makes one gRPC call over mutual TLS on a Unix
//     socket (go-plugin's AutoMTLS settings: a P-521 certificate for
//     "localhost", the client side on a rawconn socket as plugins/host sets
//     it up) to the bridge process, whose server (sdk.GRPCServer) answers
//     bridge.v1 Execute with the device state;
//   - then it POSTs a Response event of about 1,200 bytes (multipart/form-data
//     with one "metadata" part, a bearer token, as avs.Client posts events)
//     on the same HTTP/2 connection, answered 204.
//
// Both processes run on one P (sdk.OneProc). No JSON is decoded or encoded:
// the hub process finds the directive's name and correlation token with
// bytes.Index and fills them into a fixed event. The benchmark times each
// directive from handing the part to the downchannel's writer to receiving the
// event's body, and checks that the event answers that very directive with
// the state the bridge returned (b.Fatal otherwise). What the hub does beyond
// this floor (the router, JSON, the registry, logging, supervision) is its
// own; what the floor itself costs above BenchmarkProcessFloor is the price
// of TLS, HTTP/2 and gRPC on this machine.
//
// Sub-benchmarks vary one layer each:
//
//	unary-tls     the product's layout, as above
//	unary-joined  the same, with each event's HEADERS frame held until its
//	              DATA frame, so that both leave in one TLS record and one
//	              write, as gateway/avs's connection does (joinConn)
//	unary-plain   the gRPC link without TLS
//	stream-tls    one long-lived bidirectional gRPC stream carrying each
//	              ExecuteRequest and its ExecuteResponse instead of a unary call
//	no-bridge     no bridge process and no gRPC: downchannel part in, event out
//
// Each reports p50/p99 in ms, the p50 as a multiple of a raw HTTP/2 POST
// measured at the end of the same sub-benchmark, and the CPU per directive of
// the hub process, the bridge process and this process (the AVS side, with
// the benchmark's loop), beside the CPU of one raw POST (client and server,
// the server's start included); with AVSHUB_BENCH_PERFSTAT set,
// their system calls and context switches per directive (perfStat); with
// AVSHUB_BENCH_PERF, their CPU profile (perfRecord).
//
//	AVSHUB_BENCH_PERFSTAT=1 go test -run '^$' -bench 'ProcessFloor|ProtocolFloor|DirectiveRoundTrip/hub-novalidate|unary|stream|no-bridge' -benchtime 1000x ./gateway/hub/
//
// (The pattern's second level, after the slash, selects the sub-benchmarks
// of all three.)
func BenchmarkProtocolFloor(b *testing.B) {
	for _, v := range []string{"unary-tls", "unary-joined", "unary-plain", "stream-tls", "no-bridge"} {
		b.Run(v, func(b *testing.B) { protocolFloor(b, v) })
	}
}

// protoAVS is the AVS side of BenchmarkProtocolFloor: an HTTP/2 TLS server
// whose downchannel writes the parts handed to parts and whose events path
// hands each event's body to events.
type protoAVS struct {
	srv    *httptest.Server
	parts  chan []byte
	events chan []byte
	opened chan struct{}
}

const protoBoundary = "------5f4e3d2c1b0a9988"

func newProtoAVS(b *testing.B) *protoAVS {
	a := &protoAVS{parts: make(chan []byte), events: make(chan []byte, 1), opened: make(chan struct{}, 1)}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case avs.DirectivesPath:
			w.Header().Set("Content-Type", "multipart/related; boundary="+protoBoundary+"; type=application/json")
			w.WriteHeader(http.StatusOK)
			rc := http.NewResponseController(w)
			if _, err := io.WriteString(w, "--"+protoBoundary+"\r\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			a.opened <- struct{}{}
			for {
				select {
				case p := <-a.parts:
					if _, err := w.Write(p); err != nil {
						return
					}
					if err := rc.Flush(); err != nil {
						return
					}
				case <-r.Context().Done():
					return
				}
			}
		case avs.EventsPath:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			a.events <- body
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	b.Cleanup(a.srv.Close)
	return a
}

// protoPart is the i-th directive as the downchannel carries it: a JSON part
// of the size of the emulator's TurnOn/TurnOff, followed at once by the next
// delimiter (as AVS and the emulator end each part). Its correlation token
// encodes i.
func protoPart(i int) (part []byte, token string, on bool) {
	on = i%2 == 0
	name := "TurnOff"
	if on {
		name = "TurnOn"
	}
	token = fmt.Sprintf("%096d", i)
	d := fmt.Sprintf(`{"directive":{"header":{"namespace":"Alexa.PowerController","name":%q,"messageId":"6b1f8a52-3c8e-4d0f-9a47-%012d","correlationToken":%q,"payloadVersion":"3"},"endpoint":{"endpointId":"avshub-virtual-kitchen-light","cookie":{"bridge":"virtual"}},"payload":{}}}`,
		name, i, token)
	return []byte("Content-Type: application/json; charset=UTF-8\r\n\r\n" + d + "\r\n--" + protoBoundary + "\r\n"), token, on
}

func protocolFloor(b *testing.B, variant string) {
	a := newProtoAVS(b)
	dir := b.TempDir()
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "avs.pem"), rootPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := writeLocalhostCert(dir); err != nil {
		b.Fatal(err)
	}
	hub := relayProcess(b, "proto-hub", a.srv.Listener.Addr().String(), filepath.Join(dir, "bridge.sock"), dir, variant)
	exited := make(chan error, 1)
	go func() { exited <- hub.Wait() }()
	defer func() {
		_ = hub.Process.Kill()
		<-exited
	}()
	select {
	case <-a.opened:
	case err := <-exited:
		b.Fatalf("the hub process ended before opening the downchannel: %v", err)
	case <-time.After(30 * time.Second):
		b.Fatal("the hub process did not open the downchannel within 30 s")
	}
	roundTrip := func(i int) {
		part, token, on := protoPart(i)
		a.parts <- part
		var ev []byte
		select {
		case ev = <-a.events:
		case err := <-exited:
			b.Fatalf("directive %d: the hub process ended: %v", i, err)
		case <-time.After(10 * time.Second):
			b.Fatalf("directive %d: no event within 10 s", i)
		}
		value := `"value":"OFF"`
		if on {
			value = `"value":"ON"`
		}
		if !bytes.Contains(ev, []byte(`"correlationToken":"`+token+`"`)) || !bytes.Contains(ev, []byte(value)) {
			b.Fatalf("directive %d: the event does not answer it with %s: %.300s", i, value, ev)
		}
	}
	roundTrip(-2) // warm-up: every connection is up and every process has run once
	roundTrip(-1)
	pid := hub.Process.Pid
	bridges := childPIDs(pid)
	if variant != "no-bridge" && len(bridges) != 1 {
		b.Fatalf("the hub process has %d children, want its bridge", len(bridges))
	}
	stopPerf := perfRecord(b, append(bridges, pid)...)
	stopStat := perfStat(b, map[string][]int{"hub": {pid}, "bridges": bridges})
	cpu0, bcpu0, self0 := cpuMS(pid), sumCPUMS(bridges), selfCPUMS()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		roundTrip(i)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	stopPerf()
	stopStat(b.N)
	hubCPU, bridgeCPU, avsCPU := cpuMS(pid)-cpu0, sumCPUMS(bridges)-bcpu0, selfCPUMS()-self0
	p50, p99 := percentiles(lat)
	rawSelf0 := selfCPUMS()
	raw := rawPostP50(b, 500)
	rawCPU := (selfCPUMS() - rawSelf0) / 500 // client and server of a raw POST, both in this process
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(hubCPU/float64(b.N), "hub-cpu-ms/op")
	b.ReportMetric(bridgeCPU/float64(b.N), "bridge-cpu-ms/op")
	b.ReportMetric(avsCPU/float64(b.N), "avs-cpu-ms/op")
	b.ReportMetric(raw, "raw-post-p50-ms")
	b.ReportMetric(p50/raw, "p50-x-raw-post")
	b.ReportMetric(rawCPU, "raw-post-cpu-ms/op")
}

// sumCPUMS is the summed CPU time of the processes in ms.
func sumCPUMS(pids []int) float64 {
	var t float64
	for _, p := range pids {
		t += cpuMS(p)
	}
	return t
}

// writeLocalhostCert writes cert.pem and key.pem into dir: a self-signed
// certificate for "localhost" on a P-521 key, as go-plugin's AutoMTLS makes
// for each side of the plugin link.
func writeLocalhostCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return nil
}

// pluginTLS is go-plugin's AutoMTLS configuration of either side, from the
// certificate writeLocalhostCert made.
func pluginTLS(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: pool, RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: "localhost"}, nil
}

// rawSocketCreds are transport credentials over a rawconn socket, as the
// hub's plugin link uses them (plugins/host's rawCreds).
type rawSocketCreds struct {
	credentials.TransportCredentials
}

func (r rawSocketCreds) ClientHandshake(ctx context.Context, authority string, c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return r.TransportCredentials.ClientHandshake(ctx, authority, rawconn.Wrap(c))
}

func (r rawSocketCreds) Clone() credentials.TransportCredentials { return r }

// protoStream is the bidirectional stream of the stream-tls variant: each
// ExecuteRequest sent is answered by one ExecuteResponse.
var protoStream = grpc.ServiceDesc{
	ServiceName: "avshub.bench.Floor",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Execute",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(_ any, s grpc.ServerStream) error {
			for {
				req := new(bridgev1.ExecuteRequest)
				if err := s.RecvMsg(req); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
				if err := s.SendMsg(executeReply(req)); err != nil {
					return err
				}
			}
		},
	}},
}

// floorBridge is the bridge process's Execute: the commanded power state is
// the state after the command.
type floorBridge struct {
	bridgev1.UnimplementedBridgeServer
}

func (floorBridge) Execute(_ context.Context, req *bridgev1.ExecuteRequest) (*bridgev1.ExecuteResponse, error) {
	return executeReply(req), nil
}

func executeReply(req *bridgev1.ExecuteRequest) *bridgev1.ExecuteResponse {
	return &bridgev1.ExecuteResponse{Outcome: &bridgev1.ExecuteResponse_Done{Done: &bridgev1.Done{
		State: &bridgev1.State{On: proto.Bool(req.GetCommand().GetPower())}}}}
}

// protoRelayMain runs a process of BenchmarkProtocolFloor: args are the AVS
// server's address, the bridge's socket, the directory with the
// certificates and the variant.
func protoRelayMain(role string, args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("%s: want 4 arguments, got %q", role, args)
	}
	runtime.GOMAXPROCS(1) // sdk.OneProc
	avsAddr, sock, dir, variant := args[0], args[1], args[2], args[3]
	if role == "proto-bridge" {
		return protoBridgeMain(sock, dir, variant)
	}
	var execute func(ctx context.Context, req *bridgev1.ExecuteRequest) (*bridgev1.ExecuteResponse, error)
	if variant != "no-bridge" {
		stop, call, err := startProtoBridge(sock, dir, variant)
		if err != nil {
			return err
		}
		defer stop()
		execute = call
	}
	roots := x509.NewCertPool()
	rootPEM, err := os.ReadFile(filepath.Join(dir, "avs.pem"))
	if err != nil {
		return fmt.Errorf("read the AVS certificate: %w", err)
	}
	roots.AppendCertsFromPEM(rootPEM)
	tc, err := net.Dial("tcp", avsAddr)
	if err != nil {
		return fmt.Errorf("dial AVS: %w", err)
	}
	nc := tls.Client(rawconn.Wrap(tc), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12, NextProtos: []string{http2.NextProtoTLS}})
	if err := nc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake with AVS: %w", err)
	}
	var hc net.Conn = nc
	if variant == "unary-joined" {
		hc = &joinConn{Conn: nc}
	}
	tr := &http2.Transport{StrictMaxConcurrentStreams: true}
	cc, err := tr.NewClientConn(hc)
	if err != nil {
		return fmt.Errorf("HTTP/2 handshake with AVS: %w", err)
	}
	base := "https://" + avsAddr
	req, err := http.NewRequest(http.MethodGet, base+avs.DirectivesPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+protoAccessToken)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("open the downchannel: %w", err)
	}
	defer resp.Body.Close()
	_, boundary, err := avs.ParseContentType(resp.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("downchannel: %w", err)
	}
	mr := avs.NewMultipartReader(resp.Body, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil // the benchmark ended
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return fmt.Errorf("read a directive: %w", err)
		}
		corr := jsonString(raw, `"correlationToken":"`)
		on := bytes.Contains(raw, []byte(`"name":"TurnOn"`))
		if execute != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // the hub sets the directive's deadline
			r, err := execute(ctx, &bridgev1.ExecuteRequest{CorrelationId: corr, DeviceId: "kitchen-light",
				Command: &bridgev1.Command{Trait: bridgev1.TraitKind_TRAIT_KIND_ON_OFF, Power: proto.Bool(on)}})
			cancel()
			if err != nil {
				return fmt.Errorf("execute: %w", err)
			}
			on = r.GetDone().GetState().GetOn()
		}
		body, ct := protoEvent(corr, on)
		ereq, err := http.NewRequest(http.MethodPost, base+avs.EventsPath, bytes.NewReader(body))
		if err != nil {
			return err
		}
		ereq.Header.Set("Authorization", "Bearer "+protoAccessToken)
		ereq.Header.Set("Content-Type", ct)
		ereq.ContentLength = int64(len(body))
		eresp, err := cc.RoundTrip(ereq)
		if err != nil {
			return fmt.Errorf("post the event: %w", err)
		}
		_, _ = io.Copy(io.Discard, eresp.Body)
		eresp.Body.Close()
		if eresp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("post the event: %s", eresp.Status)
		}
	}
}

// joinConn holds a request's HEADERS frame that DATA follows (END_HEADERS
// without END_STREAM) and writes it together with the next write, the DATA:
// x/net/http2's client writes and flushes them one by one. gateway/avs's
// connection does the same, with a timer that lets a HEADERS frame go alone
// after 1 ms; here a DATA frame that never came would fail the benchmark (no
// event within 10 s). The transport serialises its writes.
type joinConn struct {
	net.Conn
	held []byte
}

func (c *joinConn) Write(p []byte) (int, error) {
	if len(c.held) == 0 {
		if len(p) >= 9 && p[3] == 0x1 && p[4]&0x4 != 0 && p[4]&0x1 == 0 && len(p) == 9+(int(p[0])<<16|int(p[1])<<8|int(p[2])) {
			c.held = append(c.held, p...)
			return len(p), nil
		}
		return c.Conn.Write(p)
	}
	h := len(c.held)
	buf := append(c.held, p...)
	c.held = buf[:0]
	n, err := c.Conn.Write(buf)
	return max(n-h, 0), err
}

// jsonString is the string value following key in raw ("" if none).
func jsonString(raw []byte, key string) string {
	i := bytes.Index(raw, []byte(key))
	if i < 0 {
		return ""
	}
	v := raw[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// protoEvent is the Response event of about 1,200 bytes answering the
// directive with the token, in avs.Client's multipart/form-data body.
func protoEvent(corr string, on bool) (body []byte, contentType string) {
	value := "OFF"
	if on {
		value = "ON"
	}
	const (
		boundary = "avshub-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
		head     = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
			`{"context":{"properties":[{"namespace":"Alexa.PowerController","name":"powerState","value":"`
		mid = `","timeOfSample":"2026-12-06T05:00:00.000Z","uncertaintyInMilliseconds":0},{"namespace":"Alexa.EndpointHealth","name":"connectivity","value":{"value":"OK"},"timeOfSample":"2026-12-06T05:00:00.000Z","uncertaintyInMilliseconds":0}]},` +
			`"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"avshub-0123456789abcdef0123456789abcdef","correlationToken":"`
		tail = `","payloadVersion":"3"},"endpoint":{"scope":{"type":"BearerToken","token":"` + protoAccessToken +
			`"},"endpointId":"avshub-virtual-kitchen-light","cookie":{"bridge":"virtual"}},"payload":{}}}` + "\r\n--" + boundary + "--\r\n"
	)
	b := make([]byte, 0, len(head)+len(value)+len(mid)+len(corr)+len(tail))
	b = append(b, head...)
	b = append(b, value...)
	b = append(b, mid...)
	b = append(b, corr...)
	b = append(b, tail...)
	return b, "multipart/form-data; boundary=" + boundary
}

// protoAccessToken stands for an LWA access token (about 370 characters).
const protoAccessToken = "Atza|IwEBIPlaceholderAccessTokenOfTheUsualLengthXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"

// startProtoBridge starts the bridge process of the variant, waits until it
// listens and returns its Execute call.
func startProtoBridge(sock, dir, variant string) (stop func(), call func(context.Context, *bridgev1.ExecuteRequest) (*bridgev1.ExecuteResponse, error), err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-", sock, dir, variant)
	cmd.Env = append(os.Environ(), "AVSHUB_BENCH_RELAY=proto-bridge")
	cmd.Stderr = os.Stderr
	// The bridge ends when its standard input does, that is when this
	// process ends (the benchmark kills it).
	if _, err := cmd.StdinPipe(); err != nil {
		return nil, nil, fmt.Errorf("bridge stdin: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("bridge stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start the bridge: %w", err)
	}
	kill := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	// The bridge writes a line once it listens, as go-plugin's handshake.
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		kill()
		return nil, nil, fmt.Errorf("bridge handshake: %w", err)
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if variant != "unary-plain" {
		cfg, err := pluginTLS(dir)
		if err != nil {
			kill()
			return nil, nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient("unix:"+sock, append(sdk.GRPCDialOptions(), grpc.WithTransportCredentials(rawSocketCreds{creds}))...)
	if err != nil {
		kill()
		return nil, nil, fmt.Errorf("dial the bridge: %w", err)
	}
	stop = func() { conn.Close(); kill() }
	if variant != "stream-tls" {
		c := bridgev1.NewBridgeClient(conn)
		return stop, func(ctx context.Context, req *bridgev1.ExecuteRequest) (*bridgev1.ExecuteResponse, error) {
			return c.Execute(ctx, req)
		}, nil
	}
	s, err := conn.NewStream(context.Background(), &protoStream.Streams[0], "/"+protoStream.ServiceName+"/"+protoStream.Streams[0].StreamName)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("open the Execute stream: %w", err)
	}
	return stop, func(_ context.Context, req *bridgev1.ExecuteRequest) (*bridgev1.ExecuteResponse, error) {
		if err := s.SendMsg(req); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		r := new(bridgev1.ExecuteResponse)
		if err := s.RecvMsg(r); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		return r, nil
	}, nil
}

// protoBridgeMain serves Execute (and the stream variant's stream) on sock
// until the hub process ends it.
func protoBridgeMain(sock, dir, variant string) error {
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var opts []grpc.ServerOption
	if variant != "unary-plain" {
		cfg, err := pluginTLS(dir)
		if err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0) // the hub process ended
	}()
	s := sdk.GRPCServer(opts)
	bridgev1.RegisterBridgeServer(s, floorBridge{})
	s.RegisterService(&protoStream, nil)
	if _, err := fmt.Println("ready"); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := s.Serve(l); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

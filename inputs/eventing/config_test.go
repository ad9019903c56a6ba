package eventing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

func TestPropertyErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		props  testenv.Config
		want   []string // substrings of the error
		hidden string   // must not appear in the error
	}{
		{testenv.Config{"http_port": "http"}, []string{`property "http_port"`, "integer from 0 to 65535"}, ""},
		{testenv.Config{"http_port": "70000"}, []string{`property "http_port"`}, ""},
		{testenv.Config{"http_listen": "1.2.3.4/8"}, []string{`property "http_listen"`}, ""},
		{testenv.Config{"path_prefix": "v1/events"}, []string{`property "path_prefix"`, "must start with /"}, ""},
		{testenv.Config{"path_prefix": "/healthz"}, []string{`property "path_prefix"`, "reserved"}, ""},
		{testenv.Config{"path_prefix": "/a b"}, []string{`property "path_prefix"`}, ""},
		{testenv.Config{"tls_cert_file": missing}, []string{`property "tls_key_file"`, "together"}, ""},
		{testenv.Config{"tls_key_file": missing}, []string{`property "tls_cert_file"`, "together"}, ""},
		{testenv.Config{"tls_cert_file": missing, "tls_key_file": missing}, []string{`property "tls_cert_file"`, "cannot load"}, ""},
		{testenv.Config{"max_body_bytes": "lots"}, []string{`property "max_body_bytes"`, "size"}, ""},
		{testenv.Config{"max_body_bytes": "0"}, []string{`property "max_body_bytes"`}, ""},
		{testenv.Config{"max_event_bytes": "2G"}, []string{`property "max_event_bytes"`}, ""},
		{testenv.Config{"max_events_per_request": "0"}, []string{`property "max_events_per_request"`}, ""},
		{testenv.Config{"partial_batch": "maybe"}, []string{`property "partial_batch"`, "reject, accept"}, ""},
		{testenv.Config{"ack": "later"}, []string{`property "ack"`, "buffered, received"}, ""},
		{testenv.Config{"ack_timeout": "forever"}, []string{`property "ack_timeout"`, "duration"}, ""},
		{testenv.Config{"ack_timeout": "1ms"}, []string{`property "ack_timeout"`}, ""},
		{testenv.Config{"max_buffered_bytes": "-1"}, []string{`property "max_buffered_bytes"`}, ""},
		{testenv.Config{"max_connections": "0"}, []string{`property "max_connections"`, "integer from 1"}, ""},
		{testenv.Config{"min_send_rate": "fast"}, []string{`property "min_send_rate"`, "size"}, ""},
		{testenv.Config{"min_send_rate_grace": "11m"}, []string{`property "min_send_rate_grace"`}, ""},
		{testenv.Config{"api_key_header": "X Key"}, []string{`property "api_key_header"`}, ""},
		{testenv.Config{"api_keys": "g1:ok, nocolon-s3cret"}, []string{`property "api_keys"`, "entry 2 is not game:key"}, "s3cret"},
		{testenv.Config{"api_keys": "g1:"}, []string{`property "api_keys"`, "entry 1"}, ""},
		{testenv.Config{"api_keys": "s3cret/key==:g1"}, []string{`property "api_keys"`, "entry 1", "not a game name"}, "s3cret"},
		{testenv.Config{"api_keys_file": missing}, []string{`property "api_keys_file"`, "cannot read"}, ""},
		{testenv.Config{"api_keys_reload_interval": "10ms"}, []string{`property "api_keys_reload_interval"`, "0 (off) or from 100ms"}, ""},
		{testenv.Config{"api_keys_reload_interval": "2h"}, []string{`property "api_keys_reload_interval"`}, ""},
		{testenv.Config{"http_port": "x", "ack": "y"}, []string{`property "http_port"`, `property "ack"`}, ""}, // all at once
	} {
		cfg := testenv.Config{"http_listen": "127.0.0.1", "http_port": "0"}
		for k, v := range tc.props {
			cfg[k] = v
		}
		in, err := New(plugin.Env{Config: cfg, Log: &testenv.Log{}, Name: "eventing.0"})
		if err == nil {
			in.Close()
			t.Errorf("%v: New succeeded", tc.props)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not contain %q", tc.props, err, w)
			}
		}
		if tc.hidden != "" && strings.Contains(err.Error(), tc.hidden) {
			t.Errorf("%v: error %q echoes a secret", tc.props, err)
		}
	}
}

func TestPropertyDefaults(t *testing.T) {
	c, err := parseConfig(testenv.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "0.0.0.0:8888" || c.prefix != "/v1/events" || c.tls != nil || c.maxBody != 5<<20 || c.maxEvent != 256<<10 ||
		c.maxEvents != 1000 || c.acceptPartial || !c.ackBuffered || c.ackTimeout != 10*time.Second ||
		c.maxBuffered != 64<<20 || c.keyHeader != "X-API-Key" || c.keys.current().count() != 0 || c.keysReload != 5*time.Second ||
		c.maxConns != 1024 || c.minSendRate != 1<<10 || c.sendGrace != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	for _, p := range Properties {
		if p.Meaning == "" || strings.Contains(p.Meaning, "\n") {
			t.Errorf("property %s needs a one-line meaning", p.Name)
		}
	}
	if s, _ := Properties.Lookup("api_keys"); !s.Secret {
		t.Error("api_keys is not marked Secret")
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, err = New(plugin.Env{Config: testenv.Config{"http_listen": "127.0.0.1", "http_port": port}, Log: &testenv.Log{}})
	if err == nil || !strings.Contains(err.Error(), `"http_port"`) {
		t.Fatalf("New on a used port: %v, want an error naming the port", err)
	}
}

func TestPathPrefixRoot(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"path_prefix": "/", "ack": "received"})
	if r := post(t, base+"/g/v/e", ev); r.status != 202 {
		t.Fatalf("POST /g/v/e with prefix /: %v", r)
	}
	if got := collect(t, c); len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	if h := send(t, nil, "GET", base+"/healthz", nil); h.status != 200 {
		t.Fatalf("healthz with prefix /: %v", h)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	c, base, _ := start(t, testenv.Config{"tls_cert_file": certFile, "tls_key_file": keyFile, "ack": "received"})
	base = strings.Replace(base, "http://", "https://", 1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if r := send(t, client, "POST", base+"/v1/events/g/v/e", []byte(ev)); r.status != 202 {
		t.Fatalf("POST over TLS: %v", r)
	}
	if got := collect(t, c); len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	if resp, err := http.Post("http://"+c.Addr().String()+"/v1/events/g/v/e", "application/json", strings.NewReader(ev)); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("plain HTTP to the TLS port got %d", resp.StatusCode)
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestThreadedAckBufferedIsReported: threaded, a 200 (ack buffered) comes
// before the events are in a chunk; the operator is told at start, with the
// property that fixes it. ack received promises nothing more, and a
// non-threaded input keeps the promise: neither warns.
func TestThreadedAckBufferedIsReported(t *testing.T) {
	for _, tc := range []struct {
		threaded bool
		ack      string
		warn     bool
	}{
		{true, "buffered", true},
		{false, "buffered", false},
		{true, "received", false},
	} {
		log := &testenv.Log{}
		in, err := New(plugin.Env{Config: testenv.Config{"http_listen": "127.0.0.1", "http_port": "0", "ack": tc.ack}, Log: log, Threaded: tc.threaded})
		if err != nil {
			t.Fatal(err)
		}
		in.Close()
		warned := log.Count("[warn]", "'threaded off'") > 0
		if warned != tc.warn {
			t.Errorf("threaded=%v ack=%s: warned=%v, want %v; log: %q", tc.threaded, tc.ack, warned, tc.warn, log.Lines())
		}
	}
}

// TestParseConfigReportsEveryBadPropertyAtOnce: the input's own properties
// and the metrics set are read with one reader, so one Init names both.
func TestParseConfigReportsEveryBadPropertyAtOnce(t *testing.T) {
	_, err := parseConfig(testenv.Config{"http_port": "http", "ack": "later", "metrics_port": "70000"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"http_port", "ack", "metrics_port"} {
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

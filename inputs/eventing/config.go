package eventing

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/forward"

	"github.com/whirlpool-events/whirlpool/internal/gomem"
	"github.com/whirlpool-events/whirlpool/internal/memguard"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties are the eventing input's properties, in README order.
var Properties = props.Join(props.Set{
	{Name: "http_listen", Type: props.String, Default: "0.0.0.0", Meaning: "Address the HTTP server listens on (Fluent Bit keeps `listen` for itself)."},
	{Name: "http_port", Type: props.Int, Min: 0, Max: 65535, Default: "8888", Meaning: "TCP port of the HTTP server (0 picks a free port; Fluent Bit keeps `port` for itself)."},
	{Name: "path_prefix", Type: props.String, Default: "/v1/events", Meaning: "URL prefix; events are POSTed to {path_prefix}/{game}/{version}/{event}."},
	{Name: "tls_cert_file", Type: props.String, Meaning: "PEM certificate (chain) file; with tls_key_file, serve HTTPS."},
	{Name: "tls_key_file", Type: props.String, Meaning: "PEM private key file for tls_cert_file."},
	{Name: "max_body_bytes", Type: props.Size, Min: 1, Max: 1 << 30, Default: "5M", Meaning: "Largest request body, before and after gzip decompression (413 beyond)."},
	{Name: "max_event_bytes", Type: props.Size, Min: 2, Max: 1 << 30, Default: "256K", Meaning: "Largest single event: the whole body or one array element or NDJSON line (413 beyond)."},
	{Name: "max_events_per_request", Type: props.Int, Min: 1, Max: 1_000_000, Default: "1000", Meaning: "Most events in one request (413 beyond)."},
	{Name: "partial_batch", Type: props.Enum, Allowed: []string{partialReject, partialAccept}, Default: "reject", Meaning: "With some bad events in a request: reject the whole request, or accept the good ones and report the bad ones by index."},
	{Name: "ack", Type: props.Enum, Allowed: []string{ackBuffered, ackReceived}, Default: "buffered", Meaning: "buffered: answer 200 once Fluent Bit holds the events in its buffer; received: answer 202 at once (a crash may lose up to ~1 s of events)."},
	{Name: "ack_timeout", Type: props.Duration, MinDur: 100 * time.Millisecond, MaxDur: 10 * time.Minute, Default: "10s", Meaning: "buffered ack: events not collected by then are withdrawn (never emitted) and the request gets 503 with Retry-After."},
	{Name: "max_connections", Type: props.Int, Min: 1, Max: 1_000_000, Default: "1024", Meaning: "Most client connections open at once, idle keep-alive ones included; more wait in the kernel's accept queue until one closes (GET /healthz on this port waits too)."},
	{Name: "min_send_rate", Type: props.Size, Min: 0, Max: 1 << 30, Default: "1K", Meaning: "Slowest body upload accepted, in bytes per second: a body must be complete within min_send_rate_grace plus its size divided by this rate, else 408 and nothing of it is emitted; 0 turns it off."},
	{Name: "min_send_rate_grace", Type: props.Duration, MinDur: 0, MaxDur: 10 * time.Minute, Default: "10s", Meaning: "Head start before min_send_rate applies; a body complete within it is never cut off (the whole request is still cut off after 60s)."},
	{Name: "forward_unix_path", Type: props.String, Default: "", Meaning: "Unix socket of a forward input of this Fluent Bit (its unix_path): with ack buffered, an accepted request's records go to it at once, in Forward messages that ask for an acknowledgement (requests arriving meanwhile share the next one), and the request is answered 200 once it acknowledges (it appends them to its chunks first), instead of waiting for the Go input's one-second collect. Records take the collect path while the socket is missing, the forward input is paused or an acknowledgement takes longer than forward_timeout (records sent but unacknowledged may then arrive twice, with the same uuids: the loader deduplicates). Empty: always the collect path."},
	{Name: "forward_tag", Type: props.String, Default: "events", Meaning: "Tag of the Forward messages (forward_unix_path); a forward input with a Tag of its own gives its records that one instead. Give the records the tag the sqs output's contract_match expects of this input's."},
	{Name: "forward_timeout", Type: props.Duration, MinDur: 100 * time.Millisecond, MaxDur: 5 * time.Minute, Default: "5s", Meaning: "How long connecting to forward_unix_path and each acknowledgement may take before the records take the collect path (retried 50 ms later, then at doubling intervals up to a second while it keeps failing)."},
	{Name: "max_buffered_bytes", Type: props.Size, Min: 1, Max: 1 << 40, Default: "64M", Meaning: "Bound on records queued but not yet collected by Fluent Bit, and apart on the records of requests on their way to the forward input of forward_unix_path (claimed before they are built); a request with room in neither gets 503 with Retry-After: 1, and so does every request after it, before its body is read, until room is made."},
	{Name: "api_key_header", Type: props.String, Default: "X-API-Key", Meaning: "Request header that carries the API key."},
	{Name: "api_keys", Type: props.String, Meaning: "Comma-separated game:key pairs; when any key is set, a request needs a key of its game (401 otherwise).", Secret: true},
	{Name: "api_keys_file", Type: props.String, Meaning: "File of game:key lines (lines starting with # are comments), added to api_keys; re-read when its content changes (api_keys_reload_interval)."},
	{Name: "api_keys_reload_interval", Type: props.Duration, MinDur: 0, MaxDur: time.Hour, Default: "5s", Meaning: "How often api_keys_file is re-read (100ms to 1h; 0 turns reloading off); new content replaces the file's keys, while a file that cannot be read or parsed, or holds no key, keeps the previous keys with an error naming the line."},
}, metrics.Properties, gomem.Properties, memguard.Properties)

// Values of the enum properties.
const (
	partialReject = "reject"
	partialAccept = "accept"
	ackBuffered   = "buffered"
	ackReceived   = "received"
)

type config struct {
	addr            string
	prefix          string // "" or "/a/b", no trailing slash
	tls             *tls.Config
	maxBody         int64
	maxEvent        int64
	maxEvents       int
	acceptPartial   bool
	ackBuffered     bool
	ackTimeout      time.Duration
	maxBuffered     int64
	forward         forward.Config
	maxConns        int
	minSendRate     int64 // bytes per second; 0: off
	sendGrace       time.Duration
	keyHeader       string
	keys            *keyring
	keysReload      time.Duration // 0: api_keys_file is read at start only
	shutdownTimeout time.Duration
	metrics         metrics.Settings
	goMemory        gomem.Settings
}

func parseConfig(cfg plugin.Config) (*config, error) {
	r := Properties.Read(cfg)
	c := &config{shutdownTimeout: 5 * time.Second}

	listen := r.String("http_listen")
	port := r.Int("http_port")
	if listen == "" {
		r.Fail("http_listen", "must not be empty")
	} else if strings.ContainsAny(listen, "/ ") {
		r.Fail("http_listen", "invalid value %q: want an IP address or host name", listen)
	}
	c.addr = net.JoinHostPort(strings.Trim(listen, "[]"), strconv.Itoa(port))

	prefix := r.String("path_prefix")
	switch {
	case !strings.HasPrefix(prefix, "/"):
		r.Fail("path_prefix", "invalid value %q: must start with /", prefix)
	case strings.ContainsAny(prefix, "?#% \t") || strings.Contains(prefix, "//"):
		r.Fail("path_prefix", "invalid value %q: want a plain path such as /v1/events", prefix)
	case prefix == "/healthz" || strings.HasPrefix(prefix, "/healthz/"):
		r.Fail("path_prefix", "invalid value %q: /healthz is reserved for the health check", prefix)
	}
	c.prefix = strings.TrimRight(prefix, "/")

	certFile, keyFile := r.String("tls_cert_file"), r.String("tls_key_file")
	switch {
	case certFile != "" && keyFile == "":
		r.Fail("tls_key_file", "must be set together with tls_cert_file")
	case certFile == "" && keyFile != "":
		r.Fail("tls_cert_file", "must be set together with tls_key_file")
	case certFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			r.Fail("tls_cert_file", "cannot load the certificate and key (tls_key_file): %v", err)
		} else {
			c.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}

	c.maxBody = r.Size("max_body_bytes")
	c.maxEvent = r.Size("max_event_bytes")
	c.maxEvents = r.Int("max_events_per_request")
	c.acceptPartial = r.Enum("partial_batch") == partialAccept
	c.ackBuffered = r.Enum("ack") == ackBuffered
	c.ackTimeout = r.Duration("ack_timeout")
	c.maxBuffered = r.Size("max_buffered_bytes")
	c.forward = forward.Read(r)
	c.forward.FrameMax = forwardFrame
	if c.forward.Path != "" && !c.ackBuffered {
		r.Fail("forward_unix_path", "needs ack buffered (with ack received a request is answered before its records go anywhere)")
	}
	c.maxConns = r.Int("max_connections")
	c.minSendRate = r.Size("min_send_rate")
	c.sendGrace = r.Duration("min_send_rate_grace")

	c.keyHeader = r.String("api_key_header")
	if !validHeaderName(c.keyHeader) {
		r.Fail("api_key_header", "invalid value %q: want an HTTP header name such as X-API-Key", c.keyHeader)
	}
	inline := apiKeys{}
	for _, p := range inline.add(strings.Split(r.String("api_keys"), ","), false) {
		r.Fail("api_keys", "%s", p)
	}
	c.keys = newKeyring(inline)
	if path := r.String("api_keys_file"); path != "" {
		problems, err := c.keys.load(path)
		if err != nil {
			r.Fail("api_keys_file", "cannot read %q: %v", path, err)
		}
		for _, p := range problems {
			r.Fail("api_keys_file", "%s", p)
		}
	}
	c.keysReload = r.Duration("api_keys_reload_interval")
	if c.keysReload > 0 && c.keysReload < 100*time.Millisecond {
		r.Fail("api_keys_reload_interval", "invalid value %s: want 0 (off) or from 100ms to 1h", c.keysReload)
	}
	c.metrics = metrics.Read(r)
	c.goMemory = gomem.Read(r)

	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

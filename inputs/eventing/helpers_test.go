package eventing

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// start runs a collector on 127.0.0.1:0 with props over the test defaults.
func start(t *testing.T, props testenv.Config) (*Collector, string, *testenv.Log) {
	t.Helper()
	cfg := testenv.Config{"http_listen": "127.0.0.1", "http_port": "0"}
	for k, v := range props {
		cfg[k] = v
	}
	lg := &testenv.Log{}
	in, err := New(plugin.Env{Config: cfg, Log: lg, Name: "eventing.0"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := in.(*Collector)
	t.Cleanup(func() { _ = c.Close() })
	return c, "http://" + c.Addr().String(), lg
}

// reply is a response, with the JSON body decoded.
type reply struct {
	status int
	header http.Header
	raw    string
	Error  *item   `json:"error"`
	Accept *int    `json:"accepted"`
	Reject []item  `json:"rejected"`
	Status *string `json:"status"`
}

type item struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Index   *int   `json:"index"`
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// send makes one request; headers are "Name: value" strings.
func send(t *testing.T, client *http.Client, method, url string, body []byte, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil { // not t.Fatal: send runs in goroutines of the tests too
		t.Errorf("%s %s: %v", method, url, err)
		return reply{}
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return reply{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if method != http.MethodHead {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want application/json", method, url, ct)
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Errorf("%s %s: body %q is not JSON: %v", method, url, raw, err)
		}
	}
	return r
}

func post(t *testing.T, url, body string, headers ...string) reply {
	t.Helper()
	return send(t, nil, http.MethodPost, url, []byte(body), headers...)
}

// rec is one decoded record.
type rec struct {
	time  time.Time
	meta  uint32
	keys  []string
	field map[string]string
}

// decodeAll reads records with msgp's readers, failing on anything that is
// not [[EventTime, {}], {str: str...}].
func decodeAll(t *testing.T, b []byte) []rec {
	t.Helper()
	var out []rec
	for len(b) > 0 {
		var r rec
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil || n != 2 {
			t.Fatalf("record %d: outer array n=%d err=%v", len(out), n, err)
		}
		n, rest, err = msgp.ReadArrayHeaderBytes(rest)
		if err != nil || n != 2 {
			t.Fatalf("record %d: header array n=%d err=%v", len(out), n, err)
		}
		if len(rest) < 10 || rest[0] != 0xd7 || rest[1] != 0 {
			t.Fatalf("record %d: time is not an EventTime", len(out))
		}
		r.time = time.Unix(int64(binary.BigEndian.Uint32(rest[2:6])), int64(binary.BigEndian.Uint32(rest[6:10])))
		r.meta, rest, err = msgp.ReadMapHeaderBytes(rest[10:])
		if err != nil {
			t.Fatalf("record %d: meta: %v", len(out), err)
		}
		sz, rest, err := msgp.ReadMapHeaderBytes(rest)
		if err != nil {
			t.Fatalf("record %d: body: %v", len(out), err)
		}
		r.field = map[string]string{}
		for i := uint32(0); i < sz; i++ {
			var k string
			var v []byte
			k, rest, err = msgp.ReadStringBytes(rest)
			if err != nil {
				t.Fatalf("record %d: key: %v", len(out), err)
			}
			if msgp.NextType(rest) != msgp.StrType {
				t.Fatalf("record %d: %s is %v, want str", len(out), k, msgp.NextType(rest))
			}
			v, rest, err = msgp.ReadStringZC(rest)
			if err != nil {
				t.Fatalf("record %d: %s: %v", len(out), k, err)
			}
			r.keys = append(r.keys, k)
			r.field[k] = string(v)
		}
		out = append(out, r)
		b = rest
	}
	return out
}

// collect runs one Collect, calls done, and decodes what it returned.
func collect(t *testing.T, c *Collector) []rec {
	t.Helper()
	buf, done := c.Collect(nil)
	if done != nil {
		done()
	}
	if len(buf) > 0 && done == nil {
		t.Error("Collect returned records without a done func")
	}
	return decodeAll(t, buf)
}

// bodies lists the body field of recs.
func bodies(recs []rec) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.field["body"])
	}
	return out
}

// waitQueued polls until n batches are queued (it fails after 5 s).
func waitQueued(t *testing.T, c *Collector, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := c.q.stats(); got == n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := c.q.stats()
			t.Fatalf("%d batches queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
}

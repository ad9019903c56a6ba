package sqs

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestInitReportsEveryBadPropertyAtOnce: the input's own properties, the
// AWS, validate and metrics sets are read with one reader, so one Init
// names every bad property rather than stopping at the first set.
func TestInitReportsEveryBadPropertyAtOnce(t *testing.T) {
	_, err := New(plugin.Env{Name: "sqs.0", Log: &testenv.Log{}, Config: testenv.Config{
		"queue_url":    "http://127.0.0.1:1/123456789012/q",
		"pollers":      "0",       // the input's own
		"endpoint":     "ftp://x", // awsconf
		"expand_limit": "0",       // validate
		"metrics_port": "70000",   // metrics
	}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"pollers", "endpoint", "expand_limit", "metrics_port"} {
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// A forward_unix_path longer than a unix socket's path may be is refused at
// start, naming the property, rather than failing at every send.
func TestForwardUnixPathThatCannotBeASocket(t *testing.T) {
	long := "/tmp/" + strings.Repeat("d", 98) + "/s.sock" // 108 bytes
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"", true},
		{"/var/lib/whirlpool/storage/sqs-forward.sock", true},
		{long[:107], true},
		{long, false},
	} {
		_, err := parseConfig(testenv.Config{"queue_url": "http://127.0.0.1:1/123456789012/q", "forward_unix_path": tc.path})
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "forward_unix_path")) {
			t.Errorf("forward_unix_path of %d bytes: error %v", len(tc.path), err)
		}
	}
}

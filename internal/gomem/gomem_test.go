package gomem

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  Limit
		err   string // substring of the error; "" for none
	}{
		{"", 64 << 20, ""},
		{"0", 0, ""},
		{"16M", 16 << 20, ""},
		{"256M", 256 << 20, ""},
		{"8M", 0, "at least 16M"},
		{"lots", 0, "go_memory_limit"},
	} {
		cfg := testenv.Config{}
		if tc.value != "" {
			cfg["go_memory_limit"] = tc.value
		}
		r := Properties.Read(cfg)
		got := Read(r)
		err := r.Err()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.value, err, tc.err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: %d, want %d", tc.value, got, tc.want)
		}
	}
}

// TestApplyKeepsTheLargest: instances of one plugin share its runtime, so
// the largest limit any of them asked for holds.
func TestApplyKeepsTheLargest(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before); applied = 0 })
	for _, step := range []struct{ apply, want Limit }{
		{0, Limit(before)},
		{64 << 20, 64 << 20},
		{32 << 20, 64 << 20},
		{128 << 20, 128 << 20},
	} {
		step.apply.Apply()
		if got := Limit(debug.SetMemoryLimit(-1)); got != step.want {
			t.Errorf("after Apply(%d): limit %d, want %d", step.apply, got, step.want)
		}
	}
}

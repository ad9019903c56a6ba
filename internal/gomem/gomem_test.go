package gomem

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		limit, percent string // "" leaves the property unset
		want           Settings
		err            string // substring of the error; "" for none
	}{
		{"", "", Settings{Limit: 64 << 20}, ""},
		{"0", "", Settings{}, ""},
		{"16M", "", Settings{Limit: 16 << 20}, ""},
		{"256M", "", Settings{Limit: 256 << 20}, ""},
		{"8M", "", Settings{}, "at least 16M"},
		{"lots", "", Settings{}, "go_memory_limit"},
		{"", "0", Settings{Limit: 64 << 20}, ""},
		{"", "25", Settings{Limit: 64 << 20, GCPercent: 25}, ""},
		{"", "400", Settings{Limit: 64 << 20, GCPercent: 400}, ""},
		{"", "10", Settings{}, "go_gc_percent"},
		{"", "-1", Settings{}, "go_gc_percent"},
		{"", "off", Settings{}, "go_gc_percent"},
		{"", "20000", Settings{}, "go_gc_percent"},
	} {
		cfg := testenv.Config{}
		if tc.limit != "" {
			cfg["go_memory_limit"] = tc.limit
		}
		if tc.percent != "" {
			cfg["go_gc_percent"] = tc.percent
		}
		r := Properties.Read(cfg)
		got := Read(r)
		err := r.Err()
		name := tc.limit + "/" + tc.percent
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", name, err, tc.err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: %+v, want %+v", name, got, tc.want)
		}
	}
}

// TestApplyKeepsTheLargest: instances of one plugin share its runtime, so
// the largest limit and the largest percent any of them asked for hold,
// and 0 leaves Go's own setting.
func TestApplyKeepsTheLargest(t *testing.T) {
	beforeLimit := debug.SetMemoryLimit(-1)
	beforePercent := debug.SetGCPercent(100)
	debug.SetGCPercent(beforePercent)
	t.Cleanup(func() {
		debug.SetMemoryLimit(beforeLimit)
		debug.SetGCPercent(beforePercent)
		appliedLimit, appliedPercent = 0, 0
	})
	for _, step := range []struct{ apply, want Settings }{
		{Settings{}, Settings{beforeLimit, beforePercent}},
		{Settings{64 << 20, 200}, Settings{64 << 20, 200}},
		{Settings{32 << 20, 150}, Settings{64 << 20, 200}},
		{Settings{128 << 20, 0}, Settings{128 << 20, 200}},
		{Settings{0, 400}, Settings{128 << 20, 400}},
	} {
		step.apply.Apply()
		percent := debug.SetGCPercent(-1)
		debug.SetGCPercent(percent)
		if got := (Settings{debug.SetMemoryLimit(-1), percent}); got != step.want {
			t.Errorf("after Apply(%+v): %+v, want %+v", step.apply, got, step.want)
		}
	}
}

package fluentbit

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/flbconf"
	"github.com/whirlpool-events/whirlpool/internal/gomem"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestShippedGoRuntimeSettings starts both shipped tiers, from the classic
// and from the YAML files, and reads each plugin's Go runtime settings off
// its /metrics page (go_gc_gogc_percent, go_gc_gomemlimit_bytes): each is
// what that plugin's section of the file asks for with go_gc_percent and
// go_memory_limit (their defaults where unset). So the engine hands the
// properties to the plugins, and each plugin's runtime applies them.
func TestShippedGoRuntimeSettings(t *testing.T) {
	for _, format := range []string{"conf", "yaml"} {
		t.Run(format, func(t *testing.T) {
			p := newPipeline(t, options{format: format})
			checked := 0
			for _, tier := range []string{"edge", "processor"} {
				file := filepath.Join(p.root, "conf", tier+"."+format)
				f, err := flbconf.Parse(file)
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range f.Instances {
					plugin := map[string]string{"input": "in_", "output": "out_"}[in.Kind] + in.Name
					url, ours := p.metricsURLs[plugin]
					if !ours {
						continue // one of Fluent Bit's own
					}
					checked++
					wantPercent, wantLimit := expectedGoRuntime(t, in)
					if got := metricValue(url, "go_gc_gogc_percent"); got != float64(wantPercent) {
						t.Errorf("%s (%s): go_gc_gogc_percent %v, want %d", plugin, in.Where, got, wantPercent)
					}
					if got := metricValue(url, "go_gc_gomemlimit_bytes"); got != float64(wantLimit) {
						t.Errorf("%s (%s): go_gc_gomemlimit_bytes %v, want %d", plugin, in.Where, got, wantLimit)
					}
				}
			}
			if checked != len(p.metricsURLs) {
				t.Errorf("checked %d plugin sections, want one for each of the %d plugins", checked, len(p.metricsURLs))
			}
		})
	}
}

// expectedGoRuntime returns the GC percent and memory limit a plugin
// section asks for, read by gomem as the plugin reads it; where it keeps
// Go's own setting, Go's default (the tiers run without GOGC and
// GOMEMLIMIT unless the test's environment sets them).
func expectedGoRuntime(t *testing.T, in flbconf.Instance) (percent int, limit int64) {
	t.Helper()
	cfg := testenv.Config{}
	for _, k := range []string{"go_gc_percent", "go_memory_limit"} {
		if v := flbconf.Get(in.Props, k); v != "" {
			cfg[k] = v
		}
	}
	r := gomem.Properties.Read(cfg)
	s := gomem.Read(r)
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", in.Where, err)
	}
	percent, limit = s.GCPercent, s.Limit
	if percent == 0 {
		percent = 100
		if v, err := strconv.Atoi(os.Getenv("GOGC")); err == nil {
			percent = v
		}
	}
	if limit == 0 {
		limit = math.MaxInt64
		if os.Getenv("GOMEMLIMIT") != "" {
			t.Skip("GOMEMLIMIT is set: the expected limit of a plugin without go_memory_limit is not computed here")
		}
	}
	return percent, limit
}

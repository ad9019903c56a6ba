package redshift

import "testing"

// whirlpool_redshift_load_seconds_total keeps fractions of a second: batch
// loads usually take well under one, and whole seconds made its rate (the
// dashboard's mean load time per batch) a staircase of 0s and 1s.
func TestLoadSecondsKeepFractions(t *testing.T) {
	var s Stats
	s.LoadNanos.Store(1_500_000_000)
	s.LoadNanosMax.Store(250_000_000)
	got := map[string]float64{}
	for _, f := range metricTable(&s) {
		if f.Value != nil {
			got[f.Name] = f.Value()
		}
	}
	if got["redshift_load_seconds_total"] != 1.5 || got["redshift_load_seconds_max"] != 0.25 {
		t.Errorf("load_seconds_total %v, load_seconds_max %v; want 1.5 and 0.25", got["redshift_load_seconds_total"], got["redshift_load_seconds_max"])
	}
}

package sqs

import (
	"strings"
	"testing"
)

// TestParseConfigReportsEveryBadPropertyAtOnce: the output's own
// properties, the AWS and metrics sets are read with one reader, so one
// Init names every bad property.
func TestParseConfigReportsEveryBadPropertyAtOnce(t *testing.T) {
	_, err := ParseConfig(cfgMap{
		"queue_url":    "http://127.0.0.1:1/123456789012/q",
		"concurrency":  "0",         // the output's own
		"sts_endpoint": "not a url", // awsconf
		"metrics_port": "many",      // metrics
	})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"concurrency", "sts_endpoint", "metrics_port"} {
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

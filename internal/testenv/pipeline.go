package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Pipeline says where the shipped conf/ pipelines, run by a test, find
// what their ${WHIRLPOOL_*} variables name (scripts/demo exports the same
// names for the demo).
type Pipeline struct {
	Storage  string // holds edge-storage and processor-storage
	Endpoint string // the SQS endpoint the tiers call
	QueueURL string
	DSN      string // the event tables and the model store
	// Ports, from FreePorts(t, 6): eventing, forward, then the metrics of
	// eventing, the sqs output, the sqs input and the redshift output.
	Ports []string
}

// ShortDir returns a new directory, removed when the test ends, with a
// short path: the shipped processor puts its forward input's unix socket
// under its storage path, and a socket's path is at most 107 bytes, which
// a t.TempDir named after a long test exceeds.
func ShortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Vars returns the pipelines' variables, every listener on loopback.
func (p Pipeline) Vars() map[string]string {
	return map[string]string{
		"WHIRLPOOL_LOG_LEVEL":              "info",
		"WHIRLPOOL_EDGE_STORAGE_PATH":      filepath.Join(p.Storage, "edge-storage"),
		"WHIRLPOOL_PROCESSOR_STORAGE_PATH": filepath.Join(p.Storage, "processor-storage"),
		"WHIRLPOOL_EVENTING_LISTEN":        "127.0.0.1",
		"WHIRLPOOL_EVENTING_PORT":          p.Ports[0],
		"WHIRLPOOL_FORWARD_LISTEN":         "127.0.0.1",
		"WHIRLPOOL_FORWARD_PORT":           p.Ports[1],
		"WHIRLPOOL_SQS_QUEUE_URL":          p.QueueURL,
		"WHIRLPOOL_SQS_ENDPOINT":           p.Endpoint,
		"WHIRLPOOL_AWS_REGION":             "us-east-1",
		"WHIRLPOOL_DSN":                    p.DSN,
		"WHIRLPOOL_DB_PASSWORD":            "",
		"WHIRLPOOL_MODEL_DSN":              p.DSN,
		"WHIRLPOOL_METRICS_LISTEN":         "127.0.0.1",
		"WHIRLPOOL_EVENTING_METRICS_PORT":  p.Ports[2],
		"WHIRLPOOL_SQS_OUT_METRICS_PORT":   p.Ports[3],
		"WHIRLPOOL_SQS_IN_METRICS_PORT":    p.Ports[4],
		"WHIRLPOOL_REDSHIFT_METRICS_PORT":  p.Ports[5],
	}
}

// TierGODEBUG is the GODEBUG the shipped Deployments of both tiers set
// (deploy/kubernetes/base, deploy/helm; the deploy tests hold them to it):
// the Go runtime's schedtrace at its longest period, 2^31-1 ms (24.8 days),
// for what it does to sysmon rather than for its trace.
//
// Each plugin .so is a Go runtime of its own, with its own sysmon thread.
// sysmon sleeps until woken while every P is idle, and the first system
// call after that wakes it and sets it back to 20 µs naps for a
// millisecond (runtime/proc.go, sysmon). Our plugins go idle and busy
// again hundreds of times a second under load (each flush, each forward
// acknowledgement, each receive), which held each sysmon near 2,000 wakes
// a second: 8-9% of the processor's CPU in its drain, on a virtual machine
// where a wake costs tens of microseconds. With schedtrace set, sysmon
// never sleeps until woken, so nothing resets its naps: about 400 wakes a
// second in the drain, and one per 10 ms when idle. The price is that idle
// rate: about 7 ms of CPU a second more per idle tier (BenchmarkIdleCPU),
// which is why the sidecar example
// leaves it out. One SCHED line reaches stderr when a host's monotonic
// clock passes each 24.8 days.
const TierGODEBUG = "schedtrace=2147483647"

// TierEnv is what a test starts a Fluent Bit tier with: this process's
// environment without any WHIRLPOOL_* or AWS_* setting, then
// GODEBUG=TierGODEBUG as the shipped Deployments set it (unless this
// process has GODEBUG, even empty: GODEBUG= runs the tiers without it, for
// comparison), then AWSTestEnv, then vars (which win).
func TierEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WHIRLPOOL_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	if _, set := os.LookupEnv("GODEBUG"); !set {
		env = append(env, "GODEBUG="+TierGODEBUG)
	}
	merged := map[string]string{}
	for k, v := range AWSTestEnv {
		merged[k] = v
	}
	for k, v := range vars {
		merged[k] = v
	}
	for k, v := range merged {
		env = append(env, k+"="+v)
	}
	return env
}

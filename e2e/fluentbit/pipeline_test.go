package fluentbit

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const queueName = "whirlpool-events"

// options choose how a pipeline runs.
type options struct {
	format    string // conf or yaml: which shipped files
	hotReload bool   // start Fluent Bit with -Y (SIGHUP reloads)
	noWorkers bool   // run copies of the shipped files without the outputs' Workers
	dsn       string // the database; "" makes one with testenv.Postgres
	// edgeClock, when not zero, runs the edge with its monotonic clock
	// that far ahead of the processor's (timensExec): Fluent Bit starts
	// its timers on whole monotonic seconds, so this gives the edge's
	// collects and flushes the phase a separate node would have.
	edgeClock time.Duration
	// setup runs once the model is applied, before the tiers start; the
	// settings it returns replace the pipeline's (WHIRLPOOL_* variables).
	setup func(t testing.TB, db *sql.DB, dsn string) map[string]string
}

// pipeline is the shipped edge and processor, each in its own Fluent Bit,
// wired to a per-test SQS emulator (through a proxy that can take SQS
// down) and a per-test database.
type pipeline struct {
	t         testing.TB
	root      string
	db        *sql.DB
	sqs       *testenv.SQSServer
	proxy     *tcpProxy
	edge      *fluentBit
	processor *fluentBit
	load      *load
	queueURL  string // direct to the emulator, for the test's own checks
	dsn       string // the test database (as the test's own role)
	// metricsURLs are the plugins' /metrics endpoints, by plugin file name.
	metricsURLs map[string]string
}

// newPipeline prepares everything and starts both tiers (processor
// first). It skips the test when there is no Fluent Bit binary.
func newPipeline(t testing.TB, opt options) *pipeline {
	t.Helper()
	bin, root := engineAndRoot(t)
	p := &pipeline{t: t, root: root}
	dsn := opt.dsn
	if dsn == "" {
		dsn = testenv.Postgres(t)
	}
	p.dsn = dsn
	var err error
	if p.db, err = sql.Open("postgres", dsn); err != nil {
		t.Fatalf("opening the test database: %v", err)
	}
	p.db.SetMaxIdleConns(0) // no connection of ours outlives a PostgreSQL restart
	t.Cleanup(func() { p.db.Close() })
	testmodel.ApplyFile(t, dsn, filepath.Join(root, "conf", "model.yaml"))

	p.sqs = testenv.SQS(t, queueName)
	p.queueURL = p.sqs.QueueURL(queueName)
	p.proxy = startProxy(t, "127.0.0.1:"+strconv.Itoa(p.sqs.Port))
	sqsEndpoint := "http://" + p.proxy.addr

	ports := testenv.FreePorts(t, 6)
	dir := testenv.ShortDir(t) // the processor's forward socket lives under it
	vars := testenv.Pipeline{Storage: dir, Endpoint: sqsEndpoint, QueueURL: sqsEndpoint + "/" + testenv.SQSAccountID + "/" + queueName,
		DSN: dsn, Ports: ports}.Vars()
	if opt.setup != nil {
		for k, v := range opt.setup(t, p.db, dsn) {
			vars[k] = v
		}
	}
	env := testenv.TierEnv(vars)

	so := testenv.PluginObjects(t, root)
	args := func(tier string, plugins ...string) []string {
		var a []string
		for _, name := range plugins {
			a = append(a, "-e", so[name])
		}
		if opt.hotReload {
			a = append(a, "-Y")
		}
		conf := filepath.Join(root, "conf", tier+"."+opt.format)
		if opt.noWorkers {
			conf = withoutWorkers(t, conf, dir)
		}
		return append(a, "-c", conf)
	}
	url := func(port, path string) string { return "http://127.0.0.1:" + port + path }
	p.metricsURLs = map[string]string{"in_eventing": url(ports[2], "/metrics"), "out_sqs": url(ports[3], "/metrics"),
		"in_sqs": url(ports[4], "/metrics"), "out_redshift": url(ports[5], "/metrics")}
	p.processor = newFluentBit(t, "processor", bin, args("processor", "in_sqs", "out_redshift"), env,
		filepath.Join(dir, "processor.log"), func() error {
			return testenv.Healthy(url(ports[4], "/healthz"), url(ports[5], "/healthz"))
		})
	edgeBin, edgeArgs := bin, args("edge", "in_eventing", "out_sqs")
	if opt.edgeClock != 0 {
		var pre []string
		edgeBin, pre = timensExec(t, opt.edgeClock, bin)
		edgeArgs = append(pre, edgeArgs...)
	}
	p.edge = newFluentBit(t, "edge", edgeBin, edgeArgs, env,
		filepath.Join(dir, "edge.log"), func() error {
			if err := testenv.Healthy(url(ports[0], "/healthz"), url(ports[3], "/healthz")); err != nil {
				return err
			}
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+ports[1], time.Second)
			if err != nil {
				return fmt.Errorf("forward input: %w", err)
			}
			return c.Close()
		})
	p.processor.Start()
	p.edge.Start()
	p.load = newLoad(url(ports[0], "/v1/events"), "127.0.0.1:"+ports[1])
	t.Logf("pipeline up (%s files, hot reload %v, outputs without Workers %v): logs in %s", opt.format, opt.hotReload, opt.noWorkers, dir)
	return p
}

// engineAndRoot returns the real Fluent Bit binary and the module root,
// skipping the test when there is no binary.
func engineAndRoot(t testing.TB) (bin, root string) {
	t.Helper()
	bin, ok, reason := testenv.FluentBitPath()
	if !ok {
		t.Skipf("needs the real Fluent Bit 5.1: %s (set FLUENT_BIT, or provide ../shared/bin/fluent-bit beside the repository)", reason)
	}
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return bin, root
}

// withoutWorkers writes a copy of a shipped pipeline file into dir with the
// outputs' Workers lines left out, and returns its path.
func withoutWorkers(t testing.TB, conf, dir string) string {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?mi)^\s*workers\s*:?\s+\d+\s*\n`)
	if !re.Match(b) {
		t.Fatalf("%s sets no Workers", conf)
	}
	out := filepath.Join(dir, "no-workers-"+filepath.Base(conf))
	if err := os.WriteFile(out, re.ReplaceAll(b, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// queueState returns the emulator's counts of visible and in-flight
// messages (read directly, not through the proxy).
func (p *pipeline) queueState() (visible, inflight int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := p.sqs.Client().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &p.queueURL,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		return 0, 0, fmt.Errorf("GetQueueAttributes: %w", err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight, nil
}

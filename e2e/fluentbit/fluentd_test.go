package fluentbit

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

// TestFluentdEdgeFeedsTheProcessor: messages exactly as fluentd's sqs output
// (fluent-plugin-sqs) writes them (Yajl.dump of the record, the tag added as
// "__tag", the injected time as "time", no message attribute) go through
// the shipped processor in the real engine into PostgreSQL rows. Every
// message is delivered twice (its first delete is refused, so SQS delivers
// it again), and each event is still one row.
func TestFluentdEdgeFeedsTheProcessor(t *testing.T) {
	faults := (*deleteFaults)(nil)
	pt := startProcessorTier(t, func(sqsURL string) string {
		faults = startDeleteFaults(t, sqsURL)
		return faults.URL
	}, func(conf []byte) []byte {
		// a short visibility timeout, so that a message whose delete
		// failed is delivered again within seconds
		vis := regexp.MustCompile(`(?m)^(\s*visibility_timeout\s+)60s$`)
		if !vis.Match(conf) {
			t.Fatal("conf/processor.conf sets no visibility_timeout 60s")
		}
		return vis.ReplaceAll(conf, []byte("${1}3s"))
	})
	db, q, queueURL, proc := pt.db, pt.sqs, pt.queueURL, pt.proc
	metricsURL := func(port string) string { return "http://127.0.0.1:" + port + "/metrics" }
	ports := pt.metricsPorts

	run := randomHex(8)
	const uuid = "0190d6b4-7c2a-7c3e-8f00-0000000f1d01"
	type message struct {
		name, body string
	}
	messages := []message{
		{"tag and time", `{"seq":1,"run":"` + run + `","player_id":"p1","platform":"ios","__tag":"whirlpool.pixel_quest.session_start.1.2","time":"2026-11-30T23:45:27+00:00"}`},
		{"fields give the key, no time", `{"game":"pixel_quest","version":"1.2","event":"session_start","seq":2,"run":"` + run + `","player_id":"p2","__tag":"app.events"}`},
		{"envelope at the top level", `{"uuid":"` + uuid + `","fired_ts":"2026-11-30T23:45:28.500Z","game":"pixel_quest","version":"1.3","event":"session_start","seq":3,"run":"` + run + `","player_id":"p3","__tag":"app.events","time":"2026-11-30T23:45:29+00:00"}`},
		{"tag not matching tag_regex", `{"seq":4,"run":"` + run + `","player_id":"p4","__tag":"nginx.access","time":"2026-11-30T23:45:30+00:00"}`},
	}
	faults.failDeletes.Store(true)
	proc.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range messages {
		if _, err := q.Client().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(m.body)}); err != nil {
			t.Fatalf("SendMessage %s: %v", m.name, err)
		}
	}

	// Every message is received twice: its first delete is refused.
	waitFor(t, 60*time.Second, "each message received twice", func() error {
		got := metricValue(metricsURL(ports[0]), "whirlpool_sqs_in_messages_received_total")
		if got < float64(2*len(messages)) || faults.refused.Load() == 0 {
			return fmt.Errorf("received %v, deletes refused %d", got, faults.refused.Load())
		}
		return nil
	})
	faults.failDeletes.Store(false)
	waitFor(t, 60*time.Second, "both deliveries loaded and the queue empty", func() error {
		if got := metricValue(metricsURL(ports[1]), "whirlpool_redshift_batch_rows_total"); got < float64(2*len(messages)) {
			return fmt.Errorf("redshift batch rows %v", got)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM failures.events WHERE raw_event::text LIKE '%' || $1 || '%'`, run).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no failure row yet")
		}
		out, err := q.Client().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
			AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
		if err != nil {
			return err
		}
		if out.Attributes["ApproximateNumberOfMessages"] != "0" || out.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
			return fmt.Errorf("queue %v", out.Attributes)
		}
		return nil
	})

	// One row per event, with the envelope the issue asks for.
	rows, err := db.Query(`SELECT seq, uuid, to_char(fired_ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS'), game, version, event, player_id
		FROM pixel_quest.session_start WHERE run = $1 ORDER BY seq, uuid`, run)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	uuids := map[int]string{}
	for rows.Next() {
		var seq int
		var u, fired, game, version, event, player string
		if err := rows.Scan(&seq, &u, &fired, &game, &version, &event, &player); err != nil {
			t.Fatal(err)
		}
		uuids[seq] = strings.TrimSpace(u)
		got = append(got, fmt.Sprintf("%d %s/%s/%s %s", seq, game, version, event, player))
		switch seq {
		case 1:
			if fired != "2026-11-30T23:45:27.000" {
				t.Errorf("seq 1: fired_ts %s, want the record's time 2026-11-30T23:45:27.000", fired)
			}
		case 3:
			if fired != "2026-11-30T23:45:28.500" || uuids[3] != uuid {
				t.Errorf("seq 3: fired_ts %s uuid %s, want the top-level envelope's 2026-11-30T23:45:28.500 and %s", fired, uuids[3], uuid)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 pixel_quest/1.2/session_start p1", "2 pixel_quest/1.2/session_start p2", "3 pixel_quest/1.3/session_start p3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows of run %s (each event once, though delivered twice):\n%s\nwant:\n%s", run, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, seq := range []int{1, 2} {
		if len(uuids[seq]) != 36 {
			t.Errorf("seq %d: uuid %q, want one derived from the message id", seq, uuids[seq])
		}
	}

	// The record whose tag does not match: one failure row, a clear code.
	var n int
	var codes, errs string
	if err := db.QueryRow(`SELECT count(*), min(error_codes), min(errors::text) FROM failures.events WHERE raw_event::text LIKE '%' || $1 || '%'`, run).Scan(&n, &codes, &errs); err != nil {
		t.Fatal(err)
	}
	if n != 1 || codes != "ENDPOINT_INVALID" || !strings.Contains(errs, `does not match tag_regex`) || !strings.Contains(errs, "nginx.access") {
		t.Errorf("failure rows of run %s: %d, codes %q, errors %s; want one ENDPOINT_INVALID naming the tag", run, n, codes, errs)
	}
	if c := proc.Crashes(); len(c) > 0 {
		t.Errorf("processor crashed: %v", c)
	}
}

// deleteFaults is an HTTP proxy in front of the SQS emulator that refuses
// DeleteMessageBatch while failDeletes is set, as an SQS that lost the
// delete would: the message stays and is delivered again after its
// visibility timeout.
type deleteFaults struct {
	*httptest.Server
	failDeletes atomic.Bool
	refused     atomic.Int64
}

func startDeleteFaults(t *testing.T, target string) *deleteFaults {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &deleteFaults{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // long polls cut at shutdown
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.failDeletes.Load() && r.Header.Get("X-Amz-Target") == "AmazonSQS.DeleteMessageBatch" {
			f.refused.Add(1)
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"injected: delete refused"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// waitFor polls cond until it reports nil, failing the test after timeout
// with cond's last answer.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %v", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// processorTier is the shipped processor alone in the real engine, on a
// per-test database (model applied) and SQS emulator.
type processorTier struct {
	db           *sql.DB
	dsn          string
	sqs          *testenv.SQSServer
	queueURL     string // direct to the emulator
	proc         *fluentBit
	metricsPorts []string // the sqs input's and the redshift output's
	dir          string
}

// startProcessorTier prepares the shipped conf/processor.conf, edited by
// edit when it is not nil, against the emulator (reached through the URL
// front returns for the emulator's, when front is not nil). The caller
// starts proc.
func startProcessorTier(t testing.TB, front func(sqsURL string) string, edit func([]byte) []byte) *processorTier {
	t.Helper()
	bin, root := engineAndRoot(t)
	pt := &processorTier{dsn: testenv.Postgres(t), dir: testenv.ShortDir(t)} // its forward socket lives under dir
	var err error
	if pt.db, err = sql.Open("postgres", pt.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pt.db.Close() })
	testmodel.ApplyFile(t, pt.dsn, filepath.Join(root, "conf", "model.yaml"))
	pt.sqs = testenv.SQS(t, queueName)
	pt.queueURL = pt.sqs.QueueURL(queueName)
	endpoint := "http://127.0.0.1:" + strconv.Itoa(pt.sqs.Port)
	if front != nil {
		endpoint = front(endpoint)
	}
	conf, err := os.ReadFile(filepath.Join(root, "conf", "processor.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		conf = edit(conf)
	}
	confPath := filepath.Join(pt.dir, "processor.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	ports := testenv.FreePorts(t, 6)
	pt.metricsPorts = ports[4:6] // the processor's: sqs input, redshift output
	vars := testenv.Pipeline{Storage: pt.dir, Endpoint: endpoint, QueueURL: endpoint + "/" + testenv.SQSAccountID + "/" + queueName,
		DSN: pt.dsn, Ports: ports}.Vars()
	so := testenv.PluginObjects(t, root)
	pt.proc = newFluentBit(t, "processor", bin, []string{"-e", so["in_sqs"], "-e", so["out_redshift"], "-c", confPath}, testenv.TierEnv(vars),
		filepath.Join(pt.dir, "processor.log"), func() error {
			return testenv.Healthy("http://127.0.0.1:"+pt.metricsPorts[0]+"/healthz", "http://127.0.0.1:"+pt.metricsPorts[1]+"/healthz")
		})
	return pt
}

package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

// The whole pipeline, as two Fluent Bit processes would run it:
//
//	edge:      HTTP → eventing input ─engine→ sqs output ──→ local-aws-sqs
//	processor: local-aws-sqs → sqs input (validate) ─engine→ redshift output → PostgreSQL
//
// Each process's engine is an engine (engine_test.go); the processor's can
// be stopped and restarted with new plugin instances.

const queueName = "events"

type stackOptions struct {
	compression    string // sqs output: none or gzip
	reloadInterval string // model_reload_interval of the processor's plugins
	visibility     string // sqs input visibility_timeout
}

type stack struct {
	t     testing.TB
	opt   stackOptions
	sqs   *testenv.SQSServer
	queue string
	dsn   string
	db    *sql.DB

	eventing, sqsOut, sqsIn, redshift *flbhost.Plugin
	edge, proc                        *engine
	base                              string // eventing's URL
	procStarts                        int
}

// newStack starts the SQS emulator, prepares the database dsn (the model
// store gets filters/validate/testdata/model.yaml) and loads the plugins.
// Nothing runs until startEdge and startProcessor.
func newStack(t testing.TB, dsn string, opt stackOptions) *stack {
	t.Helper()
	if opt.compression == "" {
		opt.compression = "none"
	}
	if opt.reloadInterval == "" {
		opt.reloadInterval = "2s"
	}
	if opt.visibility == "" {
		opt.visibility = "20s"
	}
	s := &stack{t: t, opt: opt, dsn: dsn}
	s.sqs = testenv.SQS(t, queueName)
	s.queue = s.sqs.QueueURL(queueName)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	testmodel.Apply(t, dsn, testmodel.Sample(t))

	s.eventing = testenv.LoadPlugin(t, "plugins/in_eventing")
	s.sqsOut = testenv.LoadPlugin(t, "plugins/out_sqs")
	s.sqsIn = testenv.LoadPlugin(t, "plugins/in_sqs")
	s.redshift = testenv.LoadPlugin(t, "plugins/out_redshift")
	s.edge = newEngine(t, "edge")
	s.proc = newEngine(t, "processor")
	return s
}

func (s *stack) startEdge() {
	s.t.Helper()
	// threaded off, as conf/edge.conf: a 200 then means the events are in a
	// chunk, which the restarts here must not lose.
	in, err := s.eventing.NewInput(flbhost.Config{"http_listen": "127.0.0.1", "http_port": "0", "tag": "events", "threaded": "off"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.base = eventingURL(s.t)
	out, err := s.sqsOut.NewOutput(flbhost.Config{"match": "events", "queue_url": s.queue, "endpoint": s.sqs.Endpoint,
		"format": "ndjson", "compression": s.opt.compression, "workers": "2"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.edge.attach(in, out)
}

// startProcessor starts new sqs input and redshift output instances.
func (s *stack) startProcessor() {
	s.t.Helper()
	s.procStarts++
	// threaded off, as conf/processor.conf: a message is deleted only once
	// its records are in a chunk.
	in, err := s.sqsIn.NewInput(flbhost.Config{"tag": "valid", "threaded": "off", "queue_url": s.queue, "endpoint": s.sqs.Endpoint,
		"wait_time_seconds": "1", "visibility_timeout": s.opt.visibility,
		"validate": "on", "model_dsn": s.dsn, "model_reload_interval": s.opt.reloadInterval})
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := s.redshift.NewOutput(flbhost.Config{"match": "valid", "dsn": s.dsn, "dialect": "postgres", "load_method": "pg_copy",
		"auto_create": "on", "dedupe": "on", "workers": "2",
		"model_dsn": s.dsn, "model_reload_interval": s.opt.reloadInterval})
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc.attach(in, out)
}

// stopProcessor stops the processor's instances as a Fluent Bit shutdown
// does; chunks not yet delivered stay in its filesystem buffer.
func (s *stack) stopProcessor() { s.proc.detach() }

// finish lets everything sent so far reach the database, then stops both
// processes: the edge once its buffer is delivered, the processor once the
// queue is empty (nothing visible, nothing in flight) and its buffer is
// delivered, twice in a row a collect interval apart.
func (s *stack) finish(timeout time.Duration) {
	s.t.Helper()
	s.edge.waitIdle(timeout)
	s.edge.detach()
	deadline := time.Now().Add(timeout)
	quiet := 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			s.t.Fatalf("processor did not drain the queue within %s: queue %s; %s", timeout, s.queueState(), s.proc.summary())
		}
		time.Sleep(700 * time.Millisecond)
		if s.queueEmpty() && s.proc.idle() {
			quiet++
		} else {
			quiet = 0
		}
	}
	s.proc.detach()
	if n := s.proc.pending(); n != 0 {
		s.t.Fatalf("processor stopped with %d chunks undelivered", n)
	}
	if !s.queueEmpty() {
		s.t.Fatalf("queue not empty after the processor stopped: %s", s.queueState())
	}
}

func (s *stack) queueAttrs() (visible, inflight int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.sqs.Client().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &s.queue,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight, nil
}

// queueEmpty: no message at all (the emulator counts in-flight messages in
// ApproximateNumberOfMessages too; both must be 0).
func (s *stack) queueEmpty() bool {
	v, f, err := s.queueAttrs()
	return err == nil && v == 0 && f == 0
}

func (s *stack) queueState() string {
	v, f, err := s.queueAttrs()
	return fmt.Sprintf("messages %d, not visible %d (err %v)", v, f, err)
}

// --- the workload ---

// request is one HTTP POST: a JSON array of events to one endpoint.
type request struct {
	path   string // {game}/{version}/{event}
	events []string
}

// expected is what the database must hold after a workload, exactly.
type expected struct {
	levelUp   map[string]bool // player_id of every good level_up (v1 and v2) → events.level_up
	levelUpV2 map[string]bool // player_id of every good v2 level_up → events.level_up_v2
	purchase  map[string]int  // order_id → number of items → events.purchase_item, one row per item
	failures  map[int]string  // seq of every bad event → its one error code
	events    int             // events sent
}

func newExpected() *expected {
	return &expected{levelUp: map[string]bool{}, levelUpV2: map[string]bool{}, purchase: map[string]int{}, failures: map[int]string{}}
}

// Bad events: valid JSON that fails validation in exactly one known way.
var badKinds = []struct {
	code string
	path string
	body func(seq int) string
}{
	{"MANDATORY_FIELD_MISSING", "galaxy/1.2.0/level_up", func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"player":{"id":"bad-%d"},"score":1}`, seq, seq)
	}},
	{"FIELD_TYPE_MISMATCH", "galaxy/1.2.0/level_up", func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"player":{"id":"bad-%d"},"level":"7"}`, seq, seq)
	}},
	{"UNKNOWN_EVENT", "galaxy/1.2.0/mystery_box", func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"opened":true}`, seq)
	}},
	{"VERSION_UNMAPPED", "galaxy/0.9/level_up", func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"player":{"id":"bad-%d"},"level":3}`, seq, seq)
	}},
	{"DEFINITION_INVALID", "galaxy/1.2.0/tutorial_step", func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"step":2}`, seq)
	}},
}

// workload builds n events with seqs from first: one in twenty is bad
// (cycling through badKinds); of the good ones, about 60% level_up v1
// (game version 1.2.0), 20% level_up v2 (1.6.1: two destination tables,
// additional fields rejected) and 20% purchase (an expand event of 1-3
// items). Events are grouped per endpoint into requests of perRequest and
// the requests shuffled.
func workload(first, n, perRequest int, exp *expected) []request {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	paid := time.Now().UnixMilli()
	byPath := map[string][]string{}
	var paths []string
	add := func(path, body string) {
		if _, ok := byPath[path]; !ok {
			paths = append(paths, path)
		}
		byPath[path] = append(byPath[path], body)
	}
	for seq := first; seq < first+n; seq++ {
		exp.events++
		if seq%20 == 7 {
			k := badKinds[(seq/20)%len(badKinds)]
			add(k.path, k.body(seq))
			exp.failures[seq] = k.code
			continue
		}
		switch r := seq % 10; {
		case r < 6:
			add("galaxy/1.2.0/level_up", fmt.Sprintf(`{"seq":%d,"player":{"id":"p-%d"},"level":%d,"score":%d,"xp":12.5,"won":true,"ts":%q,"device":{"os":"android","ram":4},"tags":["a","b"]}`,
				seq, seq, 1+seq%1000, seq, ts))
			exp.levelUp[fmt.Sprintf("p-%d", seq)] = true
		case r < 8:
			add("galaxy/1.6.1/level_up", fmt.Sprintf(`{"player":{"id":"p-%d","name":"Zoë \"z\""},"level":%d,"mode":"ranked","ts":%q}`,
				seq, 1+seq%1000, ts))
			exp.levelUp[fmt.Sprintf("p-%d", seq)] = true
			exp.levelUpV2[fmt.Sprintf("p-%d", seq)] = true
		default:
			items := 1 + seq%3
			var parts []string
			for j := 0; j < items; j++ {
				parts = append(parts, fmt.Sprintf(`{"sku":"s%d.%d","qty":%d,"price":{"amount":%d.25}}`, seq, j, j+1, j))
			}
			add("galaxy/1.2.0/purchase", fmt.Sprintf(`{"seq":%d,"order":"o-%d","items":[%s],"paid_at":%d}`, seq, seq, strings.Join(parts, ","), paid))
			exp.purchase[fmt.Sprintf("o-%d", seq)] = items
		}
	}
	var reqs []request
	for _, p := range paths {
		evs := byPath[p]
		for len(evs) > 0 {
			k := min(perRequest, len(evs))
			reqs = append(reqs, request{path: p, events: evs[:k]})
			evs = evs[k:]
		}
	}
	rng := rand.New(rand.NewSource(int64(first) + 1))
	rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	return reqs
}

// sendStats counts what the clients did.
type sendStats struct {
	requests, events, overloaded atomic.Int64
}

// send POSTs reqs from clients concurrent clients, spread evenly over
// spread (0: as fast as they go). Every request must be answered 200 with
// all its events accepted (a 503 is retried, as the README allows); a
// failure is reported with t.Errorf and stops the sending, so send may run
// in its own goroutine (check t.Failed after it).
func (s *stack) send(reqs []request, clients int, spread time.Duration) *sendStats {
	st := &sendStats{}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	work := make(chan request)
	go func() {
		defer close(work)
		var tick <-chan time.Time
		if every := spread / time.Duration(max(1, len(reqs))); every > 0 {
			tk := time.NewTicker(every)
			defer tk.Stop()
			tick = tk.C
		}
		for _, r := range reqs {
			if tick != nil {
				<-tick
			}
			work <- r
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Bool
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if failed.Load() {
					continue
				}
				if err := s.post(client, r, st); err != nil {
					failed.Store(true)
					s.t.Errorf("POST %s (%d events): %v", r.path, len(r.events), err)
				}
			}
		}()
	}
	wg.Wait()
	return st
}

func (s *stack) post(client *http.Client, r request, st *sendStats) error {
	body := "[" + strings.Join(r.events, ",") + "]"
	for attempt := 0; ; attempt++ {
		resp, err := client.Post(s.base+"/v1/events/"+r.path, "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 20 {
			st.overloaded.Add(1)
			time.Sleep(500 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		var ans struct {
			Accepted int               `json:"accepted"`
			Rejected []json.RawMessage `json:"rejected"`
		}
		if err := json.Unmarshal(b, &ans); err != nil || ans.Accepted != len(r.events) || len(ans.Rejected) != 0 {
			return fmt.Errorf("answer %s (%v), want all %d accepted", b, err, len(r.events))
		}
		st.requests.Add(1)
		st.events.Add(int64(len(r.events)))
		return nil
	}
}

// --- database checks ---

// userTables lists schema.table of every table outside the system schemas
// and the model store.
func userTables(t testing.TB, db *sql.DB) []string {
	var out []string
	for _, r := range testenv.QueryRows(t, db, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'whirlpool_model') ORDER BY 1`) {
		out = append(out, r[0])
	}
	return out
}

// checkOnce checks that the values of col in table are exactly the keys of
// want, each once: count(*) and count(DISTINCT col) are both len(want).
func checkOnce(t testing.TB, db *sql.DB, table, col string, want map[string]bool) {
	t.Helper()
	c := testenv.QueryRows(t, db, fmt.Sprintf(`SELECT count(*), count(DISTINCT %s) FROM %s`, col, table))[0]
	if c[0] != strconv.Itoa(len(want)) || c[1] != strconv.Itoa(len(want)) {
		t.Errorf("%s: count(*) = %s, count(DISTINCT %s) = %s; want %d and %d", table, c[0], col, c[1], len(want), len(want))
	}
	got := map[string]int{}
	for _, r := range testenv.QueryRows(t, db, fmt.Sprintf(`SELECT %s FROM %s`, col, table)) {
		got[r[0]]++
	}
	var missing, extra, dup []string
	for k := range want {
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k, n := range got {
		if !want[k] {
			extra = append(extra, k)
		} else if n > 1 {
			dup = append(dup, k)
		}
	}
	if len(missing)+len(extra)+len(dup) > 0 {
		t.Errorf("%s: %d missing %s, %d unexpected %s, %d duplicated %s", table,
			len(missing), sample(missing), len(extra), sample(extra), len(dup), sample(dup))
	}
}

func sample(s []string) string {
	sort.Strings(s)
	if len(s) > 5 {
		s = append(s[:5:5], "...")
	}
	return fmt.Sprint(s)
}

// checkWorkload asserts that the database holds exactly exp: every good
// event once in every destination table of its definition, every expanded
// element once, every bad event as exactly one failure row with its code,
// and no other table or row.
func checkWorkload(t testing.TB, db *sql.DB, exp *expected) {
	t.Helper()
	tables := userTables(t, db)
	want := []string{"events.level_up", "events.level_up_v2", "events.purchase_item", "failures.events"}
	if fmt.Sprint(tables) != fmt.Sprint(want) {
		t.Fatalf("tables %v, want exactly %v", tables, want)
	}
	checkOnce(t, db, "events.level_up", "player_id", exp.levelUp)
	checkOnce(t, db, "events.level_up_v2", "player_id", exp.levelUpV2)

	// v1 rows carry v1 and v2 rows v2; the v2 table holds only v2.
	for _, r := range testenv.QueryRows(t, db, `SELECT definition_version, version, count(*) FROM events.level_up GROUP BY 1, 2 ORDER BY 1`) {
		if !(r[0] == "v1" && r[1] == "1.2.0") && !(r[0] == "v2" && r[1] == "1.6.1") {
			t.Errorf("events.level_up: %s rows of definition %s for game version %s", r[2], r[0], r[1])
		}
	}
	if r := testenv.QueryRows(t, db, `SELECT count(*) FROM events.level_up_v2 WHERE definition_version <> 'v2'`)[0][0]; r != "0" {
		t.Errorf("events.level_up_v2: %s rows not of definition v2", r)
	}
	// a v1 row's typed columns are what was sent
	if r := testenv.QueryRows(t, db, `SELECT count(*) FROM events.level_up WHERE definition_version = 'v1'
		AND NOT (score::text = substr(player_id, 3) AND xp = 12.5 AND won AND tags = '["a","b"]' AND device = '{"os":"android","ram":4}')`)[0][0]; r != "0" {
		t.Errorf("events.level_up: %s v1 rows whose columns differ from what was sent", r)
	}

	// purchase: one row per item, expand_index 0..n-1, sharing the event's uuid
	wantItems := 0
	for _, n := range exp.purchase {
		wantItems += n
	}
	got := map[string][]int{}
	uuids := map[string]map[string]bool{}
	rows := testenv.QueryRows(t, db, `SELECT order_id, expand_index, sku, quantity, uuid FROM events.purchase_item`)
	if len(rows) != wantItems {
		t.Errorf("events.purchase_item: %d rows, want %d (one per item of %d events)", len(rows), wantItems, len(exp.purchase))
	}
	bad := 0
	for _, r := range rows {
		idx, _ := strconv.Atoi(r[1])
		got[r[0]] = append(got[r[0]], idx)
		if r[2] != "s"+strings.TrimPrefix(r[0], "o-")+"."+r[1] || r[3] != strconv.Itoa(idx+1) {
			bad++
		}
		if uuids[r[0]] == nil {
			uuids[r[0]] = map[string]bool{}
		}
		uuids[r[0]][r[4]] = true
	}
	if bad > 0 {
		t.Errorf("events.purchase_item: %d rows whose sku or quantity is not their element's", bad)
	}
	var wrong []string
	for order, n := range exp.purchase {
		idx := got[order]
		sort.Ints(idx)
		ok := len(idx) == n && len(uuids[order]) == 1
		for i := range idx {
			ok = ok && idx[i] == i
		}
		if !ok {
			wrong = append(wrong, fmt.Sprintf("%s:%v", order, idx))
		}
		delete(got, order)
	}
	for order := range got {
		wrong = append(wrong, "unexpected "+order)
	}
	if len(wrong) > 0 {
		t.Errorf("events.purchase_item: %d orders without exactly one row per element (one uuid): %s", len(wrong), sample(wrong))
	}

	checkFailures(t, db, exp.failures)
}

// checkFailures asserts the failures table holds exactly one row per bad
// event (seq from raw_event), with exactly its code.
func checkFailures(t testing.TB, db *sql.DB, want map[int]string) {
	t.Helper()
	rows := testenv.QueryRows(t, db, `SELECT raw_event, error_codes, errors, uuid, expand_index FROM failures.events`)
	if len(rows) != len(want) {
		t.Errorf("failures.events: %d rows, want %d", len(rows), len(want))
	}
	seen := map[int]int{}
	var wrong []string
	perCode := map[string]int{}
	for _, r := range rows {
		var ev struct{ Seq *int }
		if err := json.Unmarshal([]byte(r[0]), &ev); err != nil || ev.Seq == nil {
			wrong = append(wrong, "raw_event "+r[0])
			continue
		}
		seq := *ev.Seq
		seen[seq]++
		var errs []struct{ Code string }
		_ = json.Unmarshal([]byte(r[2]), &errs)
		code, ok := want[seq]
		if !ok || r[1] != code || len(errs) != 1 || errs[0].Code != code || r[4] != "-1" || len(r[3]) != 36 {
			wrong = append(wrong, fmt.Sprintf("seq %d: codes %q errors %s (want %q)", seq, r[1], r[2], code))
		}
		perCode[r[1]]++
	}
	for seq := range want {
		if seen[seq] != 1 {
			wrong = append(wrong, fmt.Sprintf("seq %d: %d failure rows", seq, seen[seq]))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("failures.events: %d problems: %s", len(wrong), sample(wrong))
	}
	t.Logf("failure rows per code: %v", perCode)
}

// latency returns the receipt-to-row latency (loaded_at - fired_ts) over
// every row of the tables, in seconds.
func latency(t testing.TB, db *sql.DB, tables ...string) (p50, p99, max float64, rows int) {
	var parts []string
	for _, tb := range tables {
		parts = append(parts, "SELECT loaded_at, fired_ts FROM "+tb)
	}
	err := db.QueryRow(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d), count(*)
		FROM (SELECT extract(epoch FROM loaded_at - fired_ts) AS d FROM (`+strings.Join(parts, " UNION ALL ")+`) u) x`).Scan(&p50, &p99, &max, &rows)
	if err != nil {
		t.Fatal(err)
	}
	return p50, p99, max, rows
}

// logLatency prints the receipt-to-row latency over every row of the tables.
func logLatency(t testing.TB, db *sql.DB, tables ...string) {
	p50, p99, max, rows := latency(t, db, tables...)
	t.Logf("receipt-to-row latency (loaded_at - fired_ts) over %d rows: p50 %.3fs, p99 %.3fs, max %.3fs", rows, p50, p99, max)
}

// countRows returns count(*) of table, or -1 when it does not exist yet.
func countRows(db *sql.DB, table string) int {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		return -1
	}
	return n
}

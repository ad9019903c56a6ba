package fluentbit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/klauspost/compress/s2"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/inputs/eventing"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

// Bounds the hostile suite holds the pipeline to.
const (
	// peakRSSLimit is issue 6/8's memory target per tier.
	peakRSSLimit = 300 << 20
	// failureRawLimit bounds a failure row's raw_event: a message over a
	// decode bound keeps 64 KiB of evidence (plus JSON escaping), never its
	// decoded size.
	failureRawLimit = 200 << 10
	// forgedLine is the start of a log line that a client tries to inject;
	// escaped, it can only appear in the middle of a line.
	forgedLine = "[2026/11/30 00:00:00] [error] FORGED"
)

// hostile is one thing an attacker sends, and what the pipeline must make
// of it: a row of the model (table) or a failure row with one of codes.
type hostile struct {
	name  string
	seq   int64
	table string   // a data row in this table, validated from the body alone
	codes []string // else: one failure row with one of these codes
}

// TestHostileInput is the hostile-input suite: the shipped pipelines in the
// real engine, the processor's database login a loader role with no rights
// on the model store (the README's grants), everything logged (debug), and
// an attacker who can write to the queue, speak Forward to the edge and
// speak HTTP to it. Each forged or oversized input becomes a failure row or
// a 4xx; nothing outside the model is created or written; no log line is
// forged or carries a control byte or a password; both tiers stay within
// their memory target. Legitimate events sent in between still land.
func TestHostileInput(t *testing.T) {
	const dbPassword, modelPassword = "Db-S3cret-4-hostile", "M0del-S3cret-4-hostile"
	var storeBefore string
	p := newPipeline(t, options{format: "conf", setup: func(t testing.TB, db *sql.DB, dsn string) map[string]string {
		storeBefore = testenv.ModelStoreDigest(t, db)
		loader, reader := testenv.LoaderRoles(t, db)
		return map[string]string{
			"WHIRLPOOL_LOG_LEVEL":   "debug",
			"WHIRLPOOL_DSN":         dsn + " user=" + loader,
			"WHIRLPOOL_DB_PASSWORD": dbPassword, // the test server trusts local logins: any password works
			"WHIRLPOOL_MODEL_DSN":   dsn + " user=" + reader + " password=" + modelPassword,
		}
	}})
	run := "hostile-" + randomHex(4)
	rng := mrand.New(mrand.NewChaCha8([32]byte([]byte(randomHex(16)))))
	var cases []hostile
	expectRow := func(name string, seq int64, table string) {
		cases = append(cases, hostile{name: name, seq: seq, table: table})
	}
	expectFailure := func(name string, seq int64, codes ...string) {
		cases = append(cases, hostile{name: name, seq: seq, codes: codes})
	}
	body := func(seq int64, extra string) string {
		return fmt.Sprintf(`{"seq":%d,"run":%q,"player_id":"p-%d","platform":"pc"%s}`, seq, run, seq, extra)
	}
	// contract is a message record in the record contract, as the sqs
	// output writes it (body an object), with extra keys.
	contract := func(seq int64, game, extraKeys, body string) string {
		g, _ := json.Marshal(game)
		return fmt.Sprintf(`{"uuid":"%s","fired_ts":"2026-11-30T12:00:00.000Z","game":%s,"version":"1.0","event":"session_start",%s"body":%s}`,
			uuid4(rng), g, extraKeys, body)
	}

	// Through the queue: whoever can write to it.
	p.sendSQS(t, "event", contract(1001, "pixel_quest", `"destinations":["public.pwned"],"columns":{"evil":"yes"},`, body(1001, "")))
	expectRow("sqs: destinations and columns of its choosing", 1001, "pixel_quest.session_start")
	p.sendSQS(t, "event", contract(1002, "pixel_quest",
		`"destinations":["whirlpool_model.games","whirlpool_model.definitions"],"columns":{"name":"pwned"},"definition_version":"v9","expand_index":7,`, body(1002, "")))
	expectRow("sqs: a write into the model store, its own definition version and expand index", 1002, "pixel_quest.session_start")
	p.sendSQS(t, "ndjson", contract(1003, "pixel_quest", `"destinations":["pg_catalog.pg_class"],"columns":{"relname":"x"},`, body(1003, ""))+"\n"+
		contract(1004, "pixel_quest", "", body(1004, "")))
	expectRow("sqs: a destination whose DDL fails", 1003, "pixel_quest.session_start")
	expectRow("sqs: a legitimate event beside it", 1004, "pixel_quest.session_start")
	p.sendSQS(t, "event", contract(1005, "pixel_quest", `"errors":[{"code":"UNKNOWN_GAME"}],"raw_event":"x",`, body(1005, "")))
	expectRow("sqs: a forged failure record", 1005, "pixel_quest.session_start")
	p.sendSQS(t, "event", fmt.Sprintf(`{"destinations":["public.pwned"],"columns":{"evil":"yes"},"seq":1006,"run":%q}`, run))
	expectFailure("sqs: a record outside the contract", 1006, "ENDPOINT_INVALID")
	p.sendSQS(t, "event", contract(1007, "pixel_quest", "", fmt.Sprintf(`{"seq":1007,"run":%q,"player_id":"%s"}`, run, strings.Repeat("p", 200))))
	expectFailure("sqs: a value longer than the model allows", 1007, "FIELD_TOO_LONG")
	p.sendSQS(t, "event", contract(1008, "pixel\u001b[31m_quest\n"+forgedLine+"-SQS", "", body(1008, "")))
	expectFailure("sqs: control bytes and a forged log line in the game", 1008, "ENDPOINT_INVALID", "UNKNOWN_GAME")
	p.sendSQS(t, "ndjson.gz.b64", gzipBase64(t, bytes.Repeat([]byte("{}\n"), 1<<20/3)))
	p.sendSQS(t, "ndjson.gz.b64", gzipBase64(t, append(append([]byte(`{"a":"`), bytes.Repeat([]byte("a"), 64<<20)...), `"}`...)))
	p.sendSQS(t, "ndjson", strings.Repeat("{}\n", 200<<10/3))
	// An S2 block whose header declares 64 MB: refused before decoding.
	p.sendSQS(t, "ndjson.s2.b64", base64.StdEncoding.EncodeToString(s2.Encode(nil, bytes.Repeat([]byte(" "), 64<<20))))
	const amplified = 4 // the four messages above: one UNDECODABLE_MESSAGE row each

	// Through Forward: any client of the edge's forward input.
	fw := dialForward(t, p.load.forwardAddr)
	forgedUUIDs := []string{uuid4(rng), uuid4(rng)}
	bodyText, _ := json.Marshal(body(1011, ""))
	fw.send(t, "events", fmt.Sprintf(`{"uuid":"%s","fired_ts":"2026-11-30T12:00:00.000Z","game":"pixel_quest","version":"1.0","event":"session_start","body":%s,"seq":1011,"run":"%s","destinations":["public.pwned"]}`,
		forgedUUIDs[0], bodyText, run))
	// tag_prefix makes the tag forward.events, which contract_match does not
	// trust: the record is wrapped whole as the body of the key its fields
	// name, so the envelope is the edge's and the body lacks player_id.
	expectFailure("forward: the eventing input's tag, a whole forged envelope", 1011, "MANDATORY_FIELD_MISSING")
	fw.send(t, "whirlpool.pixel_quest.session_start.1.0", fmt.Sprintf(
		`{"uuid":"%s","fired_ts":"1999-01-01T00:00:00Z","destinations":["public.pwned"],"columns":{"evil":"yes"},"errors":[],"seq":1012,"run":"%s","player_id":"p-1012"}`,
		forgedUUIDs[1], run))
	expectRow("forward: its own uuid, fired_ts, destinations and columns", 1012, "pixel_quest.session_start")
	fw.send(t, "whirlpool.pixel\x1b[31m.session_start.1.0\n"+forgedLine+"-FW", body(1013, ""))
	expectFailure("forward: control bytes and a forged log line in the tag", 1013, "ENDPOINT_INVALID")

	// Through HTTP.
	events := p.load.httpURL
	if status := postHTTP(t, events+"/pixel_quest/1.0/session_start", body(1021, "")); status != http.StatusOK {
		t.Errorf("a legitimate HTTP event: %d, want 200", status)
	}
	expectRow("http: a legitimate event", 1021, "pixel_quest.session_start")
	if status := postHTTP(t, events+"/pixel_quest/1.0/session_start", "{\n  \"seq\": 1023,\n  \"run\": \""+run+"\",\n  \"player_id\": \"p\"\n}\n"); status != http.StatusOK {
		t.Errorf("a pretty-printed HTTP event: %d, want 200", status)
	}
	expectRow("http: a pretty-printed legitimate event (sent on as a string body)", 1023, "pixel_quest.session_start")
	if status := postHTTP(t, events+"/pixel_quest/1.0/session_start", `{"pad":"`+strings.Repeat("x", 6<<20)+`"}`); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 6 MiB body: %d, want 413", status)
	}
	forgedPath := events + "/pixel" + url.PathEscape("\x1b[31m") + "/1.0/session_start" + url.PathEscape("\n"+forgedLine+"-HTTP")
	if status := postHTTP(t, forgedPath, body(1022, "")); status < 400 || status >= 500 {
		t.Errorf("control bytes in the path: %d, want a 4xx", status)
	}
	// Slow bodies: 200 connections each declaring 4 MB (under max_body_bytes)
	// and sending one byte hold no 4 MB buffer each, and each gets 408 once
	// min_send_rate_grace has passed.
	slow := slowBodies(t, events+"/pixel_quest/1.0/session_start", 200, 4_000_000)

	missing := p.waitHostile(t, run, cases, amplified, 3*time.Minute)
	for _, m := range missing {
		t.Errorf("not landed as expected: %s", m)
	}
	for i, status := range slow() {
		if status != "408" {
			t.Errorf("slow body %d: answer %q, want 408", i, status)
		}
	}

	// Nothing forged reached a row or a table.
	for _, u := range forgedUUIDs {
		for _, tbl := range append(eventTables, failuresTable) {
			exists, err := tableExists(p.db, tbl)
			if err != nil {
				t.Fatal(err)
			}
			if !exists {
				continue
			}
			var n int
			if err := p.db.QueryRow(`SELECT count(*) FROM `+tbl+` WHERE uuid = $1`, u).Scan(&n); err != nil {
				t.Fatalf("%s: %v", tbl, err)
			}
			if n > 0 {
				t.Errorf("%d rows in %s carry the uuid a forward client chose (%s)", n, tbl, u)
			}
		}
	}
	var oldest sql.NullTime
	if err := p.db.QueryRow(`SELECT min(fired_ts) FROM pixel_quest.session_start WHERE run = $1`, run).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	if oldest.Valid && oldest.Time.Year() < 2026 {
		t.Errorf("a row has the fired_ts a forward client chose (%s)", oldest.Time)
	}
	p.checkOnlyModelSchema(t)
	if after := testenv.ModelStoreDigest(t, p.db); after != storeBefore {
		t.Errorf("the model store changed")
	}
	p.checkMetricLabels(t)

	// Logs: nothing forged, no control byte, no password.
	for _, f := range []*fluentBit{p.edge, p.processor} {
		log := f.log()
		if i := strings.IndexByte(log, 0x1b); i >= 0 {
			t.Errorf("%s log has a raw ESC byte: %q", f.name, log[max(0, i-120):min(len(log), i+40)])
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.HasPrefix(line, forgedLine) {
				t.Errorf("%s log has a forged line: %q", f.name, line)
			}
		}
		for _, secret := range []string{dbPassword, modelPassword} {
			if strings.Contains(log, secret) {
				t.Errorf("%s log shows a password", f.name)
			}
		}
		// The sqs output logs the tag of a record it could not key: the
		// forged line must be there, escaped, for the checks above to mean
		// anything. (The other markers are not logged at all today.)
		for _, marker := range map[string][]string{"edge": {"FORGED-FW"}}[f.name] {
			if !strings.Contains(log, marker) {
				t.Errorf("%s log never shows %s: the escaping was not exercised", f.name, marker)
			}
		}
		if !strings.Contains(log, "[debug]") {
			t.Errorf("%s log has no debug lines: the suite did not see what debug logging writes", f.name)
		}
	}

	// Memory: the bombs and the slow connections stayed within bounds.
	for _, f := range []*fluentBit{p.edge, p.processor} {
		rss, err := f.PeakRSS()
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		t.Logf("%s peak RSS %d MiB", f.name, rss>>20)
		if rss > peakRSSLimit {
			t.Errorf("%s peak RSS %d MiB, over %d MiB", f.name, rss>>20, peakRSSLimit>>20)
		}
	}
	for _, f := range []*fluentBit{p.edge, p.processor} {
		if c := f.Crashes(); len(c) > 0 {
			t.Errorf("%s crashed: %v", f.name, c)
		}
	}
}

// sendSQS puts one message into the queue as a sqs output (or anyone else)
// would, with the whirlpool.format attribute.
func (p *pipeline) sendSQS(t *testing.T, format, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := p.sqs.Client().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.queueURL), MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String(format)}}})
	if err != nil {
		t.Fatalf("SendMessage (%s, %d bytes): %v", format, len(body), err)
	}
}

func gzipBase64(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// forwardConn is one Forward-protocol client connection.
type forwardConn struct{ conn net.Conn }

func dialForward(t *testing.T, addr string) *forwardConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &forwardConn{conn: c}
}

// send sends one record (a JSON object) under tag and waits for the ack.
func (f *forwardConn) send(t *testing.T, tag, record string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(record), &m); err != nil {
		t.Fatalf("forward record: %v", err)
	}
	if err := sendForward(f.conn, tag, []map[string]any{m}, 1); err != nil {
		t.Fatalf("forward (tag %q): %v", tag, err)
	}
}

// postHTTP posts body and returns the status.
func postHTTP(t *testing.T, u, body string) int {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %q: %v", u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// slowBodies opens n connections that each declare a body of declared bytes
// and send one byte of it. The returned function waits for (and returns)
// each connection's status code ("" when none came within a minute).
func slowBodies(t *testing.T, u string, n, declared int) func() []string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", parsed.Host, 5*time.Second)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", parsed.RequestURI(), parsed.Host, declared)
		conns[i] = c
	}
	return func() []string {
		out := make([]string, n)
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.SetReadDeadline(time.Now().Add(time.Minute))
				line, _ := bufio.NewReader(c).ReadString('\n')
				if f := strings.Fields(line); len(f) >= 2 {
					out[i] = f[1]
				}
			}()
		}
		wg.Wait()
		return out
	}
}

var seqPattern = regexp.MustCompile(`\\?"seq\\?":\s*(\d+)`)

// waitHostile waits until every case has landed as expected (and the
// amplified messages have their failure rows), or timeout; it returns what
// is still missing or wrong.
func (p *pipeline) waitHostile(t *testing.T, run string, cases []hostile, amplified int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing, err := p.hostileOutcome(run, cases, amplified)
		if err == nil && len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				missing = append(missing, err.Error())
			}
			return missing
		}
		time.Sleep(time.Second)
	}
}

func (p *pipeline) hostileOutcome(run string, cases []hostile, amplified int) ([]string, error) {
	rows := map[int64][]string{} // seq → tables of its data rows
	for _, tbl := range eventTables {
		exists, err := tableExists(p.db, tbl)
		if err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		r, err := p.db.Query(`SELECT seq FROM `+tbl+` WHERE run = $1`, run)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tbl, err)
		}
		for r.Next() {
			var seq int64
			if err := r.Scan(&seq); err != nil {
				r.Close()
				return nil, err
			}
			rows[seq] = append(rows[seq], tbl)
		}
		r.Close()
	}
	failures := map[int64][]string{} // seq → codes of its failure rows
	undecodable, tooLong := 0, ""
	exists, err := tableExists(p.db, failuresTable)
	if err != nil {
		return nil, err
	}
	if exists {
		r, err := p.db.Query(`SELECT coalesce(error_codes, ''), coalesce(raw_event::text, ''), coalesce(raw_event_sha256, '') FROM ` + failuresTable)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			var codes, raw, sha string
			if err := r.Scan(&codes, &raw, &sha); err != nil {
				r.Close()
				return nil, err
			}
			if codes == "UNDECODABLE_MESSAGE" {
				undecodable++
				if len(raw) > failureRawLimit || len(sha) != 64 {
					tooLong += fmt.Sprintf("an UNDECODABLE_MESSAGE row keeps %d bytes of raw text (at most %d) and hash %q (want a SHA-256): %.60q; ", len(raw), failureRawLimit, sha, raw)
				}
				continue
			}
			if !strings.Contains(raw, run) {
				continue
			}
			if m := seqPattern.FindStringSubmatch(raw); m != nil {
				seq, _ := strconv.ParseInt(m[1], 10, 64)
				failures[seq] = append(failures[seq], codes)
			}
		}
		r.Close()
	}
	var missing []string
	for _, c := range cases {
		got := fmt.Sprintf("rows in %v, failure rows with codes %v", rows[c.seq], failures[c.seq])
		switch {
		case c.table != "":
			if len(rows[c.seq]) != 1 || rows[c.seq][0] != c.table || len(failures[c.seq]) != 0 {
				missing = append(missing, fmt.Sprintf("%s (seq %d): want one row in %s; got %s", c.name, c.seq, c.table, got))
			}
		default:
			ok := len(rows[c.seq]) == 0 && len(failures[c.seq]) == 1
			if ok {
				ok = false
				for _, want := range c.codes {
					ok = ok || strings.Split(failures[c.seq][0], ",")[0] == want
				}
			}
			if !ok {
				missing = append(missing, fmt.Sprintf("%s (seq %d): want one failure row with a code of %v; got %s", c.name, c.seq, c.codes, got))
			}
		}
	}
	if undecodable != amplified {
		missing = append(missing, fmt.Sprintf("%d UNDECODABLE_MESSAGE failure rows, want %d (one per amplified message)", undecodable, amplified))
	}
	if tooLong != "" {
		missing = append(missing, tooLong)
	}
	return missing, nil
}

// checkOnlyModelSchema fails the test if the database has a table outside
// the model (and the failures table) or a column no field of conf/model.yaml
// and no metadata column names.
func (p *pipeline) checkOnlyModelSchema(t *testing.T) {
	t.Helper()
	m, err := validate.LoadFile(filepath.Join(p.root, "conf", "model.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	allowedCols := map[string]bool{}
	for _, c := range append(redshift.MetaColumns(), redshift.FailureColumns()...) {
		allowedCols[c] = true
	}
	for _, g := range m.Games {
		for _, e := range g.Events {
			for _, d := range e.Definitions {
				for _, f := range d.Fields {
					allowedCols[f.Name] = true
				}
			}
		}
	}
	allowedTables := map[string]bool{failuresTable: true}
	for _, tbl := range eventTables {
		allowedTables[tbl] = true
	}
	r, err := p.db.Query(`SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'whirlpool_model') AND table_schema NOT LIKE 'pg_temp%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var bad []string
	for r.Next() {
		var tbl, col string
		if err := r.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		if !allowedTables[tbl] || !allowedCols[col] {
			bad = append(bad, tbl+"."+col)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("tables or columns outside the model: %v", bad)
	}
}

// checkMetricLabels fails the test if a plugin exports a table or code
// label that is neither a model table, a known failure code nor OTHER.
func (p *pipeline) checkMetricLabels(t *testing.T) {
	t.Helper()
	known := map[string]bool{"": true, "OTHER": true, failuresTable: true}
	for _, tbl := range eventTables {
		known[tbl] = true
	}
	for _, c := range failcode.Codes {
		known[string(c.Code)] = true
	}
	label := regexp.MustCompile(`\b(table|code)="([^"]*)"`)
	c := &http.Client{Timeout: 10 * time.Second}
	for name, u := range p.metricsURLs {
		resp, err := c.Get(u)
		if err != nil {
			t.Errorf("%s metrics: %v", name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range label.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "table" && !known[m[2]] {
				t.Errorf("%s exports table label %q", name, m[2])
			}
			if m[1] == "code" && !known[m[2]] && !eventing.KnownCode(m[2]) {
				t.Errorf("%s exports code label %q", name, m[2])
			}
		}
	}
}

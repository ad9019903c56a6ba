package redshift

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestFitsSuper(t *testing.T) {
	deep := strings.Repeat("[", superDepthMax+1) + strings.Repeat("]", superDepthMax+1)
	for _, c := range []struct {
		name string
		s    string
		want bool
	}{
		{"short text", "not json", true},
		{"text at the string limit", strings.Repeat("a", superStringMax), true},
		{"text over the string limit", strings.Repeat("a", superStringMax+1), false},
		{"big JSON of short strings", "[" + strings.Repeat(`"abc",`, 50000) + `"z"]`, true},
		{"JSON with a string at the limit", `{"a":"` + strings.Repeat("x", superStringMax) + `"}`, true},
		{"JSON with a longer string", `{"a":"` + strings.Repeat("x", superStringMax+1) + `"}`, false},
		{"JSON with escapes, decoded short", `{"a":"` + strings.Repeat(`\"`, 40000) + `"}`, false}, // raw token length is checked: conservative
		{"JSON nested too deep", deep, false},
		{"JSON over the document budget", "[" + strings.Repeat(`"abcdefgh",`, superRawMax/11+1) + `"z"]`, false},
	} {
		if got := fitsSuper([]byte(c.s), superRawMax); got != c.want {
			t.Errorf("%s: fitsSuper = %v, want %v", c.name, got, c.want)
		}
	}
}

// An errors list too big for a SUPER value keeps the errors that fit, each
// string cut to errorFieldMax, and says how many were left out.
func TestSuperErrors(t *testing.T) {
	var list []map[string]string
	for i := 0; i < 5000; i++ {
		list = append(list, map[string]string{"code": "FIELD_TYPE_MISMATCH", "path": "items." + strconv.Itoa(i), "message": strings.Repeat("m", 200)})
	}
	list[0]["actual"] = strings.Repeat("é", 40000) // 80,000 bytes
	big, _ := json.Marshal(list)
	got := superErrors(big)
	if len(got) > superErrorsMax || !fitsSuper(got, superErrorsMax) {
		t.Fatalf("%d bytes still do not fit", len(got))
	}
	var out []map[string]string
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	last := out[len(out)-1]
	if len(out) < 100 || last["rule"] != "truncated" || !strings.HasPrefix(last["message"], strconv.Itoa(len(list)-len(out)+1)+" more errors left out") {
		t.Errorf("%d errors kept, last %v", len(out), last)
	}
	if a := out[0]["actual"]; len(a) > errorFieldMax || !utf8.ValidString(a) || !strings.HasPrefix(a, "éé") {
		t.Errorf("long actual kept as %d bytes", len(a))
	}
	small := []byte(`[{"code":"X"}]`)
	if got := superErrors(small); !bytes.Equal(got, small) {
		t.Errorf("a small list changed: %s", got)
	}
}

// On Redshift with load_method copy, a failure's raw text that raw_event
// (SUPER) cannot hold whole is kept in S3 (raw_event_s3_uri, the object
// holding the whole text) and raw_event holds its first 65,535 bytes
// (raw_event_truncated, with the whole text's length and SHA-256); text
// that fits, JSON of short strings included, stays whole. Each COPY line
// stays under 4 MB.
func TestCopyKeepsBigRawEventsInS3(t *testing.T) {
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	dsn := testenv.Postgres(t)
	rec := &recorder{db: openPG(t, dsn)}
	o, _ := newOutput(t, autoCreateCopyConfig(srv.Endpoint),
		WithExecutor(rec), WithMaxEventSize(4<<20))
	e := []map[string]string{{"code": "PAYLOAD_NOT_JSON", "message": "m"}}
	text := strings.Repeat("ü", 50000)                             // 100,000 bytes, not JSON
	longString := `{"note":"` + strings.Repeat("x", 70000) + `"}`  // JSON whose string SUPER cannot hold
	manyShort := "[" + strings.Repeat(`"abc",`, 30000) + `"z"]`    // 180,005 bytes of JSON that fits
	tooBig := "[" + strings.Repeat(`"abcdefgh",`, 300000) + `"z"]` // 3.3 MB of JSON: over the line budget
	chunk := chunkOf(
		failureBody("f-text", text, e),
		failureBody("f-long", longString, e),
		failureBody("f-many", manyShort, e),
		failureBody("f-big", tooBig, e),
	)
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	var data []byte
	for _, k := range srv.Keys(t, "stage", "wp/") {
		if strings.HasSuffix(k, "/failures.events/part-00000.json.gz") {
			zr, err := gzip.NewReader(bytes.NewReader(srv.Get(t, "stage", k)))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows := map[string]map[string]json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if len(line) >= 4<<20 {
			t.Errorf("a COPY line of %d bytes", len(line))
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		var uuid string
		json.Unmarshal(row["uuid"], &uuid)
		rows[uuid] = row
	}
	for _, c := range []struct {
		uuid, text string
		spilled    bool
	}{
		{"f-text", text, true},
		{"f-long", longString, true},
		{"f-many", manyShort, false},
		{"f-big", tooBig, true},
	} {
		row := rows[c.uuid]
		if row == nil {
			t.Fatalf("no row %s in %s", c.uuid, data)
		}
		var uri string
		json.Unmarshal(row["raw_event_s3_uri"], &uri)
		if !c.spilled {
			if uri != "" || string(row["raw_event_truncated"]) != "false" || string(row["raw_event"]) != c.text {
				t.Errorf("%s: not kept whole: truncated %s, uri %q, %d bytes", c.uuid, row["raw_event_truncated"], uri, len(row["raw_event"]))
			}
			continue
		}
		var kept string
		if err := json.Unmarshal(row["raw_event"], &kept); err != nil {
			t.Errorf("%s: raw_event is not a SUPER string: %v", c.uuid, err)
		}
		sum := sha256.Sum256([]byte(c.text))
		if len(kept) > superStringMax || !strings.HasPrefix(c.text, kept) || len(kept) < superStringMax-3 ||
			string(row["raw_event_truncated"]) != "true" || string(row["raw_event_bytes"]) != strconv.Itoa(len(c.text)) ||
			string(row["raw_event_sha256"]) != strconv.Quote(hex.EncodeToString(sum[:])) {
			t.Errorf("%s: raw_event %d bytes, truncated %s, bytes %s, sha256 %s", c.uuid, len(kept), row["raw_event_truncated"], row["raw_event_bytes"], row["raw_event_sha256"])
		}
		if want := "s3://stage/wp/raw_events/" + hex.EncodeToString(sum[:]); uri != want {
			t.Errorf("%s: raw_event_s3_uri = %q, want %q", c.uuid, uri, want)
			continue
		}
		if got := srv.Get(t, "stage", strings.TrimPrefix(uri, "s3://stage/")); string(got) != c.text {
			t.Errorf("%s: the S3 object holds %d bytes, not the raw text", c.uuid, len(got))
		}
	}
}

// Without S3 (Redshift, load_method insert) a raw text SUPER cannot hold
// is cut, flagged and digested; PostgreSQL's text keeps it whole.
func TestRawEventCutWithoutS3AndWholeInPostgres(t *testing.T) {
	text := strings.Repeat("ü", 50000) // 100,000 bytes, not JSON
	e := []map[string]string{{"code": "PAYLOAD_NOT_JSON", "message": "m"}}
	chunk := chunkOf(failureBody("f-text", text, e))

	t.Run("redshift without S3", func(t *testing.T) {
		// load_method insert on Redshift: the row's values as the output
		// sends them (the recorder only stands in for load_method copy).
		o := &Output{maxRaw: 1 << 20}
		m := &tableMeta{exists: true, cols: map[string]*colMeta{}}
		for _, c := range failureCols {
			m.cols[c] = ddlColumn(c, Redshift.ddlType(c))
		}
		b := &batch{}
		r := &rec{kind: kindFailure, raw: []byte(text), errorsJSON: []byte(`[{"code":"PAYLOAD_NOT_JSON"}]`), codes: []byte("PAYLOAD_NOT_JSON")}
		o.failureValues(b, r, m, "")
		kept, _ := r.fvals[fRawEvent].Str()
		truncated, _ := r.fvals[fRawTruncated].Bool()
		n, _ := r.fvals[fRawBytes].Int()
		sum, _ := r.fvals[fRawSHA256].Str()
		want := sha256.Sum256([]byte(text))
		if len(kept) != superStringMax-1 || !strings.HasPrefix(text, string(kept)) || !truncated || n != int64(len(text)) ||
			string(sum) != hex.EncodeToString(want[:]) || r.fvals[fRawS3URI] != nil || r.spill == nil {
			t.Errorf("raw_event %d bytes, truncated %v, bytes %d, sha256 %s, uri %v", len(kept), truncated, n, sum, r.fvals[fRawS3URI])
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.Postgres(t)
		db := openPG(t, dsn)
		o, _ := newOutput(t, pgLayoutConfig(dsn, "pg_copy"))
		if r := o.Flush(chunk, "events"); r != plugin.OK {
			t.Fatalf("flush = %v", r)
		}
		got := testenv.QueryRows(t, db, `SELECT octet_length(raw_event), raw_event_truncated, raw_event_bytes, raw_event_s3_uri FROM failures.events`)
		if len(got) != 1 || got[0][0] != "100000" || got[0][1] != "false" || got[0][2] != "NULL" || got[0][3] != "NULL" {
			t.Errorf("PostgreSQL failure row = %q", got)
		}
	})
}

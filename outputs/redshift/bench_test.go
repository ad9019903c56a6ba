package redshift

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// benchRecord is a validated game event of about the size of the one in
// perf_anchors.md (~530 bytes as JSON): 12 columns of mixed types, its keys
// exactly as the validator writes them (columns last).
func benchRecord(id string) []byte {
	return appendValidated(id, "space", "match_end", "3", -1, []string{"game.match_end"}, []col{
		{"player_id", "7f9c2ba4-e88f-4e3a-9c8d-0b1f2a3c4d5e"}, {"session_id", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"},
		{"map", "dust_ii"}, {"mode", "competitive"}, {"score", 2750}, {"kills", 23}, {"deaths", 11},
		{"accuracy", 0.4375}, {"duration_s", 1834.25}, {"won", true}, {"platform", "pc/windows-11/steam"},
		{"loadout", `{"primary":"ak-47","secondary":"glock-18","grenades":["flash","smoke","he"]}`},
	})
}

func benchChunk(prefix string, n int) []byte {
	var bodies [][]byte
	for i := 0; i < n; i++ {
		bodies = append(bodies, benchRecord(fmt.Sprintf("%s-%06d", prefix, i)))
	}
	return chunkOf(bodies...)
}

const benchTable = `CREATE TABLE game.match_end (uuid text, fired_ts timestamp, game text, version text, event text,
	definition_version text, expand_index integer, loaded_at timestamp, player_id text, session_id text, map text, mode text,
	score bigint, kills bigint, deaths bigint, accuracy double precision, duration_s double precision, won boolean,
	platform text, loadout text);
	CREATE INDEX ON game.match_end (uuid, expand_index)`

// BenchmarkLoadPostgres measures rows/s into the local PostgreSQL: chunks
// of 4,000 records (a full ~2 MB Fluent Bit chunk) flushed by 4 workers at once (Fluent Bit's Workers 4;
// group commit merges them), dedupe on, beside the baseline of one INSERT
// per row via database/sql. The _serial variants flush one chunk at a
// time (one transaction per chunk).
func BenchmarkLoadPostgres(b *testing.B) {
	const perChunk = 4000 // ~1.7 MB of msgpack: a full Fluent Bit chunk (about 2 MB)
	type variant struct {
		method  string
		workers int
		dedupe  string
	}
	for _, v := range []variant{{"pg_copy", 1, "on"}, {"pg_copy", 4, "on"}, {"pg_copy", 1, "off"}, {"insert", 1, "on"}, {"insert", 4, "on"}} {
		method, workers := v.method, v.workers
		{
			name := method
			if workers == 1 {
				name += "_serial"
			}
			if v.dedupe == "off" {
				name += "_dedupe_off"
			}
			b.Run(name, func(b *testing.B) {
				dsn := testenv.Postgres(b)
				mustExec(b, openPG(b, dsn), `CREATE SCHEMA game`, benchTable)
				o, _ := newOutput(b, testenv.Config{"dsn": dsn, "dialect": "postgres", "load_method": method, "auto_create": "on", "batch_max_wait": "50ms", "dedupe": v.dedupe})
				chunks := make([][]byte, b.N)
				for i := range chunks {
					chunks[i] = benchChunk(fmt.Sprintf("%s-%d", method, i), perChunk)
				}
				next := make(chan []byte, len(chunks))
				for _, c := range chunks {
					next <- c
				}
				close(next)
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for c := range next {
							if r := o.Flush(c, "events"); r != plugin.OK {
								b.Errorf("flush = %v", r)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N*perChunk)/time.Since(start).Seconds(), "rows/s")
			})
		}
	}
	b.Run("baseline_insert_per_row", func(b *testing.B) {
		dsn := testenv.Postgres(b)
		db := openPG(b, dsn)
		mustExec(b, db, `CREATE SCHEMA game`, benchTable)
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			st, err := tx.Prepare(`INSERT INTO game.match_end VALUES ($1, $2, 'space', '1.2', 'match_end', '3', -1, now(),
				$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`)
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j < perChunk; j++ {
				if _, err := st.Exec(fmt.Sprintf("base-%d-%d", i, j), t0, "7f9c2ba4-e88f-4e3a-9c8d-0b1f2a3c4d5e",
					"c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "dust_ii", "competitive", 2750, 23, 11, 0.4375, 1834.25, true,
					"pc/windows-11/steam", `{"primary":"ak-47"}`); err != nil {
					b.Fatal(err)
				}
			}
			st.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*perChunk)/time.Since(start).Seconds(), "rows/s")
	})
}

// BenchmarkPluginCPU measures the output's own work per record, without the
// database: decode the chunk, route every record and encode its row into
// the COPY text (pg_copy) or the INSERT statement (insert) payload.
func BenchmarkPluginCPU(b *testing.B) {
	const perChunk = 1000
	chunk := benchChunk("cpu", perChunk)
	for _, method := range []string{"pg_copy", "insert"} {
		b.Run(method, func(b *testing.B) {
			o := cpuOutput(b, method)
			var payload []byte
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			cpu := benchcpu.Start(b)
			for i := 0; i < b.N; i++ {
				payload = o.encodeChunk(b, chunk, payload[:0])
			}
			b.ReportMetric(float64(b.N*perChunk)/b.Elapsed().Seconds(), "records/s")
			cpu.Report(b, b.N*perChunk, "records/cpu-s")
		})
	}
	if flbgoBaseline != nil {
		b.Run("baseline_fluent-bit-go_encoding-json", func(b *testing.B) {
			var payload []byte
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			cpu := benchcpu.Start(b)
			for i := 0; i < b.N; i++ {
				payload = flbgoBaseline(b, chunk, payload[:0])
			}
			b.ReportMetric(float64(b.N*perChunk)/b.Elapsed().Seconds(), "records/s")
			cpu.Report(b, b.N*perChunk, "records/cpu-s")
		})
	}
}

// flbgoBaseline decodes with fluent-bit-go and writes each row as a JSON
// line with encoding/json (set in bench_flbgo_test.go when cgo is on).
var flbgoBaseline func(b *testing.B, chunk, dst []byte) []byte

// cpuOutput is an output whose table metadata is already cached, so
// planning needs no database.
func cpuOutput(b *testing.B, method string) *Output {
	cfg := &config{dialect: Postgres, method: method, dedupe: true, failures: tableName{"failures", "events"}}
	o := &Output{cfg: cfg, env: plugin.Env{Log: &testenv.Log{}}, dests: map[string]*dest{}, meta: metaCache{}, validator: testModel(b),
		spare: newSpareBlocks()}
	m := &tableMeta{exists: true, cols: map[string]*colMeta{}}
	for _, c := range append(append([]string{}, metaCols...), "player_id", "session_id", "map", "mode", "score", "kills",
		"deaths", "accuracy", "duration_s", "won", "platform", "loadout") {
		m.cols[c] = &colMeta{name: c, typ: "text"}
	}
	o.meta["game.match_end"] = m
	return o
}

func (o *Output) encodeChunk(b *testing.B, chunk, payload []byte) []byte {
	u := o.route(chunk, t0)
	defer u.slab.release() // as the loader does once a flush is done
	bt := &batch{recs: u.recs, rejected: map[rejectKey]string{}}
	bt.loadedAt = bt.arena.str([]byte("2026-11-22 00:00:00"))
	if err := o.plan(context.Background(), nil, bt); err != nil {
		b.Fatal(err)
	}
	if len(bt.tables) != 1 || len(bt.tables[0].recs) != len(u.recs) {
		b.Fatalf("planned %d tables", len(bt.tables))
	}
	tl := bt.tables[0]
	v := make([]record.Value, len(tl.cols))
	for _, r := range tl.recs {
		row := tl.values(v, r, bt)
		if o.cfg.method == methodPgCopy {
			payload = appendCopyRow(payload, row)
		} else {
			if len(payload) > 0 {
				payload = append(payload, ',', ' ')
			}
			payload = appendInsertTuple(payload, row, tl.cols, o.cfg.dialect)
		}
	}
	return payload
}

package validate

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	st, err := OpenStore(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func changeStrings(cs []Change) []string {
	var s []string
	for _, c := range cs {
		s = append(s, c.String())
	}
	return s
}

func TestStoreApplyRollback(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, testenv.Postgres(t))
	if err := st.Init(ctx); err != nil { // idempotent
		t.Fatal(err)
	}
	m := loadTestModel(t)
	changes, err := st.Apply(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"galaxy: mappings revision 1 (new)",
		"galaxy/level_up v1: revision 1 (new)", "galaxy/level_up v2: revision 1 (new)",
		"galaxy/purchase v1: revision 1 (new)", "galaxy/purchase v2: revision 1 (new)",
		"galaxy/tutorial_step v1: revision 1 (new)",
	}
	if got := changeStrings(changes); !reflect.DeepEqual(got, want) {
		t.Fatalf("first apply: %q", got)
	}
	// The store holds what the file says.
	loaded, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertSameModel(t, loaded, m)

	// Applying the same file again changes nothing.
	changes, err = st.Apply(ctx, loadTestModel(t))
	if err != nil || len(changes) != 0 {
		t.Fatalf("second apply: %q, %v", changeStrings(changes), err)
	}

	// An edited definition gets a new revision; nothing else changes.
	edited := loadTestModel(t)
	edited.Games[0].Events[0].Definitions[0].Fields[2].Max = "500"
	changes, err = st.Apply(ctx, edited)
	if err != nil {
		t.Fatal(err)
	}
	if got := changeStrings(changes); !reflect.DeepEqual(got, []string{"galaxy/level_up v1: revision 2 (changed)"}) {
		t.Fatalf("edited apply: %q", got)
	}
	loaded, _ = st.Load(ctx)
	assertSameModel(t, loaded, edited)
	if loaded.Games[0].Events[0].Definitions[0].Revision != 2 {
		t.Fatalf("current revision %d", loaded.Games[0].Events[0].Definitions[0].Revision)
	}
	// A changed mapping is a new mappings revision.
	edited.Games[0].Mappings = edited.Games[0].Mappings[:2]
	changes, _ = st.Apply(ctx, edited)
	if got := changeStrings(changes); !reflect.DeepEqual(got, []string{"galaxy: mappings revision 2 (changed)"}) {
		t.Fatalf("mapping apply: %q", got)
	}

	// Rolling back makes revision 1 current again, recorded as revision 3.
	c, err := st.Rollback(ctx, "galaxy", "level_up", "v1", 0)
	if err != nil || c == nil || c.String() != "galaxy/level_up v1: revision 3 (rollback to revision 1)" {
		t.Fatalf("rollback: %v, %v", c, err)
	}
	loaded, _ = st.Load(ctx)
	if got := loaded.Games[0].Events[0].Definitions[0].Fields[2].Max; got != "1000" {
		t.Fatalf("after rollback max = %q, want 1000", got)
	}
	hist, err := st.History(ctx, "galaxy", "level_up", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, h := range hist {
		hs = append(hs, fmt.Sprintf("%d %s", h.Revision, h.Change))
	}
	if !reflect.DeepEqual(hs, []string{"1 new", "2 changed", "3 rollback to revision 1"}) {
		t.Fatalf("history %q", hs)
	}
	// Rolling back to what is current changes nothing; unknown revisions fail.
	if c, err := st.Rollback(ctx, "galaxy", "level_up", "v1", 1); c != nil || err != nil {
		t.Fatalf("rollback to current content: %v, %v", c, err)
	}
	if _, err := st.Rollback(ctx, "galaxy", "level_up", "v1", 9); err == nil || !strings.Contains(err.Error(), "revisions 1 to 3") {
		t.Fatalf("rollback to a missing revision: %v", err)
	}
	if _, err := st.Rollback(ctx, "galaxy", "level_up", "v7", 1); err == nil {
		t.Fatal("rollback of a missing definition succeeded")
	}
	// A model that fails its checks is never applied.
	bad := loadTestModel(t)
	bad.Games[0].Events[0].Definitions[0].Fields[0].Name = "Player"
	if _, err := st.Apply(ctx, bad); err == nil {
		t.Fatal("bad model applied")
	}
}

func assertSameModel(t *testing.T, got, want *Model) {
	t.Helper()
	if len(got.Games) != len(want.Games) {
		t.Fatalf("%d games, want %d", len(got.Games), len(want.Games))
	}
	for gi, g := range want.Games {
		gg := got.Games[gi]
		if gg.Name != g.Name || !reflect.DeepEqual(gg.Mappings, g.Mappings) {
			t.Fatalf("game %s: mappings %v, want %v", g.Name, gg.Mappings, g.Mappings)
		}
		events := append([]Event(nil), g.Events...)
		sort.Slice(events, func(i, j int) bool { return events[i].Name < events[j].Name })
		for ei, e := range events {
			ge := gg.Events[ei]
			if ge.Name != e.Name || len(ge.Definitions) != len(e.Definitions) {
				t.Fatalf("event %s: got %s with %d definitions", e.Name, ge.Name, len(ge.Definitions))
			}
			for di, d := range e.Definitions {
				if !sameContent(ge.Definitions[di], d) {
					t.Fatalf("%s/%s %s differs:\n got %+v\nwant %+v", g.Name, e.Name, d.Version, ge.Definitions[di], d)
				}
			}
		}
	}
}

const storeModel = `
games:
  - name: galaxy
    mappings: [{version: '.*', definition: v1}]
    events:
      - name: level_up
        definitions:
          - version: v1
            destinations: [events.level_up]
            fields:
              - {name: player_id, path: player, type: string, mandatory: true}
              - {name: level, path: level, type: integer}
`

func applyYAML(t *testing.T, st *Store, doc string) {
	t.Helper()
	m, err := ParseModel([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// sqlEdit adds revision 2 of galaxy/level_up v1 with SQL, as an operator
// would, in one transaction: a new destination and a third column.
func sqlEdit(t *testing.T, dsn string, columnName string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := tx.QueryRow(`INSERT INTO whirlpool_model.definition_versions (game, event, label, revision, change)
		SELECT 'galaxy', 'level_up', 'v1', max(revision) + 1, 'sql edit' FROM whirlpool_model.definition_versions
		WHERE game = 'galaxy' AND event = 'level_up' AND label = 'v1' RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO whirlpool_model.definition_fields (definition_version_id, position, name, path, type, mandatory) VALUES ($1, 0, 'player_id', 'player', 'string', true)`,
		`INSERT INTO whirlpool_model.definition_fields (definition_version_id, position, name, path, type) VALUES ($1, 1, 'level', 'level', 'integer')`,
		`INSERT INTO whirlpool_model.definition_fields (definition_version_id, position, name, path, type) VALUES ($1, 2, '` + columnName + `', 'mode', 'string')`,
		`INSERT INTO whirlpool_model.definition_destinations (definition_version_id, position, destination) VALUES ($1, 0, 'events.level_up_v2')`,
	} {
		if _, err := tx.Exec(q, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds; the deadline only bounds a broken
// test, it is not a timing requirement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReloads waits until v has read its source n more times: every read,
// failed or not, moves lastRead.
func waitReloads(t *testing.T, v *Validator, n int) {
	t.Helper()
	last, reads := v.lastRead.Load(), 0
	waitFor(t, fmt.Sprintf("%d more reads of the model", n), func() bool {
		if now := v.lastRead.Load(); now != last {
			last, reads = now, reads+1
		}
		return reads >= n
	})
}

// shape is what a valid record says about the model it was validated
// against.
func shape(r map[string]any) string {
	cols := r["columns"].(map[string]any)
	return fmt.Sprintf("%v %v", r["destinations"], sortedKeys(cols))
}

// A validator on the store picks up an edit made in PostgreSQL while
// events are validated concurrently, and no event sees a mix of the old and
// the new model.
func TestStoreReloadConcurrent(t *testing.T) {
	dsn := testenv.Postgres(t)
	st := openStore(t, dsn)
	applyYAML(t, st, storeModel)
	v, err := New(plugin.Env{Config: testenv.Config{"model_dsn": dsn, "model_reload_interval": "100ms"}, Log: &testenv.Log{}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const oldShape = "[events.level_up] [level player_id]"
	const newShape = "[events.level_up_v2] [level mode player_id]"
	in := decodeOne(t, inputRecord("galaxy", "1.0", "level_up", `{"player":"p","level":3,"mode":"ranked"}`))

	var stop atomic.Bool
	var sawOld, sawNew atomic.Bool
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			local := map[string]int{}
			for !stop.Load() {
				buf = v.AppendValidated(buf[:0], in)
				recs, err := decodeRecords(buf)
				if err == nil && len(recs) == 0 {
					err = fmt.Errorf("no record")
				}
				if err != nil { // not t.Fatal: this is not the test's goroutine
					t.Error(err)
					return
				}
				s := shape(recs[0])
				local[s]++
				switch s {
				case oldShape:
					sawOld.Store(true)
				case newShape:
					sawNew.Store(true)
				}
			}
			mu.Lock()
			for k, n := range local {
				seen[k] += n
			}
			mu.Unlock()
		}()
	}
	waitFor(t, "events validated against the first model", sawOld.Load)
	sqlEdit(t, dsn, "mode")
	waitFor(t, "the edit to be picked up", sawNew.Load)
	time.Sleep(100 * time.Millisecond) // pacing: validations go on under the new model
	stop.Store(true)
	wg.Wait()
	for s := range seen {
		if s != oldShape && s != newShape {
			t.Errorf("an event was validated against a mixed model: %s", s)
		}
	}
	if seen[oldShape] == 0 || seen[newShape] == 0 {
		t.Fatalf("seen %v", seen)
	}
}

// tcpProxy forwards a loopback port to the PostgreSQL server, so a test
// can take "the store" down and bring it back.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (p *tcpProxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// dsnVia rewrites host and port of a key=value DSN.
func dsnVia(dsn, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	var out []string
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "host=") || strings.HasPrefix(f, "port=") {
			continue
		}
		out = append(out, f)
	}
	return strings.Join(append(out, "host="+host, "port="+port), " ")
}

func serverAddr(dsn string) string {
	host, port := "127.0.0.1", "5432"
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "host="); ok {
			host = v
		}
		if v, ok := strings.CutPrefix(f, "port="); ok {
			port = v
		}
	}
	return net.JoinHostPort(host, port)
}

// With the store down the validator keeps its model, warns once per
// outage, and goes on validating; when the store is back, edits are picked
// up again. A store that is down at start-up fails New with a clear error.
func TestStoreDown(t *testing.T) {
	dsn := testenv.Postgres(t)
	if strings.Contains(dsn, "://") {
		t.Skip("the proxy test needs a key=value DSN")
	}
	st := openStore(t, dsn)
	applyYAML(t, st, storeModel)
	p := &tcpProxy{t: t, addr: "127.0.0.1:0", target: serverAddr(dsn)}
	p.start()
	defer p.stop()
	log := &testenv.Log{}
	v, err := New(plugin.Env{Config: testenv.Config{"model_dsn": dsnVia(dsn, p.addr), "model_reload_interval": "100ms"}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	in := decodeOne(t, inputRecord("galaxy", "1.0", "level_up", `{"player":"p","level":3,"mode":"ranked"}`))
	valid := func() string { return shape(decodeAll(t, v.AppendValidated(nil, in))[0]) }

	p.stop()
	waitFor(t, "the outage warning", func() bool { return log.Count("[warn] validate: cannot read the model") > 0 })
	waitReloads(t, v, 4) // several reload attempts while down
	if n := log.Count("[warn] validate: cannot read the model"); n != 1 {
		t.Fatalf("%d outage warnings, want 1:\n%s", n, log)
	}
	if got := valid(); got != "[events.level_up] [level player_id]" {
		t.Fatalf("during the outage: %s", got)
	}
	sqlEdit(t, dsn, "mode") // made while the validator cannot see the store
	p.start()               // same port
	waitFor(t, "the edit after the outage", func() bool { return valid() == "[events.level_up_v2] [level mode player_id]" })
	if log.Count("readable again") != 1 {
		t.Fatalf("log:\n%s", log)
	}

	// A closed port at start-up: New fails and says why.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	_, err = New(plugin.Env{Config: testenv.Config{"model_dsn": dsnVia(dsn, closed) + " password=hunter2"}})
	if err == nil || !strings.Contains(err.Error(), "model store") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("New with the store down: %v", err)
	}
}

// A new model that fails its checks is rejected with the reason logged,
// once, and the current model stays; from the store and from a file.
func TestBadModelRejected(t *testing.T) {
	t.Run("store", func(t *testing.T) {
		dsn := testenv.Postgres(t)
		st := openStore(t, dsn)
		applyYAML(t, st, storeModel)
		log := &testenv.Log{}
		v, err := New(plugin.Env{Config: testenv.Config{"model_dsn": dsn, "model_reload_interval": "100ms"}, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		sqlEdit(t, dsn, "Mode Of Play") // not an identifier
		waitFor(t, "the rejection", func() bool { return log.Count("rejected") > 0 })
		waitReloads(t, v, 3) // the rejected model read again, not logged again
		if log.Count("rejected") != 1 || log.Count(`field "Mode Of Play": column name`) != 1 {
			t.Fatalf("log:\n%s", log)
		}
		in := decodeOne(t, inputRecord("galaxy", "1.0", "level_up", `{"player":"p","level":3}`))
		if got := shape(decodeAll(t, v.AppendValidated(nil, in))[0]); got != "[events.level_up] [level player_id]" {
			t.Fatalf("after a rejected model: %s", got)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "model.yaml")
		if err := os.WriteFile(path, []byte(storeModel), 0o644); err != nil {
			t.Fatal(err)
		}
		log := &testenv.Log{}
		v, err := New(plugin.Env{Config: testenv.Config{"model_file": path, "model_reload_interval": "100ms"}, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		in := decodeOne(t, inputRecord("galaxy", "1.0", "level_up", `{"player":"p","level":3}`))
		valid := func() string { return shape(decodeAll(t, v.AppendValidated(nil, in))[0]) }
		os.WriteFile(path, []byte(strings.Replace(storeModel, "events.level_up", "events.order", 1)), 0o644) // reserved word
		waitFor(t, "the rejection", func() bool { return log.Count("rejected") > 0 })
		if !strings.Contains(log.String(), `table "order" is a reserved word`) || valid() != "[events.level_up] [level player_id]" {
			t.Fatalf("log:\n%s\nshape %s", log, valid())
		}
		os.WriteFile(path, []byte(strings.Replace(storeModel, "events.level_up", "events.level_up_v2", 1)), 0o644)
		waitFor(t, "the good edit", func() bool { return valid() == "[events.level_up_v2] [level player_id]" })
		os.Remove(path) // a missing file is an outage, not a new model
		waitFor(t, "the outage warning", func() bool { return log.Count("cannot read the model") > 0 })
		if valid() != "[events.level_up_v2] [level player_id]" {
			t.Fatal("model lost when the file went missing")
		}
	})
}

// A model_dsn lib/pq cannot parse is refused at start-up without its
// password, whether url.Parse or lib/pq's key=value scanner refuses it.
func TestBadModelDSNNotShown(t *testing.T) {
	for _, tc := range []struct{ dsn, secret string }{
		{"postgres://postgres:Sup3rS3cret%zz@127.0.0.1:5432/db", "S3cret"},
		{"postgres://postgres:Sup3r/S3cret@127.0.0.1:5432/db", "S3cret"},
		{"host=127.0.0.1 password='Sup3rS3cret", "S3cret"},
		{"host=127.0.0.1 password=Sup3r\tS3cret x", "S3cret"},
	} {
		log := &testenv.Log{}
		_, err := New(plugin.Env{Config: testenv.Config{"model_dsn": tc.dsn}, Log: log})
		if err == nil || !strings.Contains(err.Error(), "model store: invalid DSN") {
			t.Errorf("%q: error %v, want an invalid DSN", tc.dsn, err)
		}
		if all := fmt.Sprint(err) + log.String(); strings.Contains(all, tc.secret) || strings.Contains(all, "%zz") {
			t.Errorf("%q: the password shows: %s", tc.dsn, all)
		}
	}
}

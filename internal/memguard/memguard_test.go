package memguard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  Limit
		err   string // substring of the error; "" for none
	}{
		{"", 0, ""},
		{"0", 0, ""},
		{"64M", 64 << 20, ""},
		{"240M", 240 << 20, ""},
		{"1G", 1 << 30, ""},
		{"32M", 0, "pause_above_rss"},
		{"lots", 0, "pause_above_rss"},
	} {
		cfg := testenv.Config{}
		if tc.value != "" {
			cfg["pause_above_rss"] = tc.value
		}
		r := Properties.Read(cfg)
		got := Read(r)
		err := r.Err()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one naming %q", tc.value, err, tc.err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: %d, want %d", tc.value, got, tc.want)
		}
	}
}

// TestGuard drives a guard with a limit of 100 through sequences of samples
// (resident set, chunks mapped) and checks its decision after each.
func TestGuard(t *testing.T) {
	type step struct {
		rss, chunks int64
		paused      bool
		often       bool // sample again before the next collect
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"below the limit never pauses", []step{{50, 40, false, true}, {99, 90, false, true}}},
		{"below half the limit samples at the collects only", []step{{10, 5, false, false}, {49, 40, false, false}, {50, 40, false, true}, {49, 40, false, false}}},
		{"at the limit with chunks in memory pauses", []step{{99, 10, false, true}, {100, 10, true, true}}},
		{"over the limit with no chunk in memory does not pause: nothing would release it", []step{{150, 0, false, true}, {150, 0, false, true}}},
		{"stays paused until below 90%", []step{{120, 30, true, true}, {100, 30, true, true}, {91, 30, true, true}, {90, 30, true, true}, {89, 30, false, true}}},
		{"resumes once no chunk is in memory, whatever the resident set", []step{{120, 30, true, true}, {120, 0, false, true}, {120, 0, false, true}}},
		{"pauses again after resuming", []step{{120, 30, true, true}, {80, 30, false, true}, {110, 5, true, true}}},
		{"paused and then at rest: resumes, then samples at the collects only", []step{{120, 30, true, true}, {40, 0, false, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var i int
			g := newGuard(100,
				func() (int64, error) { return tc.steps[i].rss, nil },
				func() (int64, error) { return tc.steps[i].chunks, nil })
			was := false
			for ; i < len(tc.steps); i++ {
				paused, changed, s, err := g.Check()
				if err != nil {
					t.Fatal(err)
				}
				if paused != tc.steps[i].paused || changed != (paused != was) {
					t.Fatalf("step %d %+v: paused %v changed %v, want paused %v", i, tc.steps[i], paused, changed, tc.steps[i].paused)
				}
				if often := g.Often(s); often != tc.steps[i].often {
					t.Fatalf("step %d %+v: Often %v, want %v", i, tc.steps[i], often, tc.steps[i].often)
				}
				was = paused
			}
		})
	}
}

// TestGuardKeepsStateOnError: a failed read changes nothing.
func TestGuardKeepsStateOnError(t *testing.T) {
	fail := errors.New("no /proc")
	rssErr, chunkErr := error(nil), error(nil)
	g := newGuard(100,
		func() (int64, error) { return 200, rssErr },
		func() (int64, error) { return 50, chunkErr })
	if paused, _, _, _ := g.Check(); !paused {
		t.Fatal("not paused at 200 with chunks in memory")
	}
	rssErr = fail
	if paused, changed, _, err := g.Check(); !paused || changed || err == nil {
		t.Errorf("resident set unreadable: paused %v changed %v err %v, want still paused and the error", paused, changed, err)
	}
	rssErr, chunkErr = nil, fail
	if paused, changed, _, err := g.Check(); !paused || changed || err == nil {
		t.Errorf("chunks unreadable: paused %v changed %v err %v, want still paused and the error", paused, changed, err)
	}
}

func TestParseStatm(t *testing.T) {
	got, err := parseStatm([]byte("12345 678 90 1 0 2 0\n"))
	if err != nil || got != 678*pageSize {
		t.Errorf("parseStatm: %d %v, want %d", got, err, 678*pageSize)
	}
	if _, err := parseStatm([]byte("12345")); err == nil {
		t.Error("parseStatm of one field: no error")
	}
}

func TestChunkRSS(t *testing.T) {
	const smaps = `55d0c0a00000-55d0c0b00000 r-xp 00000000 08:01 131 /usr/bin/fluent-bit
Size:               1024 kB
Rss:                 900 kB
7f0000000000-7f0000200000 rw-s 00000000 08:01 200 /var/lib/whirlpool/edge/eventing.0/12-1733050000.123456789.flb
Size:               2048 kB
Rss:                2000 kB
Pss:                2000 kB
7f0000400000-7f0000500000 rw-s 00000000 08:01 201 /var/lib/whirlpool/edge/eventing.0/12-1733050001.5.flb
Size:               1024 kB
Rss:                  24 kB
7f0000600000-7f0000700000 rw-p 00000000 00:00 0 
Size:               1024 kB
Rss:                1000 kB
`
	got, err := chunkRSS(strings.NewReader(smaps))
	if err != nil || got != (2000+24)<<10 {
		t.Errorf("chunkRSS: %d %v, want %d", got, err, (2000+24)<<10)
	}
}

// TestSelf reads this process's own memory, with a file named like a chunk
// mapped and touched: both readers work on this kernel and the chunk
// reader finds the mapping.
func TestSelf(t *testing.T) {

	rss, err := selfRSS()
	if err != nil || rss <= 0 {
		t.Fatalf("selfRSS: %d %v", rss, err)
	}
	before, err := selfChunks()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "1-1733050000.1.flb")
	const size = 1 << 20
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	for i := 0; i < size; i += 4096 {
		sink += m[i]
	}
	after, err := selfChunks()
	if err != nil {
		t.Fatal(err)
	}
	if after-before != size {
		t.Errorf("chunks mapped: %d bytes more with a 1 MiB chunk file mapped and read, want %d", after-before, size)
	}
}

// sink keeps the compiler from dropping the reads that fault pages in.
var sink byte

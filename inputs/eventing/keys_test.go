package eventing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// eventually polls cond until it holds or a deadline passes: reloads run
// on their own schedule, so a test waits for their effect, never for a
// fixed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keysFile writes an api_keys_file one way or another and returns its path
// and how to replace its content.
type keysFile func(t *testing.T, dir, content string) (path string, rewrite func(content string))

// inPlace rewrites the file itself (truncate and write: a reader may see it
// empty or half written in between).
func inPlace(t *testing.T, dir, content string) (string, func(string)) {
	path := filepath.Join(dir, "keys")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(content)
	return path, write
}

// renamed writes a new file and renames it over the old one, atomically.
func renamed(t *testing.T, dir, content string) (string, func(string)) {
	path := filepath.Join(dir, "keys")
	write := func(s string) {
		tmp := filepath.Join(dir, ".keys.tmp")
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(content)
	return path, write
}

// secretVolume lays the file out as a Kubernetes Secret volume does: keys
// -> ..data/keys, ..data -> a timestamped directory; an update writes a new
// directory and swaps the ..data symlink by a rename.
func secretVolume(t *testing.T, dir, content string) (string, func(string)) {
	n := 0
	write := func(s string) {
		n++
		ts := filepath.Join(dir, "..2026_11_21_"+strings.Repeat("x", n))
		if err := os.Mkdir(ts, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ts, "keys"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	write(content)
	path := filepath.Join(dir, "keys")
	if err := os.Symlink(filepath.Join("..data", "keys"), path); err != nil {
		t.Fatal(err)
	}
	return path, write
}

// api_keys_file is re-read when its content changes, however it is
// replaced: the new keys pass, removed ones get 401, api_keys stay. A file
// that fails to parse keeps the previous keys with an error naming the
// file and the line, never a key.
func TestAPIKeysFileIsReloaded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write keysFile
	}{
		{"rewritten in place", inPlace},
		{"replaced by an atomic rename", renamed},
		{"Kubernetes Secret volume (symlink swap)", secretVolume},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, rewrite := tc.write(t, t.TempDir(), "# keys\ng1:old-key\ng1:kept-key\n")
			_, base, lg := start(t, testenv.Config{"ack": "received", "api_keys": "g2:inline-key",
				"api_keys_file": path, "api_keys_reload_interval": "100ms"})
			status := func(game, key string) int {
				return post(t, base+"/v1/events/"+game+"/v/e", ev, "X-API-Key: "+key).status
			}
			expect := func(when string, want map[string]int) {
				t.Helper()
				for k, code := range want {
					game, key, _ := strings.Cut(k, ":")
					if got := status(game, key); got != code {
						t.Errorf("%s: key %s of %s: %d, want %d", when, key, game, got, code)
					}
				}
			}
			expect("at start", map[string]int{"g1:old-key": 202, "g1:kept-key": 202, "g1:new-key": 401, "g2:inline-key": 202})

			rewrite("g1:new-key\ng1:kept-key\n")
			eventually(t, "the new key to pass", func() bool { return status("g1", "new-key") == 202 })
			expect("after the reload", map[string]int{"g1:old-key": 401, "g1:kept-key": 202, "g1:new-key": 202, "g2:inline-key": 202})
			if lg.Count(path, "reloaded: 3 API keys for 2 games") == 0 {
				t.Errorf("no reload logged:\n%s", lg)
			}

			rewrite("g1:newer-key\nnot-a-pair-s3cret\ng1:kept-key\n")
			eventually(t, "the broken file's error", func() bool { return lg.Count(path, "line 2 is not game:key", "keeping the previous keys") > 0 })
			expect("after a broken file", map[string]int{"g1:new-key": 202, "g1:newer-key": 401, "g1:kept-key": 202, "g2:inline-key": 202})

			// api_keys (inline) remain, so a file holding no key is taken:
			// the file's keys go, the inline ones stay.
			rewrite("# all keys gone\n")
			eventually(t, "the file's keys to go", func() bool { return status("g1", "new-key") == 401 })
			expect("after the file's keys went", map[string]int{"g1:kept-key": 401, "g2:inline-key": 202})

			for _, secret := range []string{"old-key", "kept-key", "new-key", "newer-key", "s3cret", "inline-key"} {
				if strings.Contains(lg.String(), secret) {
					t.Fatalf("the log shows a key (%s):\n%s", secret, lg)
				}
			}
		})
	}
}

// A reload that would leave no key at all (only api_keys_file set, and it
// now holds none, or is empty as a file rewritten in place is for a moment)
// keeps the previous keys: it would let every request in.
func TestAPIKeysFileWithoutKeysKeepsThePreviousKeys(t *testing.T) {
	for _, tc := range []struct{ name, content, log string }{
		{"no key in it", "# none\n", "holds no key"},
		{"empty", "", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, rewrite := renamed(t, t.TempDir(), "g1:old-key\n")
			_, base, lg := start(t, testenv.Config{"ack": "received", "api_keys_file": path, "api_keys_reload_interval": "100ms"})
			rewrite(tc.content)
			eventually(t, "the refusal", func() bool { return lg.Count(path, tc.log, "keeping the previous keys") > 0 })
			if r := post(t, base+"/v1/events/g1/v/e", ev, "X-API-Key: old-key"); r.status != 202 {
				t.Errorf("the previous key: %v, want 202", r)
			}
			if r := post(t, base+"/v1/events/g1/v/e", ev); r.status != 401 {
				t.Errorf("no key: %v, want 401", r)
			}
		})
	}
}

// api_keys_reload_interval 0 reads the file at start only: no reloader runs.
func TestAPIKeysReloadOff(t *testing.T) {
	path, _ := renamed(t, t.TempDir(), "g1:old-key\n")
	c, _, _ := start(t, testenv.Config{"api_keys_file": path, "api_keys_reload_interval": "0"})
	if c.keysDone != nil {
		t.Error("a reloader runs with api_keys_reload_interval 0")
	}
	c, _, _ = start(t, testenv.Config{"api_keys_file": path})
	if c.keysDone == nil {
		t.Error("no reloader runs by default")
	}
}

package eventing

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// apiKeys maps a game to the SHA-256 digests of its keys. Keys are compared
// by digest in constant time, so neither the key nor its length leaks.
type apiKeys map[string][][sha256.Size]byte

// add adds game:key entries and returns a problem per bad entry. Entries
// are referred to by number only: a key is never echoed, not even a
// malformed one.
func (k apiKeys) add(entries []string, file bool) (problems []string) {
	what := "entry"
	if file {
		what = "line"
	}
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" || file && e[0] == '#' {
			continue
		}
		game, key, ok := strings.Cut(e, ":")
		game, key = strings.TrimSpace(game), strings.TrimSpace(key)
		if !ok || key == "" {
			problems = append(problems, fmt.Sprintf("%s %d is not game:key", what, i+1))
			continue
		}
		if enrich.ValidatePart(fieldname.Game, game) != nil {
			// Not echoed: a key put before the game would show here.
			problems = append(problems, fmt.Sprintf("%s %d: the part before ':' is not a game name (1-%d bytes of A-Z a-z 0-9 . _ + -)",
				what, i+1, enrich.MaxKeyPartBytes))
			continue
		}
		k[game] = append(k[game], sha256.Sum256([]byte(key)))
	}
	return problems
}

func (k apiKeys) count() int {
	n := 0
	for _, ks := range k {
		n += len(ks)
	}
	return n
}

// allows reports whether given is a key of game, in constant time.
func (k apiKeys) allows(game, given string) bool {
	sum := sha256.Sum256([]byte(given))
	match := 0
	for _, d := range k[game] {
		match |= subtle.ConstantTimeCompare(sum[:], d[:])
	}
	return match == 1
}

// keyring holds an instance's API keys: those of api_keys, fixed, and those
// of api_keys_file, re-read when the file's content changes so that keys
// can be rotated without a restart. Requests read it without a lock: a
// reload replaces the whole set at once.
type keyring struct {
	inline apiKeys // api_keys
	path   string  // api_keys_file, or ""
	cur    atomic.Pointer[apiKeys]

	// The file's state, kept by the one goroutine that reloads it.
	sum    [sha256.Size]byte // content last read, loaded or refused
	failed string            // last read error logged
}

func newKeyring(inline apiKeys) *keyring {
	k := &keyring{inline: inline}
	k.cur.Store(&inline)
	return k
}

// current is the key set requests are checked against.
func (k *keyring) current() apiKeys { return *k.cur.Load() }

// load reads the file at start; its keys replace the file's part of the
// set only when it reads and parses whole (the problems name lines).
func (k *keyring) load(path string) (problems []string, err error) {
	k.path = path
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k.sum = sha256.Sum256(data)
	keys, problems := k.withFile(data)
	if len(problems) == 0 {
		k.cur.Store(&keys)
	}
	return problems, nil
}

// withFile is the inline keys plus those of the file content data.
func (k *keyring) withFile(data []byte) (apiKeys, []string) {
	keys := apiKeys{}
	for g, ds := range k.inline {
		keys[g] = append([][sha256.Size]byte(nil), ds...)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	problems := keys.add(lines, true)
	if err := sc.Err(); err != nil {
		problems = append(problems, fmt.Sprintf("line %d: %v", len(lines)+1, err))
	}
	return keys, problems
}

// watch reloads the file every interval until stop is closed. It polls the
// content rather than watching the file with inotify: a Kubernetes Secret
// volume swaps a symlink (..data) to a new directory, which a watch on the
// file's old inode never sees, while a read through the path always gets
// the current content; comparing the content's digest catches a change
// that keeps the size and modification time, too.
func (k *keyring) watch(every time.Duration, log plugin.Logger, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		k.reload(log)
	}
}

// reload re-reads the file and, when its content changed, replaces the
// file's keys. A file that cannot be read or parsed, an empty one (what a
// file rewritten in place shows between truncate and write), or one that
// would leave no key at all where there were keys (every request would be
// let in) keeps the previous keys, with an error naming the file and the
// lines at fault, once per content (or read error); never a key.
func (k *keyring) reload(log plugin.Logger) {
	data, err := os.ReadFile(k.path)
	if err != nil {
		if msg := err.Error(); msg != k.failed {
			k.failed = msg
			log.Errorf("api_keys_file %q cannot be read; keeping the previous keys: %v", k.path, err)
		}
		return
	}
	k.failed = ""
	sum := sha256.Sum256(data)
	if sum == k.sum {
		return
	}
	k.sum = sum
	keys, problems := k.withFile(data)
	switch {
	case len(data) == 0:
		log.Errorf("api_keys_file %q is empty; keeping the previous keys "+
			"(a file rewritten in place is empty for a moment: replace it by a rename instead)", k.path)
	case len(problems) > 0:
		log.Errorf("api_keys_file %q: %s; keeping the previous keys", k.path, strings.Join(problems, "; "))
	case keys.count() == 0 && k.current().count() > 0:
		log.Errorf("api_keys_file %q holds no key; keeping the previous keys "+
			"(no key would let every request in: to turn API keys off, restart without them)", k.path)
	default:
		k.cur.Store(&keys)
		log.Infof("api_keys_file %q reloaded: %d API keys for %d games", k.path, keys.count(), len(keys))
	}
}

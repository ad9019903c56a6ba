package studio

import (
	"sync"
	"time"
)

// Sign-in throttling: after maxFailures wrong passwords for one user name
// within failureWindow, that name may not sign in until the window has
// passed since its last failure. bcrypt already makes each guess slow; this
// bounds how many guesses one account can take.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
	maxTracked    = 10000 // names remembered at most (an attacker's made-up names cannot grow the map without bound)
)

type throttle struct {
	mu   sync.Mutex
	fail map[string][]time.Time
}

func (t *throttle) recent(name string, now time.Time) []time.Time {
	var keep []time.Time
	for _, at := range t.fail[name] {
		if now.Sub(at) < failureWindow {
			keep = append(keep, at)
		}
	}
	return keep
}

// blocked reports whether name has used up its failures.
func (t *throttle) blocked(name string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(name, now)) >= maxFailures
}

// failed records a wrong password for name.
func (t *throttle) failed(name string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail == nil {
		t.fail = map[string][]time.Time{}
	}
	if len(t.fail) >= maxTracked {
		for n := range t.fail {
			if len(t.recent(n, now)) == 0 {
				delete(t.fail, n)
			}
		}
		if len(t.fail) >= maxTracked {
			clear(t.fail)
		}
	}
	t.fail[name] = append(t.recent(name, now), now)
}

// succeeded forgets name's failures.
func (t *throttle) succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fail, name)
}

package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var listenRe = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// eventingURL returns the base URL the newest eventing instance logged.
func eventingURL(t testing.TB) string {
	lines := flbhost.LogsContaining("[input:eventing:", "listening on http://127.0.0.1:")
	if len(lines) == 0 {
		t.Fatal("eventing did not log its address")
	}
	return listenRe.FindStringSubmatch(lines[len(lines)-1])[1]
}

// pump moves what an input buffers into an output, as Fluent Bit's engine
// does: each append is flushed until the output returns OK (Retry_Limit
// no_limits). It stops when stop is closed and the input is drained.
func pump(t testing.TB, in *flbhost.InputInstance, out *flbhost.OutputInstance, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				for _, a := range in.Drain() {
					deliver(t, out, a)
				}
				return
			default:
			}
			in.WaitBytes(1, 200*time.Millisecond)
			for _, a := range in.Drain() {
				deliver(t, out, a)
			}
		}
	}()
	return &wg
}

func deliver(t testing.TB, out *flbhost.OutputInstance, a flbhost.Append) {
	for attempt := 0; ; attempt++ {
		r := flbhost.Result(out.Flush(a.Data, a.Tag))
		if r == flbhost.FlbOK {
			return
		}
		if r == flbhost.FlbError || attempt > 50 {
			t.Errorf("flush of %d bytes: result %d after %d attempts", len(a.Data), r, attempt+1)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// event is one record's contract fields.
type event struct {
	uuid, firedTS, game, version, name, body string
}

func decodeEvents(t testing.TB, apps []flbhost.Append) []event {
	t.Helper()
	var out []event
	for _, a := range apps {
		d := record.NewDecoder(a.Data)
		var r record.Record
		for d.Next(&r) {
			get := func(k string) string {
				v, _ := r.Body.Get(k)
				s, _ := v.Str()
				return string(s)
			}
			out = append(out, event{get("uuid"), get("fired_ts"), get("game"), get("version"), get("event"), get("body")})
		}
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func postJSON(url, body string) (int, string, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), nil
}

func eventJSON(req, i int) string {
	return fmt.Sprintf(`{"req":%d,"i":%d,"name":"caf\u00e9 \"q\"","score":%d.5}`, req, i, i)
}

package eventing

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// scrape returns the values of label in the series of metric served on
// port, sorted.
func scrape(t *testing.T, port, metric, label string) []string {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	re := regexp.MustCompile(`(?m)^` + metric + `\{[^}]*` + label + `="([^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// Only the input's own error codes become values of the code label: an
// answer with any other code (none today; a future code path, or a code
// taken from a request by mistake) counts as OTHER, so nothing a client
// sends can add a series.
func TestMetricCodesOnlyFromTheCodeList(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	c, _, _ := start(t, testenv.Config{"ack": "received", "metrics_port": port, "metrics_listen": "127.0.0.1"})
	req := httptest.NewRequest(http.MethodPost, "/v1/events/g/1/e", nil)
	for _, tc := range []struct {
		e   *apiError
		bad []*apiError
	}{
		{reqError(http.StatusBadRequest, codeNotJSON, "m"), nil},
		{reqError(http.StatusBadRequest, "CLIENT_CHOSEN_1", "m"), nil},
		{reqError(http.StatusBadRequest, "CLIENT\xff", "m"), nil},
		{nil, []*apiError{{Status: 400, Code: codeNotObject, Index: 0}, {Status: 400, Code: "CLIENT_CHOSEN_2", Index: 1}}},
	} {
		c.finish(httptest.NewRecorder(), req, enrich.Key{Game: "g", Version: "1", Event: "e"}, tc.e, tc.bad, 1)
	}
	for _, tc := range []struct {
		metric string
		want   []string
	}{
		{"whirlpool_eventing_requests_total", []string{"", metrics.Other, codeNotJSON}},
		{"whirlpool_eventing_events_rejected_total", []string{metrics.Other, codeNotObject}},
	} {
		if got := scrape(t, port, tc.metric, "code"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s{code} series %q, want %q", tc.metric, got, tc.want)
		}
	}
}

// Every answered request is one observation of the latency histogram,
// whatever its status.
func TestMetricRequestLatencyCountsEveryAnswer(t *testing.T) {
	port := testenv.FreePort(t)
	_, url, _ := start(t, testenv.Config{"ack": "received", "metrics_port": port})
	post(t, url+"/v1/events/g/1/e", `{"a":1}`)
	post(t, url+"/v1/events/g/1/e", `not json`)
	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `whirlpool_eventing_request_seconds_count{instance="eventing.0",plugin="eventing"} 2`; !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(b) {
		t.Errorf("metrics lack %q:\n%s", want, b)
	}
}

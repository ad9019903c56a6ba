package fluentbit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// timensExec builds testdata/timens-exec.c and returns the command and
// arguments that run bin with its monotonic clock offset ahead of this
// machine's. It skips t where that cannot work (no C compiler, no time
// namespaces: Linux 5.6 and root are needed), saying why.
func timensExec(t testing.TB, offset time.Duration, bin string) (string, []string) {
	t.Helper()
	if offset < 0 || offset >= time.Second {
		t.Fatalf("clock offset %v: want 0 to 1 s", offset)
	}
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc to build e2e/fluentbit/testdata/timens-exec.c (a clock offset gives the edge another node's timer phase)")
	}
	exe := filepath.Join(t.TempDir(), "timens-exec")
	if out, err := exec.Command(cc, "-O2", "-Wall", "-o", exe, filepath.Join(root, "e2e", "fluentbit", "testdata", "timens-exec.c")).CombinedOutput(); err != nil {
		t.Fatalf("building timens-exec: %v\n%s", err, out)
	}
	ns := strconv.FormatInt(offset.Nanoseconds(), 10)
	if out, err := exec.Command(exe, ns, "true").CombinedOutput(); err != nil {
		t.Skipf("needs a time namespace (Linux 5.6+, as root) to give the edge another node's timer phase: %v: %s", err, out)
	}
	return exe, []string{ns, bin}
}

// TestTimensExecOffsetsTheMonotonicClock checks the helper does what the
// latency benchmark relies on: the command's monotonic clock is ahead by
// the offset asked, and nothing else is.
func TestTimensExecOffsetsTheMonotonicClock(t *testing.T) {
	for _, offset := range []time.Duration{0, 250 * time.Millisecond, 999 * time.Millisecond} {
		exe, args := timensExec(t, offset, "cat")
		out, err := exec.Command(exe, append(args, "/proc/self/timens_offsets")...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", offset, err, out)
		}
		want := fmt.Sprintf("monotonic 0 %d boottime 0 0", offset.Nanoseconds())
		if strings.Join(strings.Fields(string(out)), " ") != want {
			t.Errorf("offset %v: the command's clock offsets are\n%q, want\n%q", offset, out, want)
		}
	}
	if _, err := os.Stat("/proc/self/timens_offsets"); err == nil {
		exe, _ := timensExec(t, 0, "true")
		if out, err := exec.Command(exe, "1000000000", "true").CombinedOutput(); err == nil {
			t.Errorf("an offset of a whole second was taken (%s); want an error naming the range", out)
		}
	}
}

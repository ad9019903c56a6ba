// Package demo_test runs `make demo` (scripts/demo) in the real Fluent Bit,
// as a new user would: the demo sends events through both pipelines and
// checks that the rows and failures in the database are exactly what its
// load generator sent. It runs the classic files; DEMO_FORMATS="conf yaml"
// runs both formats (e2e/fluentbit runs the YAML files under faults).
package demo_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMakeDemo(t *testing.T) {
	fb := testenv.FluentBit(t)
	testenv.SharePostgres(t)
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	formats := strings.Fields(os.Getenv("DEMO_FORMATS"))
	if len(formats) == 0 {
		formats = []string{"conf"}
	}
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "demo")
			cmd.Dir = root
			logs := t.TempDir()
			cmd.Env = append(os.Environ(), "FLUENT_BIT="+fb, "DEMO_FORMAT="+format,
				"WHIRLPOOL_EDGE_STORAGE_PATH="+filepath.Join(logs, "edge-storage"),
				"WHIRLPOOL_PROCESSOR_STORAGE_PATH="+filepath.Join(logs, "processor-storage"))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "== check: OK") {
				t.Fatalf("make demo (DEMO_FORMAT=%s): %v\n%s", format, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "== check") {
					t.Log(line)
				}
			}
		})
	}
}

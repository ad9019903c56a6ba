// Package image tests the container image without a container runtime:
//
//   - TestPluginsLoadOnTheImagesGlibc: every build/*.so needs no GLIBC_x.y
//     symbol version newer than the runtime image's glibc (RUNTIME_GLIBC in
//     the Dockerfile, beside the pinned FLUENT_BIT_IMAGE);
//   - TestImageTreeRunsBothTiers: scripts/image-tree (what the Dockerfile's
//     build stage runs and its runtime stage copies) lays the image's files
//     out under build/image/; both tiers then run in the real Fluent Bit from
//     that tree, with the image's entry files (plugins through the plugins
//     file in /fluent-bit/plugins, pipelines from /fluent-bit/etc), and an
//     event posted to the edge lands as a row in PostgreSQL: in both
//     formats, and once as the Kubernetes pods run it (the manifests'
//     runAsUser/runAsGroup, a read-only root filesystem, only the storage
//     directory writable; needs root, unshare and setpriv, else skipped).
//
// There is no chroot here, so the tree's text files are copied with their
// absolute /fluent-bit/ prefix rewritten to the tree's location; nothing
// else is changed. What this does not prove: that the official image's
// Fluent Bit behaves like ../shared/bin/fluent-bit (both are 5.1.1), or
// anything about the image's own libraries; the plugins link only against
// glibc, which the first test covers.
//
// Needs make (build/*.so), Fluent Bit 5.1 ($FLUENT_BIT or
// ../shared/bin/fluent-bit), PostgreSQL and the SQS emulator (scripts/stack
// up test).
package image

import (
	"bufio"
	"database/sql"
	"debug/elf"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// dockerfile is the repository's Dockerfile, parsed for what the tests
// need.
type dockerfile struct {
	args map[string]string // ARG defaults before the first FROM
	runs []string          // RUN instructions, in order
	// copies are the COPY instructions of each stage, by stage name.
	copies map[string][]string
	stages []string
}

func readDockerfile(t *testing.T, root string) dockerfile {
	t.Helper()
	path := filepath.Join(root, "Dockerfile")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{args: map[string]string{}, copies: map[string][]string{}}
	stage := ""
	// Instructions continue over lines ending in a backslash.
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), " ")
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if stage == "" && len(f) == 2 {
				k, v, ok := strings.Cut(f[1], "=")
				if !ok {
					t.Fatalf("%s: instruction %d: global ARG %s has no default", path, i+1, f[1])
				}
				d.args[k] = v
			}
		case "FROM":
			if len(f) != 4 || !strings.EqualFold(f[2], "AS") {
				t.Fatalf("%s: instruction %d: FROM without a stage name: %q", path, i+1, line)
			}
			stage = f[3]
			d.stages = append(d.stages, stage)
		case "RUN":
			d.runs = append(d.runs, strings.TrimSpace(strings.TrimPrefix(line, f[0])))
		case "COPY":
			d.copies[stage] = append(d.copies[stage], strings.Join(f[1:], " "))
		}
	}
	return d
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// builtPlugins returns build/<plugin>.so for the four plugins, failing the
// test when one is missing or older than a source it is built from: these
// tests check what make built, so they must not check stale files.
func builtPlugins(t *testing.T, root string) []string {
	t.Helper()
	newest, newestFile := testenv.NewestPluginSource(root)
	var sos []string
	for _, name := range []string{"in_eventing", "out_sqs", "in_sqs", "out_redshift"} {
		so := filepath.Join(root, "build", name+".so")
		fi, err := os.Stat(so)
		switch {
		case err != nil:
			t.Fatalf("%v: run make", err)
		case fi.ModTime().Before(newest):
			t.Fatalf("build/%s.so is older than %s: run make", name, newestFile)
		}
		sos = append(sos, so)
	}
	return sos
}

// glibcVersion parses "2.41" or "GLIBC_2.41" into comparable numbers.
func glibcVersion(s string) (major, minor int, ok bool) {
	s = strings.TrimPrefix(s, "GLIBC_")
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	b, _, _ = strings.Cut(b, ".") // GLIBC_2.2.5
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	return x, y, err1 == nil && err2 == nil
}

// newestGlibc returns the newest GLIBC_x.y version the shared object's
// imported symbols require, and one symbol that requires it.
func newestGlibc(path string) (version, symbol string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		return "", "", fmt.Errorf("%s: reading imported symbols: %w", path, err)
	}
	bm, bn := -1, -1
	for _, s := range syms {
		if !strings.HasPrefix(s.Version, "GLIBC_") {
			continue
		}
		m, n, ok := glibcVersion(s.Version)
		if !ok {
			return "", "", fmt.Errorf("%s: symbol %s has an unreadable version %q", path, s.Name, s.Version)
		}
		if m > bm || (m == bm && n > bn) {
			bm, bn, version, symbol = m, n, s.Version, s.Name
		}
	}
	if version == "" {
		return "", "", fmt.Errorf("%s: no GLIBC_ symbol versions found (not a cgo shared object?)", path)
	}
	return version, symbol, nil
}

// TestPluginsLoadOnTheImagesGlibc: the plugins built here need no newer
// glibc than the runtime image has, and the Dockerfile declares that
// glibc beside the image it is the glibc of. The Dockerfile's build stage
// runs this test too, on the plugins it built.
func TestPluginsLoadOnTheImagesGlibc(t *testing.T) {
	root := moduleRoot(t)
	d := readDockerfile(t, root)
	img, limit := d.args["FLUENT_BIT_IMAGE"], d.args["RUNTIME_GLIBC"]
	if !regexp.MustCompile(`^cr\.fluentbit\.io/fluent/fluent-bit:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$`).MatchString(img) {
		t.Fatalf("Dockerfile: ARG FLUENT_BIT_IMAGE=%q is not the official image pinned to a version", img)
	}
	if dbg := d.args["FLUENT_BIT_DEBUG_IMAGE"]; !strings.HasPrefix(dbg, strings.SplitN(img, "@", 2)[0]+"-debug") {
		t.Errorf("Dockerfile: ARG FLUENT_BIT_DEBUG_IMAGE=%q is not the -debug tag of FLUENT_BIT_IMAGE %q", dbg, img)
	}
	lm, ln, ok := glibcVersion(limit)
	if !ok {
		t.Fatalf("Dockerfile: ARG RUNTIME_GLIBC=%q is not a glibc version like 2.41", limit)
	}
	for _, so := range builtPlugins(t, root) {
		v, sym, err := newestGlibc(so)
		if err != nil {
			t.Error(err)
			continue
		}
		m, n, _ := glibcVersion(v)
		if m > lm || (m == lm && n > ln) {
			t.Errorf("%s needs %s (symbol %s), newer than the glibc %s of %s: it would not load there (build on an older glibc, e.g. the Dockerfile's GO_IMAGE)",
				filepath.Base(so), v, sym, limit, img)
		} else {
			t.Logf("%s: newest glibc symbol %s (%s) <= %s", filepath.Base(so), v, sym, limit)
		}
	}
}

// TestNewestGlibcReadsVersions keeps the check honest: the version parser
// orders what it should, and newestGlibc finds a GLIBC_2.x version in the
// Fluent Bit binary (which needs one), so the test above cannot pass by
// reading nothing.
func TestNewestGlibcReadsVersions(t *testing.T) {
	for _, tc := range []struct {
		in         string
		maj, minor int
	}{{"GLIBC_2.41", 2, 41}, {"GLIBC_2.2.5", 2, 2}, {"2.36", 2, 36}} {
		m, n, ok := glibcVersion(tc.in)
		if !ok || m != tc.maj || n != tc.minor {
			t.Errorf("glibcVersion(%q) = %d.%d %v", tc.in, m, n, ok)
		}
	}
	bin, ok, _ := testenv.FluentBitPath()
	if !ok {
		t.Skip("no Fluent Bit binary to read")
	}
	v, sym, err := newestGlibc(bin)
	if err != nil {
		t.Fatal(err)
	}
	if m, n, _ := glibcVersion(v); m != 2 || n < 2 {
		t.Errorf("fluent-bit: newest glibc %s (%s), want some 2.x", v, sym)
	}
}

// imageTree runs scripts/image-tree into build/image, checks that it is
// what the Dockerfile builds and copies, and returns a copy of the tree
// whose files refer to the copy instead of /fluent-bit.
func imageTree(t *testing.T, root string) string {
	t.Helper()
	d := readDockerfile(t, root)
	// The Dockerfile runs the script into /out and each image stage copies
	// /out/ to /: nothing else reaches the image.
	built := false
	for _, r := range d.runs {
		if strings.Contains(r, "scripts/image-tree /out ") {
			built = true
		}
	}
	if !built {
		t.Fatalf("Dockerfile: no RUN of scripts/image-tree /out (the tree this test runs is what it builds): RUN %q", d.runs)
	}
	for _, stage := range []string{"debug", "runtime"} {
		if got := d.copies[stage]; len(got) != 1 || got[0] != "--from=build /out/ /" {
			t.Errorf("Dockerfile: stage %s copies %q, want exactly COPY --from=build /out/ /", stage, got)
		}
	}
	if d.stages[len(d.stages)-1] != "runtime" {
		t.Errorf("Dockerfile: the last (default) stage is %s, want runtime", d.stages[len(d.stages)-1])
	}
	builtPlugins(t, root) // what the script copies
	tree := filepath.Join(root, "build", "image")
	cmd := exec.Command(filepath.Join(root, "scripts", "image-tree"), tree)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image-tree %s: %v\n%s", tree, err, out)
	}
	// Copy with the image's absolute prefix rewritten: /fluent-bit/... becomes
	// <copy>/fluent-bit/...; the shared objects are linked, not copied.
	// Readable by every user (t.TempDir is not), for the pod-like run.
	dst, err := os.MkdirTemp("", "whirlpool-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(tree, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tree, path)
		out := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if strings.HasSuffix(path, ".so") {
			return os.Symlink(path, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), " /fluent-bit/", " "+dst+"/fluent-bit/"))
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestImageTreeRunsBothTiers: the image's files alone run both tiers, in
// either format, and carry an event from the edge's HTTP endpoint into a
// PostgreSQL table.
func TestImageTreeRunsBothTiers(t *testing.T) {
	bin := testenv.FluentBit(t)
	root := moduleRoot(t)
	tree := imageTree(t, root)

	// The image's licenses: one directory per module linked into the plugins.
	lic, _ := filepath.Glob(filepath.Join(tree, "fluent-bit", "licenses", "github.com", "*", "*"))
	if len(lic) == 0 {
		t.Errorf("the image tree has no licenses under /fluent-bit/licenses")
	}
	for _, conf := range []string{"edge.conf", "edge.yaml", "processor.conf", "processor.yaml"} {
		want, err := os.ReadFile(filepath.Join(root, "conf", conf))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, "build", "image", "fluent-bit", "etc", conf))
		if err != nil || string(got) != string(want) {
			t.Errorf("/fluent-bit/etc/%s in the image is not conf/%s (err %v)", conf, conf, err)
		}
	}

	for _, format := range []string{"conf", "yaml"} {
		t.Run(format, func(t *testing.T) { runTiers(t, bin, root, tree, format, false) })
	}
	// As the pods run it (deploy/kubernetes): as the manifests' runAsUser and
	// runAsGroup, with the root filesystem read-only (a private mount
	// namespace) and only the storage directory writable.
	t.Run("conf-as-pod", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root, to drop to the pods' user in a read-only mount namespace")
		}
		for _, tool := range []string{"unshare", "setpriv"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("needs %s (util-linux)", tool)
			}
		}
		runTiers(t, bin, root, tree, "conf", true)
	})
}

// podUser returns the runAsUser and runAsGroup of a tier's manifest.
func podUser(t *testing.T, root, tier string) (uid, gid int) {
	t.Helper()
	path := filepath.Join(root, "deploy", "kubernetes", "base", tier+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := regexp.MustCompile(`(?m)^\s+runAsUser:\s*(\d+)\s*$`).FindSubmatch(b)
	g := regexp.MustCompile(`(?m)^\s+runAsGroup:\s*(\d+)\s*$`).FindSubmatch(b)
	if u == nil || g == nil {
		t.Fatalf("%s: no runAsUser and runAsGroup", path)
	}
	uid, _ = strconv.Atoi(string(u[1]))
	gid, _ = strconv.Atoi(string(g[1]))
	return uid, gid
}

func runTiers(t *testing.T, bin, root, tree, format string, pod bool) {
	dsn := testenv.Postgres(t)
	testmodel.ApplyFile(t, dsn, filepath.Join(root, "conf", "model.yaml"))
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqs := testenv.SQS(t, "whirlpool-events")
	ports := testenv.FreePorts(t, 6)
	dir := testenv.ShortDir(t) // the processor's forward socket lives under it
	storage := dir
	if pod {
		// Storage the pods' users own, reachable by them.
		storage = testenv.ShortDir(t)
		if err := os.Chmod(storage, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tier := range []string{"edge", "processor"} {
			uid, gid := podUser(t, root, tier)
			p := filepath.Join(storage, tier+"-storage")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	vars := testenv.Pipeline{Storage: storage, Endpoint: sqs.Endpoint, QueueURL: sqs.QueueURL("whirlpool-events"), DSN: dsn, Ports: ports}.Vars()
	env := testenv.TierEnv(vars)
	url := func(port, path string) string { return "http://127.0.0.1:" + port + path }

	// The image's CMD for each tier: -c /fluent-bit/plugins/<tier>.<format>,
	// no -e: the entry file loads the plugins.
	command := func(tier string) []string {
		c := []string{bin, "-c", filepath.Join(tree, "fluent-bit", "plugins", tier+"."+format)}
		if !pod {
			return c
		}
		uid, gid := podUser(t, root, tier)
		s := vars["WHIRLPOOL_"+strings.ToUpper(tier)+"_STORAGE_PATH"]
		// The storage directory stays writable (its own bind mount), then /
		// is remounted read-only, then the pod's user runs Fluent Bit.
		script := `mount --bind "$1" "$1" && mount -o remount,bind,ro / || exit 97
if touch /.whirlpool-rw-probe 2>/dev/null; then echo "the root filesystem is still writable" >&2; exit 98; fi
shift; exec setpriv --reuid ` + strconv.Itoa(uid) + ` --regid ` + strconv.Itoa(gid) + ` --clear-groups "$@"`
		return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", s}, c...)
	}
	start(t, "processor", command("processor"), env, dir, url(ports[4], "/healthz"), url(ports[5], "/healthz"))
	start(t, "edge", command("edge"), env, dir, url(ports[0], "/healthz"), url(ports[3], "/healthz"))

	player := fmt.Sprintf("image-%s-%d", format, time.Now().UnixNano())
	body := `{"player_id":"` + player + `","platform":"ios","ts":"2026-11-30T12:00:00Z"}`
	resp, err := http.Post(url(ports[0], "/v1/events/pixel_quest/1.2/session_start"), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("posting to the edge: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("edge answered %s to a valid event", resp.Status)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pixel_quest.session_start WHERE player_id = $1`, player).Scan(&n)
		if err == nil && n == 1 {
			t.Logf("%s (as a pod: %v): the event is a row of pixel_quest.session_start", format, pod)
			if pod {
				checkOwnedBy(t, root, vars)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no row for player %s in pixel_quest.session_start after 90 s (count %d, err %v); logs in %s", format, player, n, err, dir)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkOwnedBy: in the pod-like run, each tier wrote its chunks as the
// pod's user (so it did run as that user, and could write its storage).
func checkOwnedBy(t *testing.T, root string, vars map[string]string) {
	t.Helper()
	for _, tier := range []string{"edge", "processor"} {
		uid, _ := podUser(t, root, tier)
		dir := vars["WHIRLPOOL_"+strings.ToUpper(tier)+"_STORAGE_PATH"]
		files := 0
		_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || path == dir {
				return nil
			}
			files++
			if fi, err := e.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
					t.Errorf("%s: %s is owned by uid %d, not the pod's %d", tier, path, st.Uid, uid)
				}
			}
			return nil
		})
		if files == 0 {
			t.Errorf("%s: nothing in its storage %s", tier, dir)
		}
	}
}

// start runs one tier until the test ends (SIGTERM, then the process's
// exit is awaited) and waits for its health URLs.
func start(t *testing.T, tier string, command, env []string, dir string, health ...string) {
	t.Helper()
	logPath := filepath.Join(dir, tier+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, logf, logf, "/"
	conf := strings.Join(command, " ")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the %s: %v", tier, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", tier, logPath, tail(logPath, 40))
		}
	})
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for _, u := range health {
		for {
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case err := <-exited:
				t.Fatalf("the %s (%s) exited: %v\n%s", tier, conf, err, tail(logPath, 40))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the %s is not healthy at %s after 60 s\n%s", tier, u, tail(logPath, 40))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

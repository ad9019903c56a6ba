package studio

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one browser step (a page load, a click and the page
// it leads to).
const stepTimeout = 20 * time.Second

// chromium returns the Chromium to drive, or skips the test (fails it
// when WHIRLPOOL_REQUIRE_CHROMIUM is set, as .ci/run does).
func chromium(t *testing.T) string {
	t.Helper()
	missing := func(msg string) {
		if os.Getenv("WHIRLPOOL_REQUIRE_CHROMIUM") != "" {
			t.Fatal(msg + "; WHIRLPOOL_REQUIRE_CHROMIUM is set")
		}
		t.Skip(msg)
	}
	if p := os.Getenv("WHIRLPOOL_CHROMIUM"); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing("needs Chromium: WHIRLPOOL_CHROMIUM=" + p + " is not an executable file")
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	missing("needs Chromium: none of chromium, chromium-browser, google-chrome on PATH nor /usr/bin/chromium (Debian/Ubuntu: apt-get install --no-install-recommends chromium; .ci/run does), or set WHIRLPOOL_CHROMIUM")
	return ""
}

// browser is one headless Chromium tab on the studio.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // where screenshots go; "" takes none
}

func newBrowser(t *testing.T, exe, base, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // headless as root (CI) needs it
		chromedp.WindowSize(1560, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers' small /dev/shm
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser, under ctx itself: a step's timeout
	// must not end the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: shots}
}

// navigate runs actions that lead to a new page (a visit, a click on a
// link or button) and checks that the page came with wantStatus.
func (b *browser) navigate(what string, wantStatus int, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v; the page shows:\n%s", what, err, b.text())
	}
	if resp == nil || int(resp.Status) != wantStatus {
		status := -1
		if resp != nil {
			status = int(resp.Status)
		}
		b.t.Fatalf("%s: status %d, want %d; the page says:\n%s", what, status, wantStatus, b.text())
	}
}

// visit opens path.
func (b *browser) visit(path string) {
	b.t.Helper()
	b.navigate("visit "+path, http.StatusOK, chromedp.Navigate(b.base+path))
}

// click clicks the element xpath finds and waits for the page it leads to.
func (b *browser) click(xpath string) {
	b.t.Helper()
	b.navigate("click "+xpath, http.StatusOK, chromedp.Click(xpath))
}

// do runs actions on the current page.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that reads something from the current page.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// typeInto types text into the (empty) input or textarea xpath finds.
func (b *browser) typeInto(xpath, text string) {
	b.t.Helper()
	b.do("type into "+xpath, chromedp.SendKeys(xpath, text))
}

// replace clears the input xpath finds and types text.
func (b *browser) replace(xpath, text string) {
	b.t.Helper()
	if get(b, "read the value of "+xpath, chromedp.Value(xpath)) != "" {
		b.do("clear "+xpath, chromedp.Clear(xpath)) // fails on an empty textarea
	}
	b.do("type into "+xpath, chromedp.SendKeys(xpath, text))
}

// choose picks value in the select xpath finds.
func (b *browser) choose(xpath, value string) {
	b.t.Helper()
	b.do("choose "+value+" in "+xpath, chromedp.SetValue(xpath, value))
}

// path returns the current page's path and query.
func (b *browser) path() string {
	b.t.Helper()
	return strings.TrimPrefix(get(b, "location", chromedp.Location()), b.base)
}

// text returns what the page shows (its body's text).
func (b *browser) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// textOf returns the text of the element xpath finds.
func (b *browser) textOf(xpath string) string {
	b.t.Helper()
	return get(b, "read "+xpath, chromedp.Text(xpath))
}

// table returns the text of each cell of the body rows (those with td
// cells) of the table xpath finds; nil when there is none.
func (b *browser) table(xpath string) [][]string {
	b.t.Helper()
	js := `(() => {
		const t = document.evaluate(` + jsString(xpath) + `, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		if (!t) return [];
		return Array.from(t.rows).filter(r => r.cells.length && r.cells[0].tagName === "TD")
			.map(r => Array.from(r.cells).map(c => c.innerText.trim()));
	})()`
	return get(b, "read the table "+xpath, chromedp.Evaluate[[][]string](js))
}

// count returns how many elements xpath finds.
func (b *browser) count(xpath string) int {
	b.t.Helper()
	return get(b, "count "+xpath, chromedp.Evaluate[int](`document.evaluate(`+jsString("count("+xpath+")")+`, document, null, XPathResult.NUMBER_TYPE, null).numberValue`))
}

// sees fails the test unless the page shows every one of want.
func (b *browser) sees(page string, want ...string) {
	b.t.Helper()
	text := b.text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.t.Fatalf("%s does not show %q; it shows:\n%s", page, w, text)
		}
	}
}

// lacks fails the test when the element xpath finds shows any of unwanted.
func (b *browser) lacks(page, xpath string, unwanted ...string) {
	b.t.Helper()
	text := b.textOf(xpath)
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			b.t.Fatalf("%s shows %q; it should not:\n%s", page, u, text)
		}
	}
}

// screenshot keeps the whole page as shots/name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

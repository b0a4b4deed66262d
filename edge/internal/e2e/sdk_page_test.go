//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// What TestSDKInBrowser's pages are made of: the page server, the page
// itself and the browser helpers.

// sdkIIFE is the browser build of Stytch's SDK, global `stytch`, as npm
// installs it (package.json pins @stytch/vanilla-js).
const sdkIIFE = "node_modules/@stytch/vanilla-js/dist/iife/index.js"

// sdkPage is the app's page: the SDK, unchanged, loaded from the page's
// own server, and a few helpers the test calls:
//
//   - sdk() is the page's headless client, made on first use;
//   - call(f) awaits f and gives {ok: value} or {error: what was thrown};
//   - cookies() are document.cookie by name;
//   - sdkLog lists every fetch the page made and its answer, so that a
//     failure shows what the SDK sent and got. fetch is wrapped before
//     the SDK loads; the SDK itself is not touched.
//
// The server puts the test's settings in place of SETTINGS.
const sdkPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latch SDK test page</title></head>
<body>
<div id="login"></div>
<script>
window.sdkLog = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init = {}) => {
  const entry = {method: init.method || 'GET', url: String(input), body: init.body};
  sdkLog.push(entry);
  try {
    const resp = await realFetch(input, init);
    entry.status = resp.status;
    entry.answer = await resp.clone().text();
    return resp;
  } catch (e) {
    entry.error = String(e);
    throw e;
  }
};
</script>
<script id="settings" type="application/json">SETTINGS</script>
<script src="/sdk.js"></script>
<script>
const settings = JSON.parse(document.getElementById('settings').textContent);
const options = {endpoints: {testAPIURL: settings.api, liveAPIURL: settings.api,
  clientsideServicesIframeURL: settings.frame}};
let headless;
window.sdk = () => headless ??= new stytch.StytchHeadlessClient(settings.publicToken, options);
window.call = async (f) => {
  try {
    return {ok: (await f()) ?? null};
  } catch (e) {
    return {error: {name: e.name, message: e.message, status_code: e.status_code, error_type: e.error_type}};
  }
};
window.cookies = () => Object.fromEntries(document.cookie.split('; ').filter(Boolean)
  .map(c => [c.slice(0, c.indexOf('=')), decodeURIComponent(c.slice(c.indexOf('=') + 1))]));
</script>
</body></html>
`

// sdkSettings are what the page is told: where Latch is, its public token
// and the page the SDK loads in its client-side services iframe.
type sdkSettings struct {
	PublicToken string `json:"publicToken"`
	API         string `json:"api"`
	Frame       string `json:"frame"`
}

// sdkListen listens on a free loopback port and returns the listener and
// its origin. The origin is known before the page server serves, so that
// Latch can be started with it and the page then told Latch's address.
func sdkListen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// sdkServePages serves the page on ln until t ends: the SDK at /sdk.js and
// the page at every other path (the app's /, and the /authenticate and
// /reset pages mailed links lead to).
func sdkServePages(t *testing.T, ln net.Listener, js []byte, settings sdkSettings) {
	t.Helper()
	raw, err := json.Marshal(settings) // escapes <, > and &: safe in a script element
	if err != nil {
		t.Fatal(err)
	}
	page := strings.Replace(sdkPage, "SETTINGS", string(raw), 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdk.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(js)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(page))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
}

// sdkRequire returns the SDK's browser build and the Chromium to run it
// in, skipping the test when either is missing — unless CI=true, where
// .ci/run installs both and their absence is a failure.
func sdkRequire(t *testing.T) (js []byte, chromium string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	js, err = os.ReadFile(filepath.Join(root, sdkIIFE))
	if err != nil {
		msg := "no Stytch SDK (" + sdkIIFE + "); run `npm ci` in the repository: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return js, requireChromium(t)
}

// browserOptions are Chromium's options for the e2e tests: its requests
// go through browserProxy, loopback included.
func browserOptions(t *testing.T, chromium string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(900, 1000),
		chromedp.ProxyServer("http://"+browserProxy(t)), chromedp.Flag("proxy-bypass-list", "<-loopback>"))
}

// sdkBrowser starts Chromium for the test, stopped when t ends.
func sdkBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserOptions(t, chromium)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// sdkTab opens url in a tab of its own browser context (its own cookies
// and storage), closed when t ends. When t fails, the tab's sdkLog is
// logged: every call the SDK made and what it got.
func sdkTab(t *testing.T, browser context.Context, url string) context.Context {
	t.Helper()
	tab := browserTab(t, browser)
	t.Cleanup(func() {
		if t.Failed() {
			sdkDumpLog(t, tab)
		}
	})
	do(t, tab, "open "+url, chromedp.Navigate(url))
	return tab
}

// sdkDumpLog logs the fetches the page in tab made, with their answers.
func sdkDumpLog(t *testing.T, tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	log, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.sdkLog || [], null, 1)`))
	if err != nil {
		t.Logf("the page's calls: %v", err)
		return
	}
	t.Logf("the page's calls and their answers:\n%s", log)
}

// sdkOutcome is what the page's call() gives: the value, or what was
// thrown.
type sdkOutcome struct {
	OK    json.RawMessage `json:"ok"`
	Error *sdkJSError     `json:"error"`
}

// sdkJSError is an error thrown in the page; a StytchAPIError carries
// the API's status and error type.
type sdkJSError struct {
	Name       string `json:"name"`
	Message    string `json:"message"`
	StatusCode int    `json:"status_code"`
	ErrorType  string `json:"error_type"`
}

// sdkCall runs the async JS function fn with args (JSON-encoded) in the
// page and returns its outcome.
func sdkCall(t *testing.T, tab context.Context, what, fn string, args ...any) sdkOutcome {
	t.Helper()
	if args == nil {
		args = []any{} // [], not null, to spread
	}
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	expr := "call(() => (" + fn + ")(..." + string(raw) + "))"
	return get(t, tab, what, chromedp.Evaluate[sdkOutcome](expr, chromedp.EvalAwaitPromise))
}

// sdkMust is sdkCall for a call that must succeed: its value is decoded
// into out (unless out is nil).
func sdkMust(t *testing.T, tab context.Context, what string, out any, fn string, args ...any) {
	t.Helper()
	res := sdkCall(t, tab, what, fn, args...)
	if res.Error != nil {
		t.Fatalf("%s: %s: %s", what, res.Error.Name, res.Error.Message)
	}
	if out != nil {
		if err := json.Unmarshal(res.OK, out); err != nil {
			t.Fatalf("%s: %v in %s", what, err, res.OK)
		}
	}
}

// sdkShot saves a screenshot of the page as <test>-<name>.png in dir
// (saveShot).
func sdkShot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	saveShot(t, tab, dir, name)
}

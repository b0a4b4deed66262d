package sdk

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// framePath is the page Stytch's SDK loads in a hidden iframe for a few
// helpers it runs on Stytch's own origin (phone number formatting, Google
// One Tap), even on its email code screen. Pointing the SDK's
// clientsideServicesIframeURL here keeps the app's pages from loading
// anything from Stytch: the page answers every question "unsupported" at
// once, and the SDK goes on without (an email address needs no phone
// formatting).
const framePath = "/sdk/clientside-services/index.html"

// frameScript answers each question the SDK posts with a refusal on the
// port it sent.
const frameScript = `addEventListener("message",function(e){if(e.ports&&e.ports[0])e.ports[0].postMessage({success:false,error:{name:"Error",message:"not supported by Latch"}})});`

// serveFrame writes the iframe page: no content but its script, which the
// page's CSP allows by hash, and only the authorized origins may frame it.
func (s *surface) serveFrame(w http.ResponseWriter) {
	sum := sha256.Sum256([]byte(frameScript))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+
		"'; frame-ancestors "+strings.Join(s.origins, " "))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("<!doctype html><meta charset=utf-8><title>Latch</title><script>" + frameScript + "</script>\n"))
}

package mailbox

import (
	"net"
	"net/http"
	"strings"
)

// Loopback reports whether host, a name or an IP address without port or
// brackets, is loopback: localhost, 127.0.0.0/8 or ::1. A page listening
// anywhere else is readable by whoever can reach it, and the commands
// serve one there only when told to.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostCheck lets through only the requests whose Host header names this
// page, so that a DNS-rebinding page — one at evil.example whose name
// was pointed at 127.0.0.1 after it loaded — cannot read the mail: its
// requests carry Host: evil.example. Loopback Hosts pass, with any port,
// and so do the hosts of publicAddrs, the host:port addresses the page
// is served on off loopback; one with no host or an unspecified one
// (":8025", "0.0.0.0:8025", "[::]:8025") lets any IP address through,
// since a browser sends an IP address as Host only for a URL that names
// it, and a rebinding page is reached by a name. See RATIONALE.md, "Why
// does the dev mailbox check the Host?".
type hostCheck struct {
	names  []string
	anyIP  bool
	handle http.Handler
}

func newHostCheck(h http.Handler, publicAddrs []string) *hostCheck {
	c := &hostCheck{handle: h}
	for _, addr := range publicAddrs {
		host := hostOf(addr)
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			c.anyIP = true
			continue
		}
		c.names = append(c.names, host)
	}
	return c
}

func (c *hostCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.allows(hostOf(r.Host)) {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "mailbox: this Host is not the mailbox's; open it by its loopback address", http.StatusMisdirectedRequest)
		return
	}
	c.handle.ServeHTTP(w, r)
}

func (c *hostCheck) allows(host string) bool {
	ip := net.ParseIP(host)
	if Loopback(host) || c.anyIP && ip != nil {
		return true
	}
	for _, name := range c.names {
		if strings.EqualFold(name, host) || ip != nil && ip.Equal(net.ParseIP(name)) {
			return true
		}
	}
	return false
}

// hostOf returns the host of a Host header or host:port address, without
// its port or brackets.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	if h, ok := strings.CutPrefix(hostport, "["); ok {
		if h, ok := strings.CutSuffix(h, "]"); ok {
			return h
		}
	}
	return hostport
}

package testharness

import (
	"testing"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestConformance runs the shared API conformance suite against the
// engine under wazero, over real HTTP, with the harness's movable clock.
func TestConformance(t *testing.T) {
	s := Start(t)
	conformance.Run(t, conformance.Target{
		URL:       s.URL,
		ProjectID: s.ProjectID,
		Secret:    s.Secret,
		Advance:   s.Advance,
		RotateKeys: func(t *testing.T) {
			if _, err := s.RotateKey(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

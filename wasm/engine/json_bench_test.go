package engine

import (
	"encoding/json"
	"net/http"
	"testing"
)

// BenchmarkSessionRowJSON measures the JSON work of one sessions/authenticate
// in the engine: decoding the row the store reads (a session and its user as
// one JSON object) and encoding the answer. Run natively and under V8 to see
// what Go compiled to Wasm costs against native code, for the same work:
//
//	go test ./wasm/engine -run '^$' -bench SessionRowJSON
//	GOOS=js GOARCH=wasm go test ./wasm/engine -run '^$' -bench SessionRowJSON \
//		-exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
//
// (make bench runs both.)
func BenchmarkSessionRowJSON(b *testing.B) {
	const (
		userID  = "user-test-0b5c0d0e-1111-4222-8333-944455556666"
		emailID = "email-test-0b5c0d0e-1111-4222-8333-944455556666"
		stamp0  = "2027-01-15T08:00:00Z"
	)
	type row struct {
		S *session `json:"s"`
		U *user    `json:"u"`
	}
	// The row of a magic-link session with a custom claim, as the
	// benchmark of the whole call makes (bench_test.go).
	data, err := json.Marshal(row{
		S: &session{
			ID: "session-test-0b5c0d0e-1111-4222-8333-944455556666", UserID: userID,
			StartedAt: 1_800_000_000, LastAccessedAt: 1_800_000_000, ExpiresAt: 1_800_003_600,
			Attributes: attributes{IPAddress: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
			Factors: []factor{{
				Type: "magic_link", DeliveryMethod: "email", CreatedAt: stamp0, UpdatedAt: stamp0, LastAuthenticatedAt: stamp0,
				EmailFactor: &emailFactor{EmailID: emailID, EmailAddress: "bench@example.com"},
			}},
			CustomClaims: claims{"role": json.RawMessage(`"admin"`)},
			Version:      1,
		},
		U: &user{
			ID: userID, Email: "bench@example.com", EmailID: emailID, EmailVerified: true,
			TrustedMetadata: "{}", UntrustedMetadata: "{}", CreatedAt: 1_800_000_000, Status: statusActive,
			TOTPs: json.RawMessage(`[]`), Providers: []providerView{}, WebAuthn: []webauthnView{},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	var r row
	b.Run("decode row", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r = row{}
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	if r.S == nil || r.U == nil || r.S.UserID != userID || len(r.S.Factors) != 1 {
		b.Fatalf("row decoded as %+v", r)
	}
	b.Run("encode answer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&sessionAuthResponse{
				RequestID: "request-id-test-0b5c0d0e-1111-4222-8333-944455556666", Session: r.S.view(),
				SessionJWT: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", SessionToken: "token", StatusCode: http.StatusOK, User: r.U.view(),
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

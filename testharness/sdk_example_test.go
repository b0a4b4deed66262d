package testharness_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/latchauth/latch/testharness"
)

// SDKOrigins serves the surface Stytch's frontend SDKs call, /sdk/v1, to
// pages on those origins; the SDK is given Server.PublicToken. Here a
// browser's preflight from the app's origin is answered for it.
func ExampleConfig_sdk() {
	const app = "http://localhost:3000"
	s, err := testharness.New(testharness.Config{SDKOrigins: []string{app}})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	req, err := http.NewRequest(http.MethodOptions, s.URL+"/sdk/v1/projects/bootstrap/"+s.PublicToken, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Origin", app)
	req.Header.Set("Access-Control-Request-Method", http.MethodGet)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	fmt.Println(strings.HasPrefix(s.PublicToken, "public-token-test-"))
	fmt.Println(resp.Header.Get("Access-Control-Allow-Origin"))
	// Output:
	// true
	// http://localhost:3000
}

package loginpage_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/latchauth/latch/wasm/loginpage"
)

// The page goes in front of the engine: it serves its own paths and hands
// every other request to the API. A host adds the addresses that lead
// back to the page (mailed links, social login's return) to the engine's
// RedirectURLs.
func ExampleNew() {
	const pageURL = "https://auth.example.com/login"
	links, _ := loginpage.LinkURLs(pageURL)
	fmt.Println("engine RedirectURLs +=", links)

	var api http.Handler = http.NotFoundHandler() // the engine.Engine, configured with those links
	page, err := loginpage.New(loginpage.Config{
		API: api, ProjectID: "project-test-00000000-0000-0000-0000-000000000000", Secret: "secret-test-example",
		URL: pageURL, ReturnURLs: []string{"https://app.example.com/"}, CookieDomain: "example.com", Name: "Acme",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pageURL+"?return_to=https://app.example.com/settings", nil))
	fmt.Println(rec.Code, rec.Result().Cookies()[0].Name)

	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pageURL+"?return_to=https://evil.example/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location") == "")

	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://auth.example.com/v1/users/user-test-x", nil))
	fmt.Println(rec.Code)
	// Output:
	// engine RedirectURLs += [https://auth.example.com/login/magic https://auth.example.com/login/reset https://auth.example.com/login/oauth]
	// 200 __Host-latch_csrf
	// 400 true
	// 404
}

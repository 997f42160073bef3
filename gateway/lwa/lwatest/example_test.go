package lwatest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// Mount Handler at the root of a TLS listener (it serves /auth/o2/…) and
// AdminHandler under /sim/; an AVS emulator accepts exactly the access tokens
// for which ValidAccessToken is true.
func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sim := lwatest.New(lwatest.Options{Now: func() time.Time { return now }})
	mux := http.NewServeMux()
	mux.Handle("/auth/", sim.Handler())
	mux.Handle("/sim/", sim.AdminHandler())
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	post := func(path string, form url.Values) string {
		resp, err := srv.Client().PostForm(srv.URL+path, form)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Sprint(resp.StatusCode)
	}
	fmt.Println(post(lwatest.CodePairPath, url.Values{
		"response_type": {"device_code"}, "client_id": {"id"}, "scope": {"alexa:all"},
		"scope_data": {`{"alexa:all":{"productID":"p","productInstanceAttributes":{"deviceSerialNumber":"1"}}}`},
	}))
	code, _ := sim.Approve("") // or POST /sim/cbl/approve
	fmt.Println(len(code))
	tok := sim.Issue()
	fmt.Println(sim.ValidAccessToken(tok.AccessToken))
	// Output:
	// 200
	// 6
	// true
}

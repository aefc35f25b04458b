package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseMasterList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // URLs joined by spaces
		wantErr string
	}{
		{in: "http://a:5801", want: "http://a:5801"},
		{in: "a:5801", want: "http://a:5801"},
		{in: "http://a:5801,http://b:5801", want: "http://a:5801 http://b:5801"},
		{in: "http://a:5801, https://b:5801/", want: "http://a:5801 https://b:5801"},
		{in: "a:1,b:2,c:3", want: "http://a:1 http://b:2 http://c:3"},
		{in: "", wantErr: "an empty entry"},
		{in: "http://a:5801,", wantErr: "an empty entry"},
		{in: "http://a:5801,,http://b:5801", wantErr: "an empty entry"},
		{in: "http://a:5801,ftp://b:21", wantErr: `invalid master URI "ftp://b:21"`},
		{in: "http://a:5801,http://", wantErr: "want http://host:port"},
	} {
		us, err := parseMasterList(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseMasterList(%q) = %v, %v; want an error with %q", tc.in, us, err, tc.wantErr)
			}
			continue
		}
		var got []string
		for _, u := range us {
			got = append(got, u.String())
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("parseMasterList(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseMasterList(f *testing.F) {
	for _, s := range []string{"http://a:5801", "a:1,b:2", "http://a:1,,", ",", "https://[::1]:5801,http://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		us, err := parseMasterList(in)
		if err != nil {
			return
		}
		if len(us) != strings.Count(in, ",")+1 {
			t.Fatalf("parseMasterList(%q): %d masters for %d entries", in, len(us), strings.Count(in, ",")+1)
		}
		for _, u := range us {
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("parseMasterList(%q): bad master %v", in, u)
			}
		}
	})
}

// TestClientFailsOverToTheNextMasterAtOnce: with one -z listing two masters of one cluster,
// a request that meets a master answering 503, or one refusing connections, is sent to the
// other at once, not after the retry delay; a 504 moves on for a GET only.
func TestClientFailsOverToTheNextMasterAtOnce(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(good.Close)
	answering := func(code int) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
		}))
		t.Cleanup(s.Close)
		return s
	}
	refusing := httptest.NewServer(http.NotFoundHandler())
	refusing.Close() // its port now refuses connections
	for name, bad := range map[string]string{
		"503":     answering(http.StatusServiceUnavailable).URL,
		"502":     answering(http.StatusBadGateway).URL,
		"504":     answering(http.StatusGatewayTimeout).URL,
		"refused": refusing.URL,
	} {
		for start := range 2 { // the client starts at a random master: try both orders
			c := testClient(bad + "," + good.URL)
			c.retryDelay = func(int) time.Duration { return time.Hour } // a wait would show
			if err := c.resolve(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.next = start
			code, _, err := c.do(context.Background(), http.MethodGet, "/jobs", nil, nil)
			if err != nil || code != http.StatusOK {
				t.Errorf("%s, starting at master %d: GET: %d %v, want 200 from the other master", name, start, code, err)
			}
		}
	}
	// A write is not sent again after a 504: it may have taken effect.
	c := testClient(answering(http.StatusGatewayTimeout).URL + "," + good.URL)
	if err := c.resolve(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.next = 0
	if code, _, err := c.do(context.Background(), http.MethodPost, "/jobs", nil, nil); err != nil || code != http.StatusGatewayTimeout {
		t.Errorf("POST after a 504: %d %v, want the 504", code, err)
	}
}

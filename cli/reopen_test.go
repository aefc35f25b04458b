package cli

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// The reopen of a broken stream waits or not: at once to the next master after a stream
// that carried lines; otherwise after the retry delay, one step longer per quiet stream.
func TestReopenerPacesReopens(t *testing.T) {
	const never = time.Hour // a wait that is taken shows as ctx's deadline
	for _, tc := range []struct {
		name    string
		masters int
		lines   []bool // per ended stream: did it carry a line
		waits   []int  // per end: -1 at once, else the retryDelay attempt waited for
	}{
		{"two masters, streams with lines", 2, []bool{true, true}, []int{-1, -1}},
		{"two masters, a quiet stream backs off", 2, []bool{true, false, false, true}, []int{-1, 0, 1, -1}},
		{"first stream quiet", 2, []bool{false}, []int{0}},
		{"one master always waits", 1, []bool{true, true, false}, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient()
			for i := 0; i < tc.masters; i++ {
				c.endpoints = append(c.endpoints, &url.URL{Scheme: "http", Host: "m"})
			}
			var asked []int
			c.retryDelay = func(attempt int) time.Duration { asked = append(asked, attempt); return never }
			r := c.reopener()
			for i, carried := range tc.lines {
				if carried {
					r.line()
				}
				asked = nil
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				err := r.wait(ctx)
				cancel()
				switch want := tc.waits[i]; {
				case want < 0 && (err != nil || len(asked) != 0):
					t.Errorf("end %d: want a reopen at once, got err %v after asking the delay of %v", i, err, asked)
				case want >= 0 && (err == nil || len(asked) != 1 || asked[0] != want):
					t.Errorf("end %d: want a wait of retryDelay(%d), got err %v, asked %v", i, want, err, asked)
				}
			}
		})
	}
}

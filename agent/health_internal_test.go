package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func TestHealthTarget(t *testing.T) {
	ext := 31000
	job := &model.Job{Ports: map[string]model.PortMapping{
		"http":   {InternalPort: 8080},
		"static": {InternalPort: 9090, ExternalPort: &ext},
	}}
	tests := []struct {
		name    string
		c       Container
		port    string
		want    string
		wantErr string
	}{
		// Docker's userland proxy accepts on a published port even when nothing listens
		// in the container: the container's own address and port are checked instead.
		{name: "published port, container address: the container's address and internal port", port: "http",
			c:    Container{IPAddress: "172.17.0.2", Ports: []PortBinding{{ContainerPort: 8080, HostPort: 20001, Proto: "tcp"}}},
			want: "172.17.0.2:8080"},
		{name: "user network: the container's address", port: "static",
			c:    Container{NetworkMode: "my-net", IPAddress: "172.18.0.5", Ports: []PortBinding{{ContainerPort: 9090, HostPort: 31000, Proto: "tcp"}}},
			want: "172.18.0.5:9090"},
		{name: "host networking: the port itself", port: "http",
			c:    Container{NetworkMode: "host", Ports: []PortBinding{{ContainerPort: 8080, HostPort: 20001, Proto: "tcp"}}},
			want: "127.0.0.1:8080"},
		{name: "no address: the published port on the loopback", port: "http",
			c:    Container{NetworkMode: "container:x", Ports: []PortBinding{{ContainerPort: 8080, HostPort: 20001, Proto: "tcp"}}},
			want: "127.0.0.1:20001"},
		{name: "no address: published on a given address", port: "http",
			c:    Container{Ports: []PortBinding{{ContainerPort: 8080, HostPort: 20001, Proto: "tcp", HostIP: "10.0.0.5"}}},
			want: "10.0.0.5:20001"},
		{name: "no address, published for another protocol", port: "http",
			c: Container{Ports: []PortBinding{{ContainerPort: 8080, HostPort: 20001, Proto: "udp"}}}, wantErr: "no address"},
		{name: "no way to reach it", port: "static", c: Container{NetworkMode: "none"}, wantErr: "no address"},
		{name: "unknown port", port: "nope", c: Container{}, wantErr: "not one of the job's ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := healthTarget(job, tt.c, tt.port)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(200)
		case "/created":
			w.WriteHeader(204)
		case "/redirect":
			http.Redirect(w, r, "/elsewhere-that-fails", http.StatusFound)
		case "/missing":
			w.WriteHeader(404)
		default:
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	for path, pass := range map[string]bool{"/ok": true, "/created": true, "/redirect": true, "/missing": false, "/broken": false} {
		err := checkHTTP(context.Background(), srv.URL+path)
		if (err == nil) != pass {
			t.Errorf("GET %s: err %v, want pass=%v", path, err, pass)
		}
	}
	// Nothing listening: fails fast (connect timeout 500 ms at most).
	t0 := time.Now()
	srv.Close()
	if err := checkHTTP(context.Background(), srv.URL+"/ok"); err == nil {
		t.Error("check of a closed server passed")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("failed check took %s", d)
	}
}

func TestNextInterval(t *testing.T) {
	tests := []struct{ cur, max, want time.Duration }{
		{time.Second, 30 * time.Second, 2 * time.Second},
		{16 * time.Second, 30 * time.Second, 30 * time.Second},
		{30 * time.Second, 30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := nextInterval(tt.cur, tt.max); got != tt.want {
			t.Errorf("nextInterval(%s, %s) = %s, want %s", tt.cur, tt.max, got, tt.want)
		}
	}
}

func TestFlapping(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		runs     []time.Duration
		current  time.Duration
		want     bool
		wantLeft time.Duration
	}{
		{name: "too few runs", runs: []time.Duration{s, s}, current: -1},
		{name: "three short runs, none going", runs: []time.Duration{s, s, s}, current: -1, want: true},
		{name: "three runs long enough", runs: []time.Duration{20 * s, 20 * s, 20 * s}, current: -1},
		{name: "only the last three count", runs: []time.Duration{100 * s, s, s, s}, current: -1, want: true},
		{name: "a run going on counts only once three completed ones flap", runs: []time.Duration{s, s}, current: s},
		{name: "current run counts and clears in time", runs: []time.Duration{100 * s, s, s, s}, current: 3 * s, want: true, wantLeft: 5 * s},
		{name: "current run long enough", runs: []time.Duration{s, s, s}, current: 8 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, left := flapping(tt.runs, tt.current, 3, 10*s)
			if got != tt.want || left != tt.wantLeft {
				t.Fatalf("= %v, %s; want %v, %s", got, left, tt.want, tt.wantLeft)
			}
		})
	}
}

func TestRunLogRecordsEachExitOnce(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var l runLog
	c := Container{ID: "a", StartedAt: t0, FinishedAt: t0.Add(2 * time.Second)}
	l.record(c, 3)
	l.record(c, 3)
	l.record(Container{ID: "b", Running: true, StartedAt: t0}, 3)
	for i, id := range []string{"c", "d", "e"} {
		l.record(Container{ID: id, StartedAt: t0, FinishedAt: t0.Add(time.Duration(i+3) * time.Second)}, 3)
	}
	want := []time.Duration{3 * time.Second, 4 * time.Second, 5 * time.Second}
	if len(l.runs) != 3 || l.runs[0] != want[0] || l.runs[2] != want[2] {
		t.Fatalf("runs = %v, want %v", l.runs, want)
	}
	l.forget(map[string]bool{"e": true})
	if len(l.seen) != 1 || !l.seen["e"] {
		t.Errorf("seen after forget = %v", l.seen)
	}
}

func TestThrottleOf(t *testing.T) {
	tests := []struct {
		image model.ThrottleState
		flap  bool
		want  model.ThrottleState
	}{
		{"", false, model.ThrottleNo},
		{"", true, model.ThrottleFlapping},
		{model.ThrottleImageMissing, true, model.ThrottleImageMissing},
		{model.ThrottleImagePullFailed, false, model.ThrottleImagePullFailed},
	}
	for _, tt := range tests {
		if got := throttleOf(tt.image, tt.flap); got != tt.want {
			t.Errorf("throttleOf(%q, %v) = %s, want %s", tt.image, tt.flap, got, tt.want)
		}
	}
}

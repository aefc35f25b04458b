package harness

import "testing"

func TestParseRequire(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"  ", false, false},
		{"1", true, false},
		{"true", true, false},
		{" 1\n", true, false},
		{"0", false, false},
		{"false", false, false},
		{"yes", false, true},
		{"2", false, true},
	} {
		got, err := ParseRequire(c.in)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("ParseRequire(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func FuzzParseRequire(f *testing.F) {
	for _, s := range []string{"", "1", "0", "true", "yes"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRequire(s)
		if err != nil && got {
			t.Fatalf("ParseRequire(%q) = true with error %v", s, err)
		}
	})
}

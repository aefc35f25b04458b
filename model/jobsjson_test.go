package model

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// unmarshalJobsSeeds are lists of jobs as masters answer them, and broken ones.
var unmarshalJobsSeeds = []string{
	`{"a:1:x":{"id":"a:1:x","image":"busybox","command":["sh","-c","x"],"env":{"K":"V"},"ports":{"http":{"internalPort":80,"externalPort":8080}}}}`,
	`{"a:1:x":{"id":"a:1:x","expires":1401624000000},"b:1:y":{"id":"b:1:y","expires":"2014-06-01T12:00:00+0000"}}`,
	`{"a:1:x":{"expires":null},"b:1:y":{"expires":"2014-06-01"},"c:1:z":null}`,
	`{"a:1:x":{"expires":"soon"}}`,
	`{"a:1:x":{"expires":1e400}}`,
	`{"a:1:x":{"image":5}}`,
	`{"a:1:x":{"image":5,"expires":"soon"}}`,
	`{"a:1:x":{"unknown":{"x":[1]},"gracePeriod":3}}`,
	`{"a:1:x":[]}`,
	`{}`,
	`null`,
	`[]`,
	`{"a:1:x":{"id":"a:1:x"}`,
}

// UnmarshalJobs reads what json.Unmarshal reads through Job.UnmarshalJSON, and fails where
// it fails.
func TestUnmarshalJobsAsUnmarshal(t *testing.T) {
	for _, doc := range unmarshalJobsSeeds {
		checkUnmarshalJobs(t, []byte(doc))
	}
	got := map[JobID]Job{}
	if err := UnmarshalJobs([]byte(unmarshalJobsSeeds[1]), got); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2014, 6, 1, 12, 0, 0, 0, time.UTC)
	for id, j := range got {
		if j.Expires == nil || !j.Expires.Equal(want) {
			t.Errorf("%s expires %v, want %v", id, j.Expires, want)
		}
	}
}

func checkUnmarshalJobs(t *testing.T, data []byte) {
	t.Helper()
	want := map[JobID]Job{}
	wantErr := json.Unmarshal(data, &want)
	got := map[JobID]Job{}
	err := UnmarshalJobs(data, got)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("UnmarshalJobs(%s): error %v, json.Unmarshal: %v", data, err, wantErr)
	}
	// null leaves into as it was where json.Unmarshal sets its map to nil: both are empty.
	if err == nil && (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
		t.Fatalf("UnmarshalJobs(%s) = %+v, json.Unmarshal = %+v", data, got, want)
	}
}

// Job.UnmarshalJSON decodes over what the job held: absent fields stay, a null expires
// clears it.
func TestUnmarshalJSONOverAJob(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	j := Job{Image: "kept", Expires: &exp}
	if err := json.Unmarshal([]byte(`{"id":"a:1"}`), &j); err != nil || j.Image != "kept" || j.Expires == nil || j.ID != "a:1" {
		t.Fatalf("absent fields: %+v, %v", j, err)
	}
	if err := json.Unmarshal([]byte(`{"expires":null}`), &j); err != nil || j.Expires != nil {
		t.Fatalf("null expires: %+v, %v", j.Expires, err)
	}
}

// FuzzUnmarshalJobs: UnmarshalJobs and json.Unmarshal agree on every input.
func FuzzUnmarshalJobs(f *testing.F) {
	for _, s := range unmarshalJobsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkUnmarshalJobs(t, data)
	})
}

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// jobStatuses answers POST /jobs/statuses?omitJobs=&omitTaskStatuses= with a body listing
// job ids. Unknown or malformed ids are left out of the answer rather than failing the
// whole request. The store reads all of them in a few range reads, whatever their number,
// and the answer is written from the stored JSON without decoding it. omitJobs=true leaves
// out the jobs, the JobStatus's and each task status's, for a client that has them already
// (the CLI lists the jobs first): they were most of the bytes. omitTaskStatuses=true leaves
// out the task statuses, which are then not read (`helios jobs` counts deployments only).
func (s *server) jobStatuses(w http.ResponseWriter, r *http.Request) {
	var omit store.JobStatusParts
	var err error
	q := r.URL.Query()
	if omit.OmitJobs, err = parseBoolParam("omitJobs", q.Get("omitJobs")); err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	if omit.OmitTaskStatuses, err = parseBoolParam("omitTaskStatuses", q.Get("omitTaskStatuses")); err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	var raw []model.JobID
	if err := decodeJSON(r, &raw, false); err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]model.JobID, 0, len(raw))
	for _, id := range raw {
		if parsed, err := model.ParseJobID(string(id)); err == nil {
			ids = append(ids, parsed)
		}
	}
	statuses, err := s.store.JobStatusesJSON(r.Context(), ids, omit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := encodeJobStatuses(statuses, omit, func(what string) {
		s.log.Warn("skipping a stored value that is not a JSON object", zap.String("value", what))
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// parseBoolParam reads the query parameter name's value: empty is false, else true or
// false as strconv.ParseBool spells them.
func parseBoolParam(name, s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("invalid %s=%q: want true or false", name, s)
	}
	return b, nil
}

// encodeJobStatuses writes {id: JobStatus} as encoding the model types would (keys sorted,
// empty maps as {}, a newline at the end), from the stored JSON documents. A deployment or
// task status that is not a JSON object is named to skip and left out.
func encodeJobStatuses(statuses map[model.JobID]*store.JobStatusJSON, omit store.JobStatusParts, skip func(what string)) []byte {
	drop := ""
	if omit.OmitJobs {
		drop = "job"
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, id := range slices.Sorted(maps.Keys(statuses)) {
		st := statuses[id]
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, string(id))
		b.WriteString(`:{`)
		if !omit.OmitJobs {
			b.WriteString(`"job":`)
			b.Write(st.Job) // checked by the store
			b.WriteByte(',')
		}
		b.WriteString(`"deployments":`)
		writeRawMap(&b, st.Deployments, "", func(h string) { skip("deployment of " + string(id) + " on " + h) })
		if !omit.OmitTaskStatuses {
			b.WriteString(`,"taskStatuses":`)
			writeRawMap(&b, st.TaskStatuses, drop, func(h string) { skip("task status of " + string(id) + " on " + h) })
		}
		b.WriteByte('}')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// writeRawMap writes a map of JSON objects as an object, keys sorted, each value without
// its member drop (none if ""). A value that is not a JSON object once cut is left out,
// its key named to skip.
func writeRawMap(b *bytes.Buffer, m map[string]json.RawMessage, drop string, skip func(key string)) {
	b.WriteByte('{')
	first := true
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if drop != "" {
			v = dropMember(v, drop)
		}
		if !isObject(v) {
			skip(k)
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(b, k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}

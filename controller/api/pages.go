package api

import (
	"bufio"
	"encoding/json"
	"net/http"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// streamPageSize is how many jobs an unpaged GET /jobs reads from etcd at a time while it
// streams its answer: the master holds one such page, never the whole list.
const streamPageSize = 500

// pageParams are ?limit= and ?continue= of a list: limit 0 asks for the whole list.
type pageParams struct {
	limit int
	after string // the name the continue token resumes after; "" from the first
}

// parsePage reads a list's paging parameters; list names whose tokens it accepts.
func parsePage(r *http.Request, list string) (pageParams, error) {
	q := r.URL.Query()
	limit, err := model.ParsePageLimit(q.Get("limit"))
	if err != nil {
		return pageParams{}, badRequest("%s", err.Error())
	}
	p := pageParams{limit: limit}
	if token := q.Get("continue"); token != "" || q.Has("continue") {
		if limit == 0 {
			return pageParams{}, badRequest("continue needs limit: ask ?limit=N&continue=TOKEN with the token of the %s header", model.HeaderContinue)
		}
		if p.after, err = model.ParseContinueToken(list, token); err != nil {
			return pageParams{}, badRequest("%s", err.Error())
		}
	}
	return p, nil
}

// setContinue tells the client where the next page starts, if there is one.
func setContinue(w http.ResponseWriter, list string, more bool, last string) {
	if more && last != "" {
		w.Header().Set(model.HeaderContinue, model.ContinueToken(list, last))
	}
}

// streamJobs answers an unpaged GET /jobs with the same bytes as encoding the whole map
// would (keys in order, as etcd lists them), reading one page of jobs at a time. Once the
// answer has started an error can no longer become an error status: the connection is cut,
// so that the client sees a broken answer rather than a short list.
func (s *server) streamJobs(w http.ResponseWriter, r *http.Request, list func(after model.JobID) ([]jobEntry, model.JobID, bool, error)) {
	entries, last, more, err := list("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteByte('{')
	first := true
	for {
		for _, e := range entries {
			if !first {
				bw.WriteByte(',')
			}
			first = false
			if err := writeEntry(bw, e); err != nil {
				s.abort(r, err)
			}
		}
		if !more {
			break
		}
		if entries, last, more, err = list(last); err != nil {
			s.abort(r, err)
		}
	}
	bw.WriteString("}\n")
	_ = bw.Flush() // a write error is a client gone: nobody is left to tell
}

// jobEntry is one job of a list being answered, as etcd holds it (a JSON object).
type jobEntry struct {
	id  model.JobID
	job json.RawMessage
}

func writeEntry(bw *bufio.Writer, e jobEntry) error {
	k, err := json.Marshal(e.id)
	if err != nil {
		return err
	}
	bw.Write(k)
	bw.WriteByte(':')
	_, err = bw.Write(e.job)
	return err
}

// abort ends a streamed answer that failed midway: logged here, and the connection cut.
func (s *server) abort(r *http.Request, err error) {
	s.log.Error("streamed answer failed midway", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	panic(http.ErrAbortHandler)
}

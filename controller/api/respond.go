package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// requestError is a request the API refuses before asking the store: malformed JSON, a body
// too large, a missing parameter.
type requestError struct {
	code    int
	status  string
	message string
}

func (e *requestError) Error() string { return e.message }

func badRequest(format string, args ...any) *requestError {
	return &requestError{code: http.StatusBadRequest, status: model.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// writeJSON answers with v as JSON. Encoding our own model types cannot fail, so an error
// here is a broken connection, which nobody is left to hear about.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(model.ErrorResponse{Status: model.StatusInternalError, Message: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// readBody reads the whole request body; a body over the limit is a requestError (413).
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &requestError{
				code:    http.StatusRequestEntityTooLarge,
				status:  model.StatusRequestTooLarge,
				message: fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit),
			}
		}
		return nil, badRequest("read request body: %v", err)
	}
	if !utf8.Valid(data) {
		return nil, badRequest("request body is not valid UTF-8")
	}
	return data, nil
}

// decodeJSON reads the body into v. Unknown fields are ignored, as the original does, so
// job files written for newer versions still load; anything after the value is refused.
// An empty body leaves v alone when emptyOK.
func decodeJSON(r *http.Request, v any, emptyOK bool) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if emptyOK {
			return nil
		}
		return badRequest("request body is empty: want JSON")
	}
	return unmarshalStrict(data, v)
}

func unmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed JSON: unexpected data after the value at offset %d", dec.InputOffset())
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%v (at offset %d)", syn, syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := typ.Field
		if field == "" {
			field = "the value"
		}
		return fmt.Sprintf("%s: got JSON %s, want %s (at offset %d)", field, typ.Value, typ.Type, typ.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// fail answers an error no handler gave a specific answer to: refused requests, etcd out
// of reach, bad names, and anything else (500, logged here and only here).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		writeJSON(w, re.code, model.ErrorResponse{Status: re.status, Message: re.message})
	case errors.Is(err, store.ErrUnavailable):
		s.log.Warn("etcd unavailable", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, model.ErrorResponse{
			Status:  model.StatusServiceUnavailable,
			Message: err.Error(), // the store's message already says "etcd unavailable"
		})
	case errors.Is(err, store.ErrInvalidName):
		writeJSON(w, http.StatusBadRequest, model.ErrorResponse{Status: model.StatusBadRequest, Message: err.Error()})
	case errors.Is(err, store.ErrDeadline):
		writeJSON(w, http.StatusGatewayTimeout, model.ErrorResponse{
			Status:  model.StatusGatewayTimeout,
			Message: "the request's deadline passed while etcd was answering; it may or may not have taken effect, so check before trying again",
		})
	default:
		// The details may say more than a caller should learn (keys, paths): they go to the
		// log only, under an id the caller can quote.
		id := requestID()
		s.log.Error("request failed", zap.String("request-id", id), zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		writeJSON(w, http.StatusInternalServerError, model.ErrorResponse{Status: model.StatusInternalError,
			Message: "internal error, request id " + id + " (the master's log has the details)"})
	}
}

// requestID names one failed request in the answer and in the log.
func requestID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(b)
}

package skilltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// runtimeAPI emulates the AWS Lambda Runtime API (2018-06-01) for one
// function: invocations wait in a queue until a runtime polls
// /invocation/next, and end with /invocation/<id>/response or /error.
type runtimeAPI struct {
	log  *slog.Logger
	addr string
	srv  *http.Server

	queue chan *invocation

	mu       sync.Mutex
	inflight map[string]*invocation
	pollers  int
	n        int
	initErr  string
}

// invocation is one call of the function.
type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan result
	once     sync.Once
}

type result struct {
	body []byte
	err  error
}

func (inv *invocation) finish(r result) { inv.once.Do(func() { inv.done <- r }) }

const runtimePrefix = "/2018-06-01/runtime"

func newRuntimeAPI(log *slog.Logger) (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &runtimeAPI{log: log, addr: l.Addr().String(), queue: make(chan *invocation, 64), inflight: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", r.serveNext)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", r.serveResponse)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", r.serveError)
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", r.serveInitError)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *runtimeAPI) close() { r.srv.Close() }

func (r *runtimeAPI) polling() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pollers
}

func (r *runtimeAPI) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// errNoAnswer: the function did not answer in time.
var errNoAnswer = errors.New("skilltest: the skill's Lambda did not answer in time")

// invoke runs the function on event and returns its answer, or an error when
// it failed, reported an error, or did not answer by the deadline.
func (r *runtimeAPI) invoke(ctx context.Context, event []byte, within time.Duration) ([]byte, error) {
	r.mu.Lock()
	if r.initErr != "" {
		msg := r.initErr
		r.mu.Unlock()
		return nil, fmt.Errorf("skilltest: the Lambda failed to start: %s", msg)
	}
	r.n++
	r.mu.Unlock()
	inv := &invocation{id: uuid.NewString(), event: event, deadline: time.Now().Add(within), done: make(chan result, 1)}
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case r.queue <- inv:
	case <-t.C:
		return nil, errNoAnswer
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-inv.done:
		return res.body, res.err
	case <-t.C:
		r.mu.Lock()
		delete(r.inflight, inv.id)
		r.mu.Unlock()
		return nil, fmt.Errorf("%w (%s)", errNoAnswer, within)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *runtimeAPI) serveNext(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.pollers++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.pollers--
		r.mu.Unlock()
	}()
	for {
		select {
		case inv := <-r.queue:
			if time.Now().After(inv.deadline) {
				continue // Alexa gave up on it before a runtime took it
			}
			r.mu.Lock()
			r.inflight[inv.id] = inv
			r.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:avshub-skill")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-"+strings.ReplaceAll(inv.id, "-", "")[:8]+"-"+strings.ReplaceAll(inv.id, "-", "")[8:32])
			_, _ = w.Write(inv.event)
			return
		case <-req.Context().Done():
			return
		}
	}
}

func (r *runtimeAPI) take(w http.ResponseWriter, req *http.Request) (*invocation, []byte, bool) {
	id := req.PathValue("id")
	r.mu.Lock()
	inv := r.inflight[id]
	delete(r.inflight, id)
	r.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(req.Body, 6<<20+1))
	switch {
	case inv == nil:
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or finished request id "+id)
		return nil, nil, false
	case err != nil:
		inv.finish(result{err: err})
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return nil, nil, false
	case len(body) > 6<<20:
		inv.finish(result{err: errors.New("skilltest: the Lambda's answer exceeds 6 MB")})
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestTooLarge", "payload larger than 6 MB")
		return nil, nil, false
	}
	return inv, body, true
}

func (r *runtimeAPI) serveResponse(w http.ResponseWriter, req *http.Request) {
	inv, body, ok := r.take(w, req)
	if !ok {
		return
	}
	inv.finish(result{body: body})
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (r *runtimeAPI) serveError(w http.ResponseWriter, req *http.Request) {
	inv, body, ok := r.take(w, req)
	if !ok {
		return
	}
	var e struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &e)
	inv.finish(result{err: fmt.Errorf("skilltest: the Lambda reported an error: %s: %s", e.ErrorType, e.ErrorMessage)})
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (r *runtimeAPI) serveInitError(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &e)
	r.mu.Lock()
	r.initErr = e.ErrorMessage
	r.mu.Unlock()
	r.log.Error("skill-sim: the Lambda failed to start", "err", e.ErrorMessage)
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

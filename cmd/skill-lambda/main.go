// Command skill-lambda is the AWS Lambda function of the Smart Home skill
// road (runtime provided.al2023; the binary is named bootstrap in the zip
// `make skill-lambda` builds). For every directive Alexa sends the skill, it
// adds an HMAC (gateway/skill/sign), forwards the directive to the hub's skill
// endpoint (AVSHUB_URL) and returns the hub's answer; see docs/alexa-skill.md.
//
// It speaks the Lambda Runtime API itself (plain HTTP on
// AWS_LAMBDA_RUNTIME_API: GET …/invocation/next, POST …/invocation/<id>/response
// or …/error, …/init/error), so it needs nothing beyond the standard library
// and runs unchanged against the local Runtime API of gateway/skilltest.
//
// Environment: AVSHUB_URL (the hub's https:// skill endpoint), AVSHUB_SECRET
// (the hub's skill.secret), AVSHUB_CA_PEM (optional: the hub's own
// certificate, when it is self-signed).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/avshub/avshub/gateway/skill/forward"
)

const runtimePrefix = "/2018-06-01/runtime"

func main() {
	log.SetFlags(0)
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		log.Fatal("skill-lambda: AWS_LAMBDA_RUNTIME_API is not set (this binary runs as a Lambda function on provided.al2023)")
	}
	rt := &runtime{base: "http://" + api + runtimePrefix, client: &http.Client{}}
	f, err := forward.FromEnv(os.Getenv)
	if err != nil {
		rt.initError(err)
		log.Fatalf("skill-lambda: %v", err)
	}
	for {
		if err := rt.next(f); err != nil {
			log.Fatalf("skill-lambda: runtime API: %v", err)
		}
	}
}

type runtime struct {
	base   string
	client *http.Client
}

// next takes one invocation, handles it and posts the answer.
func (r *runtime) next(f *forward.Forwarder) error {
	resp, err := r.client.Get(r.base + "/invocation/next") // long poll: no timeout
	if err != nil {
		return err
	}
	event, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invocation/next: HTTP %d", resp.StatusCode)
	}
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if id == "" {
		return errors.New("invocation/next: no Lambda-Runtime-Aws-Request-Id")
	}
	ctx := context.Background()
	if ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.UnixMilli(ms))
		defer cancel()
	}
	answer, herr := f.Handle(ctx, event)
	if herr != nil {
		log.Printf("skill-lambda: %v", herr)
		return r.post("/invocation/"+id+"/error", errorBody(herr), "Forward.Error")
	}
	return r.post("/invocation/"+id+"/response", answer, "")
}

func (r *runtime) post(path string, body []byte, errType string) error {
	req, err := http.NewRequest(http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if errType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

func (r *runtime) initError(err error) {
	_ = r.post("/init/error", errorBody(err), "Forward.InitError")
}

func errorBody(err error) []byte {
	b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "Forward.Error"})
	return b
}

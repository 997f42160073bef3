package skilltest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Lambda is a forwarder process running against the emulated Runtime API.
type Lambda struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
	err  error
}

// StartLambda runs binary (the forwarder, cmd/skill-lambda) as the skill's
// function: with only the environment Lambda gives a provided.al2023 function
// (AWS_LAMBDA_RUNTIME_API, the function's name, memory and handler, LANG,
// PATH, TZ) plus env, the function's configured variables (AVSHUB_URL,
// AVSHUB_SECRET, AVSHUB_CA_PEM). Its output goes to logw.
func (s *Server) StartLambda(binary string, env map[string]string, logw io.Writer) (*Lambda, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("skilltest: the forwarder: %w", err)
	}
	cmd := exec.Command(binary)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + s.rt.addr,
		"AWS_LAMBDA_FUNCTION_NAME=avshub-skill",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
		"_HANDLER=bootstrap",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=:UTC",
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("skilltest: start the forwarder: %w", err)
	}
	l := &Lambda{cmd: cmd, done: make(chan struct{})}
	go func() { l.err = cmd.Wait(); close(l.done) }()
	return l, nil
}

// Done is closed when the process exited.
func (l *Lambda) Done() <-chan struct{} { return l.done }

// Stop ends the process (SIGTERM, then SIGKILL after 2 s) and waits for it.
func (l *Lambda) Stop() error {
	l.once.Do(func() {
		_ = l.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-l.done:
		case <-time.After(2 * time.Second):
			_ = l.cmd.Process.Kill()
			<-l.done
		}
	})
	var ee *exec.ExitError
	if errors.As(l.err, &ee) {
		return nil // stopped by us
	}
	return l.err
}

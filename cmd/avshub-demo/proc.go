package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process of the demo, with its log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// start runs bin with args, logging stdout and stderr to <out>/<name>.log. When
// ready is not empty it waits (until timeout) for a stdout line starting with
// ready and returns that line's key=value fields.
func start(ctx context.Context, out, name, bin string, args []string, ready string, timeout time.Duration) (*proc, map[string]string, error) {
	logf, err := os.Create(filepath.Join(out, name+".log"))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = os.Environ()
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(logf, pw)
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	lines := make(chan string, 16)
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		once.Do(func() { close(lines) })
		_, _ = io.Copy(io.Discard, pr)
	}()
	if ready == "" {
		go func() {
			for range lines {
			}
		}()
		return p, nil, nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return p, nil, fmt.Errorf("%s exited before it was ready (see %s.log)", name, name)
			}
			if strings.HasPrefix(l, ready) {
				go func() {
					for range lines {
					}
				}()
				return p, fields(l), nil
			}
		case <-t.C:
			p.stop()
			return nil, nil, fmt.Errorf("%s was not ready within %s (see %s.log)", name, timeout, name)
		case <-ctx.Done():
			p.stop()
			return nil, nil, ctx.Err()
		}
	}
}

// fields parses "word k=v k2=v2" into a map.
func fields(line string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// stop ends the process: SIGTERM to its group, then SIGKILL after 5 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	p.log.Close()
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

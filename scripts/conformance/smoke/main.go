// Command berth-smoke is Berth's own lifecycle smoke test for an OCI runtime CLI. It is not part
// of runtime-tools: conformance.sh runs it with --smoke, when runtime-tools' validation sources
// are not available, to check the harness, the busybox rootfs and the runtime's create / state /
// start / kill / delete round trip the same way the validation programs drive them.
//
// It follows the validation programs' conventions: the runtime is $RUNTIME (a name on PATH or a
// path), the bundle root filesystem is ./rootfs-amd64.tar.gz, and the result is TAP on stdout.
// It is built in GOPATH mode against Debian's golang-github-opencontainers-runtime-tools-dev.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

type tap struct{ n, failed int }

func (t *tap) check(ok bool, desc string, diag string) {
	t.n++
	if ok {
		fmt.Printf("ok %d - %s\n", t.n, desc)
		return
	}
	t.failed++
	fmt.Printf("not ok %d - %s\n", t.n, desc)
	for _, line := range strings.Split(strings.TrimSpace(diag), "\n") {
		fmt.Printf("# %s\n", line)
	}
}

// run executes the runtime CLI and returns its combined output.
func run(rt string, args ...string) (string, error) {
	out, err := exec.Command(rt, args...).CombinedOutput()
	return string(out), err
}

// state returns the parsed `state` document, or the error and raw output.
func state(rt, id string) (rspec.State, string, error) {
	var st rspec.State
	out, err := exec.Command(rt, "state", id).Output()
	if err != nil {
		return st, string(out), err
	}
	return st, string(out), json.Unmarshal(out, &st)
}

// waitStatus polls `state` until the status is want or the timeout passes.
func waitStatus(rt, id string, want string, timeout time.Duration) rspec.State {
	var st rspec.State
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st, _, _ = state(rt, id)
		if string(st.Status) == want {
			break
		}
	}
	return st
}

func main() {
	// os.Exit skips deferred calls, so the cleanup lives in smoke and main only exits
	os.Exit(smoke())
}

// smoke runs the checks, removes the container and bundle, and returns the exit status.
func smoke() int {
	rt := os.Getenv("RUNTIME")
	if rt == "" {
		rt = "runc"
	}
	if p, err := exec.LookPath(rt); err == nil {
		rt = p
	}
	fmt.Println("1..9")
	t := &tap{}

	bundle, err := os.MkdirTemp("", "berth-smoke")
	if err != nil {
		fmt.Printf("Bail out! %v\n", err)
		return 1
	}
	defer os.RemoveAll(bundle)
	rootfs := filepath.Join(bundle, "rootfs")
	tarball := fmt.Sprintf("rootfs-%s.tar.gz", runtime.GOARCH)
	os.MkdirAll(rootfs, 0o755)
	if out, err := exec.Command("tar", "-xf", tarball, "-C", rootfs).CombinedOutput(); err != nil {
		fmt.Printf("Bail out! unpacking %s: %v %s\n", tarball, err, out)
		return 1
	}

	g, err := generate.New("linux")
	if err != nil {
		fmt.Printf("Bail out! %v\n", err)
		return 1
	}
	g.SetRootPath("rootfs")
	g.SetProcessTerminal(false)
	g.SetProcessArgs([]string{"/bin/sh", "-c", "echo berth-smoke-$(hostname); exec sleep 60"})
	g.SetHostname("smoke")
	if err := g.SaveToFile(filepath.Join(bundle, "config.json"), generate.ExportOptions{}); err != nil {
		fmt.Printf("Bail out! %v\n", err)
		return 1
	}

	id := fmt.Sprintf("berth-smoke-%d", os.Getpid())
	// The container's stdio is a file, not a pipe: a pipe's write end would be held by the
	// container process and keep the runtime's `create` from looking finished to us.
	stdout, _ := os.Create(filepath.Join(bundle, "stdout"))
	create := exec.Command(rt, "create", "--bundle", bundle, id)
	create.Stdin, create.Stdout, create.Stderr = nil, stdout, stdout
	err = create.Run()
	stdout.Close()
	deleted := false
	defer func() {
		if deleted {
			return
		}
		run(rt, "kill", id, "KILL")
		waitStatus(rt, id, "stopped", 5*time.Second)
		run(rt, "delete", "--force", id)
	}()
	logText := func() string { b, _ := os.ReadFile(filepath.Join(bundle, "stdout")); return string(b) }
	t.check(err == nil, "create exits 0", fmt.Sprintf("%v\n%s", err, logText()))

	st, raw, err := state(rt, id)
	t.check(err == nil && st.Status == "created", "state after create is created",
		fmt.Sprintf("err=%v output=%s", err, raw))
	t.check(st.ID == id && st.Pid > 0 && st.Bundle == bundle, "state names the id, a pid and the bundle",
		fmt.Sprintf("id=%q pid=%d bundle=%q", st.ID, st.Pid, st.Bundle))

	out, err := run(rt, "start", id)
	t.check(err == nil, "start exits 0", fmt.Sprintf("%v %s", err, out))

	st = waitStatus(rt, id, "running", 5*time.Second)
	t.check(st.Status == "running", "state after start is running", fmt.Sprintf("status=%q", st.Status))

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logText(), "berth-smoke-smoke") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	t.check(strings.Contains(logText(), "berth-smoke-smoke"), "process ran with the configured hostname",
		"stdout was: "+logText())

	out, err = run(rt, "kill", id, "KILL")
	st = waitStatus(rt, id, "stopped", 10*time.Second)
	t.check(err == nil && st.Status == "stopped", "kill KILL stops the container",
		fmt.Sprintf("err=%v %s status=%q", err, out, st.Status))

	out, err = run(rt, "delete", id)
	deleted = err == nil
	t.check(err == nil, "delete exits 0", fmt.Sprintf("%v %s", err, out))

	_, raw, err = state(rt, id)
	t.check(err != nil, "state of a deleted container fails", "state output: "+raw)

	if t.failed > 0 {
		return 1
	}
	return 0
}

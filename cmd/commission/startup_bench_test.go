//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkWizardFirstFrame_Process is the whole process to the wizard's
// first frame, as a technician sees it: the command built as CI builds
// it (CGO_ENABLED=0), started on a pseudo-terminal of 80x24, timed from
// the start until the welcome screen's text reaches the terminal. Each
// run gets a fresh, empty configuration folder (no pins, no unfinished
// sessions) and sends nothing (--no-discover). ms/frame is the figure;
// ns/op also counts ending the process.
func BenchmarkWizardFirstFrame_Process(b *testing.B) {
	bin := buildCommand(b)
	home := b.TempDir()
	env := terminalEnv("HOME="+home, "XDG_CONFIG_HOME="+home, loopbackOnlyEnv+"=1")
	var total time.Duration
	for b.Loop() {
		total += firstOutput(b, env, []byte("This wizard walks"), bin, "wizard", "--no-discover")
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkVersion_Process is the floor under the wizard's figure: the
// same binary on the same terminal printing its version.
func BenchmarkVersion_Process(b *testing.B) {
	bin := buildCommand(b)
	env := terminalEnv()
	var total time.Duration
	for b.Loop() {
		total += firstOutput(b, env, []byte("commission "), bin, "version")
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/frame")
}

// terminalEnv is this process's environment as on a plain 256-colour
// terminal outside tmux (under tmux the colour detection runs `tmux
// info`), with set added.
func terminalEnv(set ...string) []string {
	set = append(set, "TERM=xterm-256color")
	drop := map[string]bool{"TMUX": true, "NO_COLOR": true}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, set...)
}

// buildCommand builds this command into a temporary folder.
func buildCommand(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "commission")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// firstOutput starts argv on a new pseudo-terminal and returns how long
// until want appeared on it; then it ends the process.
func firstOutput(b *testing.B, env []string, want []byte, argv ...string) time.Duration {
	b.Helper()
	ptm, pts, err := openPTY(24, 80)
	if err != nil {
		b.Fatal(err)
	}
	defer ptm.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pts.Close()
		b.Fatal(err)
	}
	pts.Close()
	var seen []byte
	buf := make([]byte, 64<<10)
	var took time.Duration
	for {
		n, err := ptm.Read(buf)
		seen = append(seen, buf[:n]...)
		if bytes.Contains(seen, want) {
			took = time.Since(start)
			break
		}
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			b.Fatalf("%s ended before %q appeared: %v\n%q", argv[1], want, err, seen)
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return took
}

// openPTY opens a pseudo-terminal of rows x cols: the controlling side
// and the terminal the process gets.
func openPTY(rows, cols uint16) (ptm, pts *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	ptm = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		ptm.Close()
		pts.Close()
		return nil, nil, err
	}
	return ptm, pts, nil
}

// BenchmarkAudit_Process is "commission audit" of one simulated device
// as a script runs it: the command built as CI builds it, a new process
// per audit, the password on stdin, JSON on stdout, against this
// process's loopback simulators (which share the machine's cores with
// it). The device's certificate is pinned by one audit before the
// timing, as it is for every audit after a site's first. ms/audit is the
// median of the runs.
func BenchmarkAudit_Process(b *testing.B) {
	bin := buildCommand(b)
	lab, err := startLab(context.Background(), 50*time.Millisecond, true) // the demo's devices, first login done
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	for _, d := range lab.devices {
		b.Run(strings.ReplaceAll(d.Label, " ", "_"), func(b *testing.B) {
			argv := withPins(b, d.AuditArgs)
			audit := func() time.Duration {
				cmd := exec.Command(bin, argv...)
				cmd.Stdin = strings.NewReader(d.Password + "\n")
				cmd.Env = append(os.Environ(), loopbackOnlyEnv+"=1")
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				start := time.Now()
				err := cmd.Run()
				took := time.Since(start)
				var ee *exec.ExitError
				if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == int(ExitDeviation)) {
					b.Fatalf("audit: %v\n%s", err, errb.String())
				}
				if !bytes.Contains(out.Bytes(), []byte(`"schema": "commission.audit/v1"`)) {
					b.Fatalf("audit printed no report:\n%s\n%s", out.String(), errb.String())
				}
				return took
			}
			audit() // pins the certificate
			var took []time.Duration
			for b.Loop() {
				took = append(took, audit())
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms/audit")
		})
	}
}

package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keyFP is a fingerprint that only key has, so that a pin read back
// names the process and the Trust that wrote it.
func keyFP(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func mustTrust(t *testing.T, s *PinStore, hp, fp string) {
	t.Helper()
	if err := s.Trust(hp, fp); err != nil {
		t.Fatalf("trust %s: %v", hp, err)
	}
}

func wantPin(t *testing.T, s *PinStore, hp, fp string) {
	t.Helper()
	if got, ok := s.Lookup(hp); !ok || got != fp {
		t.Errorf("%s: pin %q %v, want %q", hp, got, ok, fp)
	}
}

func reopen(t *testing.T, path string) *PinStore {
	t.Helper()
	s, err := OpenPins(path)
	if err != nil {
		t.Fatalf("reopen the pin file: %v", err)
	}
	return s
}

// TestPinsTwoStoresOnOneFileMerge: two stores opened on one pin file
// before either trusts (two commission processes) each trust a device;
// the file keeps both, the later writer learns the other's pin, a pin
// both trusted is the later Trust's, and a line removed by hand (as the
// STOP screen tells the technician to) is not written back.
func TestPinsTwoStoresOnOneFileMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	seed := reopen(t, path)
	mustTrust(t, seed, "127.0.0.9:443", keyFP("seed"))
	a, b := reopen(t, path), reopen(t, path)

	mustTrust(t, a, "127.0.0.1:443", keyFP("a"))
	mustTrust(t, b, "127.0.0.2:443", keyFP("b"))
	onDisk := reopen(t, path)
	wantPin(t, onDisk, "127.0.0.1:443", keyFP("a"))
	wantPin(t, onDisk, "127.0.0.2:443", keyFP("b"))
	wantPin(t, onDisk, "127.0.0.9:443", keyFP("seed"))
	wantPin(t, b, "127.0.0.1:443", keyFP("a")) // learnt at its write

	// Both trust one device: the later Trust is the pin, and a's next
	// write takes it from the file rather than writing its own back.
	mustTrust(t, a, "127.0.0.3:443", keyFP("a3"))
	mustTrust(t, b, "127.0.0.3:443", keyFP("b3"))
	mustTrust(t, a, "127.0.0.4:443", keyFP("a4"))
	wantPin(t, reopen(t, path), "127.0.0.3:443", keyFP("b3"))
	wantPin(t, a, "127.0.0.3:443", keyFP("b3"))

	// The technician removes a line and adds a comment: a's next write
	// keeps both edits, and a forgets the removed pin.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if !strings.HasPrefix(line, "127.0.0.9:443 ") {
			kept = append(kept, line)
		}
	}
	kept = append(kept, "# 127.0.0.9 replaced on purpose")
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustTrust(t, a, "127.0.0.5:443", keyFP("a5"))
	if _, ok := reopen(t, path).Lookup("127.0.0.9:443"); ok {
		t.Error("a line removed by hand was written back")
	}
	if _, ok := a.Lookup("127.0.0.9:443"); ok {
		t.Error("the store kept a pin removed from the file")
	}
	if raw, _ := os.ReadFile(path); !strings.Contains(string(raw), "# 127.0.0.9 replaced on purpose\n") {
		t.Errorf("a comment written by hand was dropped:\n%s", raw)
	}
	if st, err := os.Stat(path + ".lock"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v, want mode 0600", st, err)
	}
}

// TestPinsMalformedOnDiskStopsTheWrite: a pin file another hand made
// malformed after this store read it stops the write with an error
// naming the line, leaves the file as it is and keeps no new pin.
func TestPinsMalformedOnDiskStopsTheWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	s := reopen(t, path)
	mustTrust(t, s, "127.0.0.1:443", keyFP("a"))
	bad := []byte("# edited\n127.0.0.1:443 sha256:" + strings.Repeat("ab", 32) + "\n127.0.0.2:443 sha256:zz\n")
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Trust("127.0.0.3:443", keyFP("c"))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), path) {
		t.Fatalf("trust over a malformed file: %v, want an error naming %s line 3", err, path)
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, bad) {
		t.Errorf("the malformed file was replaced:\n%s", raw)
	}
	if _, ok := s.Lookup("127.0.0.3:443"); ok {
		t.Error("a pin whose write failed is kept")
	}
	// A new pin for a pinned device whose write fails: the old one stays.
	if err := s.Trust("127.0.0.1:443", keyFP("a2")); err == nil {
		t.Fatal("trust over a malformed file succeeded")
	}
	wantPin(t, s, "127.0.0.1:443", keyFP("a"))
	// Too large: the limit holds for the re-read as well.
	if err := os.WriteFile(path, bytes.Repeat([]byte("#\n"), maxPinFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Trust("127.0.0.3:443", keyFP("c")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("trust over a pin file past the size limit: %v, want %v", err, ErrTooLarge)
	}
}

// TestPinsLongLineKept: a line longer than a scanner's token limit does
// not end the reading early, so the pins after it are not lost when
// another store writes.
func TestPinsLongLineKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_devices")
	text := "# " + strings.Repeat("x", 100<<10) + "\n127.0.0.1:443 sha256:" + strings.Repeat("ab", 32) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	if _, ok := s.Lookup("127.0.0.1:443"); !ok {
		t.Error("the pin after a long line was not read")
	}
	mustTrust(t, s, "127.0.0.2:443", keyFP("b"))
	if _, ok := reopen(t, path).Lookup("127.0.0.1:443"); !ok {
		t.Error("the pin after a long line was lost by a write")
	}
}

// pinsChild is what a child process of TestPinsProcessesShareTheFile
// does, from COMMISSION_PINS_CHILD.
type pinsChild struct {
	Path   string
	Prefix string // host part of the child's keys
	Keys   int
}

func (c pinsChild) key(i int) string { return net.JoinHostPort(c.Prefix, strconv.Itoa(1000+i)) }

// runPinsChild opens the pin file, says READY, waits for a line on its
// input (every child has opened the file by then, so each holds a stale
// copy of it), trusts its keys from 5 goroutines at once and says DONE.
// TestMain runs it instead of the tests.
func runPinsChild(raw string) {
	var c pinsChild
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fail(err)
	}
	s, err := OpenPins(c.Path)
	if err != nil {
		fail(err)
	}
	fmt.Println("READY")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fail(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := range 5 {
		wg.Go(func() {
			for i := g; i < c.Keys; i += 5 {
				if err := s.Trust(c.key(i), keyFP(c.key(i))); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fail(err)
	}
	fmt.Println("DONE")
	os.Exit(0)
}

// TestPinsProcessesShareTheFile: four processes, each opened on one pin
// file before any trusts, trust 25 devices each at once; the file ends
// with all 100 pins, each the one its process trusted.
func TestPinsProcessesShareTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "known_devices")
	mustTrust(t, reopen(t, path), "127.0.0.1:1", keyFP("before"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const procs, keys = 4, 25
	var children []pinsChild
	var cmds []*exec.Cmd
	var outs []*bufio.Reader
	var ins []io.WriteCloser
	for p := range procs {
		c := pinsChild{Path: path, Prefix: "127.0.1." + strconv.Itoa(p+1), Keys: keys}
		raw, _ := json.Marshal(c)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "COMMISSION_PINS_CHILD="+string(raw))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		children, cmds, ins = append(children, c), append(cmds, cmd), append(ins, stdin)
		outs = append(outs, bufio.NewReader(stdout))
	}
	for p, out := range outs {
		if line, err := out.ReadString('\n'); line != "READY\n" {
			t.Fatalf("child %d: %q %v, want READY", p, line, err)
		}
	}
	for _, in := range ins {
		io.WriteString(in, "go\n")
		in.Close()
	}
	for p, out := range outs {
		if line, err := out.ReadString('\n'); line != "DONE\n" {
			t.Errorf("child %d: %q %v, want DONE", p, line, err)
		}
		if err := cmds[p].Wait(); err != nil {
			t.Errorf("child %d: %v", p, err)
		}
	}
	final := reopen(t, path)
	lost := 0
	for _, c := range children {
		for i := range c.Keys {
			if got, ok := final.Lookup(c.key(i)); !ok || got != keyFP(c.key(i)) {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d pins trusted by %d processes at once are not in the file", lost, procs*keys, procs)
	}
	wantPin(t, final, "127.0.0.1:1", keyFP("before"))
}

// BenchmarkTrust is the cost of one Trust, alone and with many at once
// (which share writes), into a new file and into one of 1000 pins.
func BenchmarkTrust(b *testing.B) {
	for _, size := range []int{0, 1000} {
		b.Run("file="+strconv.Itoa(size), func(b *testing.B) {
			store, err := OpenPins(filepath.Join(b.TempDir(), "known_devices"))
			if err != nil {
				b.Fatal(err)
			}
			for i := range size {
				key := net.JoinHostPort("10.1.0.1", strconv.Itoa(i))
				if err := store.Trust(key, keyFP(key)); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("serial", func(b *testing.B) {
				for i := range b.N {
					if err := store.Trust("127.0.0.1:1", keyFP(strconv.Itoa(i))); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				var n atomic.Int64
				b.SetParallelism(32)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(n.Add(1))
						if err := store.Trust(net.JoinHostPort("127.0.0.2", strconv.Itoa(i%64)), keyFP(strconv.Itoa(i))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

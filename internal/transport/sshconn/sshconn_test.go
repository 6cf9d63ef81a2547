package sshconn

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/peertest"
)

// peerTimeout bounds each step against the real sshd. It is generous: on
// two busy cores under -race, sshd's start and the key exchange can take
// seconds. It only bounds a failure; a passing run is as fast as sshd.
const peerTimeout = 30 * time.Second

// writeKey writes a new Ed25519 private key in OpenSSH form and returns its signer.
func writeKey(t *testing.T, path string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sshd is a real OpenSSH server on loopback for one test.
type sshd struct {
	bin       string // the sshd program
	dir, user string
	port      int
	client    ssh.Signer
}

func newSSHD(t *testing.T) *sshd {
	t.Helper()
	bin := peertest.Require(t, "sshd")
	u := os.Getenv("USER")
	if u == "" {
		out, err := exec.Command("id", "-un").Output()
		if err != nil {
			t.Skipf("cannot tell the current user: %v", err)
		}
		u = strings.TrimSpace(string(out))
	}
	d := &sshd{bin: bin, dir: t.TempDir(), user: u, port: freePort(t)}
	d.client = writeKey(t, filepath.Join(d.dir, "client_key"))
	auth := ssh.MarshalAuthorizedKey(d.client.PublicKey())
	if err := os.WriteFile(filepath.Join(d.dir, "authorized_keys"), auth, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs sshd with a fresh host key; the returned func stops it.
func (d *sshd) start(t *testing.T) func() {
	t.Helper()
	hostKey := filepath.Join(d.dir, fmt.Sprintf("host_key_%d", time.Now().UnixNano()))
	writeKey(t, hostKey)
	conf := filepath.Join(d.dir, "sshd_config")
	text := fmt.Sprintf(`ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PidFile none
PermitRootLogin yes
AllowUsers %s
`, hostKey, filepath.Join(d.dir, "authorized_keys"), d.user)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(d.bin, "-D", "-e", "-f", conf, "-p", fmt.Sprint(d.port))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var lines []string
		once := false
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if !once && strings.Contains(sc.Text(), "listening on") {
				once = true
				ready <- ""
			}
		}
		if !once {
			ready <- strings.Join(lines, "; ")
		}
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			_ = cmd.Wait()
			if strings.Contains(msg, "privilege separation directory") && !peertest.Required() {
				t.Skipf("%s sshd cannot start here: %s (create it, e.g. mkdir -p /run/sshd, as root)", peertest.SkipMarker, msg)
			}
			t.Fatalf("sshd did not start: %s", msg)
		}
	case <-time.After(peerTimeout):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("sshd did not say it listens within %s", peerTimeout)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	return stop
}

func (d *sshd) cfg() Config {
	return Config{User: d.user, Signer: d.client, KnownHosts: filepath.Join(d.dir, "known_hosts"), Timeout: peerTimeout}
}

func TestTOFUThenChangedKey(t *testing.T) {
	d := newSSHD(t)
	stop := d.start(t)
	ctx := context.Background()
	hp := fmt.Sprintf("127.0.0.1:%d", d.port)

	c, err := Dial(ctx, hp, d.cfg())
	if err != nil {
		t.Fatalf("first dial: %v", err)
	}
	if !strings.HasPrefix(c.NewHostKey, "SHA256:") {
		t.Errorf("first dial: NewHostKey = %q, want a fingerprint", c.NewHostKey)
	}
	firstKey := c.NewHostKey
	out, err := c.Run(ctx, "echo hello-$((6*7))")
	if err != nil || strings.TrimSpace(out) != "hello-42" {
		t.Errorf("run: %q, %v", out, err)
	}
	if _, err := c.Run(ctx, "exit 3"); err == nil || !strings.Contains(err.Error(), "status 3") {
		t.Errorf("exit 3: err = %v, want status 3", err)
	}
	out, err = c.Run(ctx, ListenCommand)
	if err != nil {
		t.Fatalf("listen command: %v", err)
	}
	socks, err := ParseListening(out)
	if err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	found := false
	for _, s := range socks {
		if s.Proto == "tcp" && s.Port == d.port {
			found = true
		}
	}
	if !found {
		t.Errorf("sshd's own port %d not in %v", d.port, socks)
	}
	c.Close()

	kh, err := os.ReadFile(d.cfg().KnownHosts)
	if err != nil || !strings.Contains(string(kh), fmt.Sprintf("[127.0.0.1]:%d", d.port)) {
		t.Fatalf("known_hosts = %q, %v; want the pinned host", kh, err)
	}

	// second connect: known key, nothing new
	c, err = Dial(ctx, hp, d.cfg())
	if err != nil {
		t.Fatalf("second dial: %v", err)
	}
	if c.NewHostKey != "" {
		t.Errorf("second dial trusted a new key %q", c.NewHostKey)
	}
	c.Close()

	// restart with another host key: the session must stop
	stop()
	d.start(t)
	_, err = Dial(ctx, hp, d.cfg())
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("dial after key change: err = %v, want *HostKeyChangedError", err)
	}
	if !strings.Contains(err.Error(), "STOP") || changed.Line != 1 {
		t.Errorf("changed-key error = %v (line %d)", err, changed.Line)
	}
	// The wizard's STOP screen reads the typed contract.
	var tc interface {
		TrustChanged() (subject, pinned, seen string)
	}
	if !errors.As(err, &tc) {
		t.Fatalf("changed-key error %T has no TrustChanged", err)
	}
	if subj, pinned, seen := tc.TrustChanged(); subj != hp || pinned != firstKey || seen == firstKey || !strings.HasPrefix(seen, "SHA256:") {
		t.Errorf("TrustChanged() = %q, %q, %q; want %q, the first key %q, another key", subj, pinned, seen, hp, firstKey)
	}
	kh2, _ := os.ReadFile(d.cfg().KnownHosts)
	if string(kh2) != string(kh) {
		t.Errorf("known_hosts was rewritten after a changed key")
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Dial(ctx, "127.0.0.1:1", Config{User: "x", Password: "y"}); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Errorf("no known_hosts: %v", err)
	}
	if _, err := Dial(ctx, "127.0.0.1:1", Config{User: "x", KnownHosts: filepath.Join(dir, "kh")}); err == nil || !strings.Contains(err.Error(), "password or a key") {
		t.Errorf("no auth: %v", err)
	}
	port := freePort(t) // closed now
	_, err := Dial(ctx, fmt.Sprintf("127.0.0.1:%d", port), Config{User: "x", Password: "y", KnownHosts: filepath.Join(dir, "kh"), Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "y") && strings.Contains(fmt.Sprint(err), "password y") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestParseListening(t *testing.T) {
	ss := `Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
udp   UNCONN 0      0            0.0.0.0:40404      0.0.0.0:*
tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*
tcp   LISTEN 0      128             [::]:22            [::]:*
tcp   LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*
tcp   LISTEN 0      128                *:8443             *:*
`
	netstat := `Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN
tcp6       0      0 :::8443                 :::*                    LISTEN
udp        0      0 192.168.4.127:68        0.0.0.0:*
`
	cases := []struct {
		name, in string
		want     []string
	}{
		{"ss", ss, []string{"udp 0.0.0.0 40404", "tcp 0.0.0.0 22", "tcp :: 22", "tcp 127.0.0.53 53", "tcp 0.0.0.0 8443"}},
		{"ss -H", strings.SplitN(ss, "\n", 2)[1], []string{"udp 0.0.0.0 40404", "tcp 0.0.0.0 22", "tcp :: 22", "tcp 127.0.0.53 53", "tcp 0.0.0.0 8443"}},
		{"netstat", netstat, []string{"tcp 0.0.0.0 22", "tcp :: 8443", "udp 192.168.4.127 68"}},
		{"header only", "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", nil},
	}
	for _, c := range cases {
		socks, err := ParseListening(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, s := range socks {
			got = append(got, fmt.Sprintf("%s %s %d", s.Proto, s.Addr, s.Port))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
	}
	if _, err := ParseListening("bash: ss: command not found\n"); err == nil {
		t.Error("garbage output parsed without error")
	}
}

func FuzzParseListening(f *testing.F) {
	f.Add("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n")
	f.Add("tcp6 0 0 :::8443 :::* LISTEN\n")
	f.Fuzz(func(t *testing.T, s string) {
		socks, err := ParseListening(s)
		if err == nil {
			for _, k := range socks {
				if k.Port < 0 || k.Port > 65535 || (k.Proto != "tcp" && k.Proto != "udp") {
					t.Fatalf("bad socket %+v", k)
				}
			}
		}
	})
}

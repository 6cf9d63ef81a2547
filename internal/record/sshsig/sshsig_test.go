package sshsig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/commission-tool/commission/internal/peertest"
)

var message = []byte("{\"schema\":\"commission.record/v1\"}\n")

func edSigner(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func rsaSigner(t *testing.T) (ssh.Signer, *rsa.PrivateKey) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ed, _ := edSigner(t)
	rs, _ := rsaSigner(t)
	for _, s := range []ssh.Signer{ed, rs} {
		t.Run(s.PublicKey().Type(), func(t *testing.T) {
			sig, err := Sign(s, Namespace, bytes.NewReader(message))
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := Parse(sig)
			if err != nil {
				t.Fatal(err)
			}
			if s.PublicKey().Type() == ssh.KeyAlgoRSA && parsed.Sig.Format != ssh.KeyAlgoRSASHA512 {
				t.Fatalf("rsa signature format %s, want rsa-sha2-512", parsed.Sig.Format)
			}
			pub, err := Verify(sig, bytes.NewReader(message), Namespace)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pub.Marshal(), s.PublicKey().Marshal()) {
				t.Fatal("verify returned another key")
			}
			tampered := bytes.Clone(message)
			tampered[3] ^= 1
			if _, err := Verify(sig, bytes.NewReader(tampered), Namespace); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered message: got %v, want ErrBadSignature", err)
			}
			if _, err := Verify(sig, bytes.NewReader(message), "file"); !errors.Is(err, ErrNamespace) {
				t.Fatalf("wrong namespace: got %v, want ErrNamespace", err)
			}
			crlf := bytes.ReplaceAll(sig, []byte("\n"), []byte("\r\n"))
			if _, err := Verify(crlf, bytes.NewReader(message), Namespace); !errors.Is(err, ErrFormat) {
				t.Fatalf("CRLF signature: got %v, want ErrFormat", err)
			}
		})
	}
}

// sha1Signer makes ssh-rsa (SHA-1) signatures whatever it is asked for.
type sha1Signer struct{ ssh.Signer }

func TestRefusesSHA1RSA(t *testing.T) {
	rs, _ := rsaSigner(t)
	if _, err := Sign(sha1Signer{rs}, Namespace, bytes.NewReader(message)); !errors.Is(err, ErrKeyType) {
		t.Fatalf("signer without SignWithAlgorithm: got %v, want ErrKeyType", err)
	}
	// Hand-build an ssh-rsa signature and check that Verify refuses it.
	h := newHashMust(t)
	h.Write(message)
	raw, err := rs.Sign(rand.Reader, toSign(Namespace, "sha512", h.Sum(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if raw.Format != ssh.KeyAlgoRSA {
		t.Skipf("plain Sign made %s, cannot build an ssh-rsa signature", raw.Format)
	}
	b := append([]byte(magic), ssh.Marshal(blob{Version: 1, PublicKey: string(rs.PublicKey().Marshal()),
		Namespace: Namespace, HashAlg: "sha512", Signature: string(ssh.Marshal(raw))})...)
	if _, err := Verify(Armor(b), bytes.NewReader(message), Namespace); !errors.Is(err, ErrKeyType) {
		t.Fatalf("ssh-rsa signature: got %v, want ErrKeyType", err)
	}
}

func newHashMust(t *testing.T) interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
} {
	h, err := newHash("sha512")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestUnarmorRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "hello", armorBegin + "\n!!!\n" + armorEnd + "\n", armorBegin + "\nAAAA\n"} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q): got %v, want ErrFormat", in, err)
		}
	}
}

func TestAllowedSigners(t *testing.T) {
	ed, _ := edSigner(t)
	other, _ := edSigner(t)
	file := "# comment\n\n" + Line("tech@vendor.example", ed.PublicKey()) + "\n" +
		`"*@plant.example,!bad@plant.example" ` + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ed.PublicKey()))) + " comment\n" +
		`old@vendor.example valid-before="20200101" ` + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))) + "\n"
	as, err := ParseAllowedSigners([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || as[0].Line != 3 {
		t.Fatalf("parsed %d lines (first at %d), want 3 (first at 3)", len(as), as[0].Line)
	}
	now := time.Now()
	cases := []struct {
		key       ssh.PublicKey
		id, ns    string
		want      string
		wantError bool
	}{
		{ed.PublicKey(), "tech@vendor.example", Namespace, "tech@vendor.example", false},
		{ed.PublicKey(), "tech@vendor.example", "file", "", true}, // only line 2 has no namespaces, and it does not list tech@vendor
		{ed.PublicKey(), "anyone@plant.example", "file", "anyone@plant.example", false},
		{ed.PublicKey(), "bad@plant.example", Namespace, "", true},
		{ed.PublicKey(), "someone@else.example", Namespace, "", true},
		{other.PublicKey(), "old@vendor.example", Namespace, "", true}, // expired
		{other.PublicKey(), "tech@vendor.example", Namespace, "", true},
	}
	for _, c := range cases {
		got, err := as.Find(c.key, c.id, c.ns, now)
		if c.wantError {
			if !errors.Is(err, ErrNotAllowed) {
				t.Errorf("Find(%s, %s): got %v, %v; want ErrNotAllowed", c.id, c.ns, got, err)
			}
			continue
		}
		if err != nil || len(got) == 0 || got[0] != c.want {
			t.Errorf("Find(%s, %s) = %v, %v; want %s", c.id, c.ns, got, err, c.want)
		}
	}
	if _, err := as.Find(other.PublicKey(), "old@vendor.example", Namespace, time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("valid before 2020 at 2019: %v", err)
	}
	if _, err := ParseAllowedSigners([]byte("tech@x ssh-ed25519 !!notbase64\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: got %v, want an error naming line 1", err)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		s, p string
		want bool
	}{
		{"a@b.c", "*@b.c", true}, {"a@b.c", "a@b.?", true}, {"a@b.c", "*", true},
		{"a@b.c", "b@b.c", false}, {"a@b.cd", "*@b.c", false}, {"", "*", true}, {"", "?", false},
	} {
		if got := match(c.s, c.p); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.s, c.p, got)
		}
	}
}

// --- tests against the real OpenSSH ---

func needSSHKeygen(t *testing.T) string {
	t.Helper()
	return peertest.Require(t, "ssh-keygen")
}

// run runs a command with a time limit, stdin from in, and returns stdout,
// stderr and its error.
func run(t *testing.T, in []byte, name string, args ...string) ([]byte, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.Bytes(), errb.String(), err
}

// writeKey writes priv as an OpenSSH private key file (0600) and returns its path.
func writeKey(t *testing.T, dir, name string, priv any) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestByteIdenticalToSSHKeygen(t *testing.T) {
	keygen := needSSHKeygen(t)
	dir := t.TempDir()
	s, priv := edSigner(t)
	key := writeKey(t, dir, "id_ed25519", priv)
	want, stderr, err := run(t, message, keygen, "-Y", "sign", "-f", key, "-n", Namespace)
	if err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v: %s", err, stderr)
	}
	got, err := Sign(s, Namespace, bytes.NewReader(message))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("signature differs from ssh-keygen's\n got: %s\nwant: %s", got, want)
	}
	// And Go verifies what ssh-keygen made.
	if _, err := Verify(want, bytes.NewReader(message), Namespace); err != nil {
		t.Fatalf("verify ssh-keygen's signature: %v", err)
	}
}

func TestSSHKeygenVerifies(t *testing.T) {
	keygen := needSSHKeygen(t)
	ed, _ := edSigner(t)
	rs, _ := rsaSigner(t)
	for _, s := range []ssh.Signer{ed, rs} {
		t.Run(s.PublicKey().Type(), func(t *testing.T) {
			dir := t.TempDir()
			sig, err := Sign(s, Namespace, bytes.NewReader(message))
			if err != nil {
				t.Fatal(err)
			}
			sigPath := filepath.Join(dir, "record.json.sig")
			allowed := filepath.Join(dir, "allowed_signers")
			if err := os.WriteFile(sigPath, sig, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(allowed, []byte(Line("tech@vendor.example", s.PublicKey())+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			verify := func(id, ns string, msg []byte) (string, error) {
				out, stderr, err := run(t, msg, keygen, "-Y", "verify", "-f", allowed, "-I", id, "-n", ns, "-s", sigPath)
				return string(out) + stderr, err
			}
			out, err := verify("tech@vendor.example", Namespace, message)
			if err != nil {
				t.Fatalf("ssh-keygen -Y verify rejected our signature: %v: %s", err, out)
			}
			if !strings.Contains(out, "Good") || !strings.Contains(out, Fingerprint(s.PublicKey())) {
				t.Fatalf("unexpected ssh-keygen output: %s", out)
			}
			if out, err := verify("tech@vendor.example", "file", message); err == nil {
				t.Fatalf("ssh-keygen accepted a wrong namespace: %s", out)
			}
			if out, err := verify("intruder@vendor.example", Namespace, message); err == nil {
				t.Fatalf("ssh-keygen accepted a wrong identity: %s", out)
			}
			tampered := bytes.Clone(message)
			tampered[len(tampered)-2] ^= 1
			if out, err := verify("tech@vendor.example", Namespace, tampered); err == nil {
				t.Fatalf("ssh-keygen accepted a tampered file: %s", out)
			}
		})
	}
}

func BenchmarkSignVerifyEd25519(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := ssh.NewSignerFromKey(priv)
	for b.Loop() {
		sig, err := Sign(s, Namespace, bytes.NewReader(message))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(sig, bytes.NewReader(message), Namespace); err != nil {
			b.Fatal(err)
		}
	}
}

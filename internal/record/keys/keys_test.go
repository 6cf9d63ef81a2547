package keys

import (
	"bytes"
	"context"
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
	"github.com/commission-tool/commission/internal/record/sshsig"
)

var message = []byte("{\"id\":\"abc\"}\n")

func TestCreateEd25519AndFromFile(t *testing.T) {
	t.Parallel() // bcrypt key derivation is slow on purpose
	dir := t.TempDir()
	plain := filepath.Join(dir, "sub", "id_plain")
	if err := CreateEd25519(plain, "tech@vendor.example", nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(plain)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v, want 0600", fi.Mode().Perm())
	}
	if err := CreateEd25519(plain, "x", nil); err == nil {
		t.Fatal("CreateEd25519 overwrote an existing key")
	}
	s, err := FromFile(plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "file" || s.Info.KeyType != ssh.KeyAlgoED25519 || s.Info.Identity != "tech@vendor.example" {
		t.Fatalf("unexpected signer %+v", s.Info)
	}
	if !strings.HasPrefix(s.Info.Fingerprint, "SHA256:") {
		t.Fatalf("fingerprint %q", s.Info.Fingerprint)
	}
	pubLine, _ := os.ReadFile(plain + ".pub")
	pub, comment, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil || comment != "tech@vendor.example" || !bytes.Equal(pub.Marshal(), s.PublicKey().Marshal()) {
		t.Fatalf(".pub does not match the key: %v %q", err, comment)
	}

	enc := filepath.Join(dir, "id_enc")
	if err := CreateEd25519(enc, "", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile(enc, Options{}); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("encrypted key without prompt: got %v, want ErrPassphrase", err)
	}
	asked := 0
	wrong := func(string) ([]byte, error) { asked++; return []byte("wrong"), nil }
	_, err = FromFile(enc, Options{Passphrase: wrong})
	if !errors.Is(err, ErrPassphrase) || asked != passphraseTries {
		t.Fatalf("wrong passphrase: got %v after %d asks", err, asked)
	}
	if strings.Contains(err.Error(), "wrong\"") || strings.Contains(err.Error(), "horse") {
		t.Fatalf("error leaks a passphrase: %v", err)
	}
	asked = 0
	right := func(p string) ([]byte, error) {
		asked++
		if p != enc {
			t.Errorf("prompt for %s, want %s", p, enc)
		}
		if asked == 1 {
			return []byte("typo"), nil
		}
		return []byte("correct horse"), nil
	}
	s2, err := FromFile(enc, Options{Passphrase: right, Identity: "who@plant.example"})
	if err != nil {
		t.Fatal(err)
	}
	if asked != 2 || s2.Info.Identity != "who@plant.example" {
		t.Fatalf("asked %d times, identity %q", asked, s2.Info.Identity)
	}
	if _, err := sshsig.Sign(s2, sshsig.Namespace, bytes.NewReader(message)); err != nil {
		t.Fatal(err)
	}
	if keygen, ok := peertest.Optional(t, "ssh-keygen"); ok {
		out, stderr, err := run(t, nil, nil, keygen, "-y", "-P", "correct horse", "-f", enc)
		if err != nil {
			t.Fatalf("ssh-keygen cannot read the created key: %v: %s", err, stderr)
		}
		if !bytes.HasPrefix(out, []byte("ssh-ed25519 ")) {
			t.Fatalf("ssh-keygen -y: %s", out)
		}
	}
}

func TestFindOrder(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "id_none")
	if _, err := Find(Options{NoAgent: true, KeyFiles: []string{missing}}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: got %v, want ErrNoKey", err)
	}
	// A dead agent socket falls through to the file.
	key := filepath.Join(dir, "id_ed25519")
	if err := CreateEd25519(key, "tech@vendor.example", nil); err != nil {
		t.Fatal(err)
	}
	s, err := Find(Options{AgentSocket: filepath.Join(dir, "no-agent.sock"), KeyFiles: []string{missing, key}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Source != "file" || s.Path != key {
		t.Fatalf("got %s %s, want file %s", s.Source, s.Path, key)
	}
	// An unusable file is an error, not a silent skip.
	bad := filepath.Join(dir, "id_bad")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(Options{NoAgent: true, KeyFiles: []string{bad, key}}); err == nil || errors.Is(err, ErrNoKey) {
		t.Fatalf("bad key file: got %v, want a parse error", err)
	}
}

// run runs a command with a time limit and returns stdout and stderr.
func run(t *testing.T, env []string, in []byte, name string, args ...string) ([]byte, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.Bytes(), errb.String(), err
}

// startAgent starts a real ssh-agent on a fresh socket and stops it when
// the test ends.
func startAgent(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		peertest.Require(t, tool)
	}
	dir, err := os.MkdirTemp("", "ag") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	cmd := exec.Command("ssh-agent", "-a", sock, "-D")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent did not create its socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func verifyWithSSHKeygen(t *testing.T, s *Signer, sig []byte) {
	t.Helper()
	dir := t.TempDir()
	sigPath := filepath.Join(dir, "m.sig")
	allowed := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(sigPath, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(allowed, []byte(sshsig.Line("tech@vendor.example", s.PublicKey())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, nil, message, "ssh-keygen", "-Y", "verify", "-f", allowed,
		"-I", "tech@vendor.example", "-n", sshsig.Namespace, "-s", sigPath)
	if err != nil {
		t.Fatalf("ssh-keygen -Y verify: %v: %s %s", err, out, stderr)
	}
	if _, _, err := run(t, nil, message, "ssh-keygen", "-Y", "verify", "-f", allowed,
		"-I", "tech@vendor.example", "-n", "other@commission.tool", "-s", sigPath); err == nil {
		t.Fatal("ssh-keygen accepted the wrong namespace")
	}
}

func TestAgentSigning(t *testing.T) {
	sock := startAgent(t)
	dir := t.TempDir()
	edPath := filepath.Join(dir, "id_ed25519")
	if err := CreateEd25519(edPath, "tech@vendor.example", nil); err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(rsaKey, "rsa")
	if err != nil {
		t.Fatal(err)
	}
	rsaPath := filepath.Join(dir, "id_rsa")
	if err := os.WriteFile(rsaPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SSH_AUTH_SOCK=" + sock}
	for _, k := range []string{rsaPath, edPath} {
		if _, stderr, err := run(t, env, nil, "ssh-add", k); err != nil {
			t.Fatalf("ssh-add %s: %v: %s", k, err, stderr)
		}
	}
	// The agent holds both; with no hint the Ed25519 key is preferred.
	s, err := Find(Options{AgentSocket: sock, KeyFiles: []string{filepath.Join(dir, "nothing")}, Identity: "tech@vendor.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Source != "agent" || s.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("got %s %s, want an ed25519 key from the agent", s.Source, s.PublicKey().Type())
	}
	sig, err := sshsig.Sign(s, sshsig.Namespace, bytes.NewReader(message))
	if err != nil {
		t.Fatal(err)
	}
	verifyWithSSHKeygen(t, s, sig)

	// Naming the RSA key file picks the agent's RSA key, which must sign with rsa-sha2-512.
	if err := os.WriteFile(rsaPath+".pub", ssh.MarshalAuthorizedKey(mustPub(t, rsaKey)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Find(Options{AgentSocket: sock, KeyFiles: []string{rsaPath}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Source != "agent" || r.PublicKey().Type() != ssh.KeyAlgoRSA {
		t.Fatalf("got %s %s, want the rsa key from the agent", r.Source, r.PublicKey().Type())
	}
	rsig, err := sshsig.Sign(r, sshsig.Namespace, bytes.NewReader(message))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sshsig.Parse(rsig)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Sig.Format != ssh.KeyAlgoRSASHA512 {
		t.Fatalf("agent rsa signature %s, want rsa-sha2-512", parsed.Sig.Format)
	}
	verifyWithSSHKeygen(t, r, rsig)
}

func mustPub(t *testing.T, k *rsa.PrivateKey) ssh.PublicKey {
	t.Helper()
	p, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Package keys finds the technician's SSH key to sign a record with: a key
// held by a running ssh-agent (SSH_AUTH_SOCK) first, else a key file
// (asking for its passphrase through a callback), else nothing, in which
// case the caller may offer CreateEd25519.
//
// Only Ed25519 and RSA keys are used. Private keys and passphrases never
// reach an error message or a log.
package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/commission-tool/commission/internal/record/sshsig"
)

// ErrNoKey is returned by Find when neither the agent nor a key file
// holds a usable key. The caller may then offer CreateEd25519.
var ErrNoKey = errors.New("no ssh key found")

// ErrPassphrase is returned when a key file's passphrase is wrong or no
// passphrase prompt is available.
var ErrPassphrase = errors.New("cannot decrypt the key file")

const (
	// maxKeyFile bounds a private or public key file.
	maxKeyFile = 64 << 10
	// DefaultTimeout bounds each request to the agent.
	DefaultTimeout = 10 * time.Second
	// passphraseTries is how often a wrong passphrase is asked again.
	passphraseTries = 3
)

// SignerInfo describes a signer for the printable record and the
// allowed_signers line.
type SignerInfo struct {
	Identity    string // the principal, e.g. the technician's e-mail
	KeyType     string // "ssh-ed25519" or "ssh-rsa"
	Fingerprint string // "SHA256:…", as ssh-keygen prints it
}

// Info builds the SignerInfo of a public key.
func Info(pub ssh.PublicKey, identity string) SignerInfo {
	return SignerInfo{Identity: identity, KeyType: pub.Type(), Fingerprint: sshsig.Fingerprint(pub)}
}

// Options tell Find where to look.
type Options struct {
	// AgentSocket is the ssh-agent socket; empty means $SSH_AUTH_SOCK.
	AgentSocket string
	// NoAgent skips the agent.
	NoAgent bool
	// KeyFiles are private key files to try in order; empty means
	// DefaultKeyFiles(). With an agent, a key whose .pub file is listed
	// here is preferred among the agent's keys.
	KeyFiles []string
	// Passphrase is asked for the passphrase of an encrypted key file. It
	// may be nil (encrypted files then fail with ErrPassphrase). Find
	// zeroes the returned slice after use.
	Passphrase func(path string) ([]byte, error)
	// Identity is the principal for SignerInfo; empty means the key's comment.
	Identity string
	// Timeout bounds each agent request; zero means DefaultTimeout.
	Timeout time.Duration
}

// Signer is a found key, ready to sign. Close it when done (it may hold
// an agent connection).
type Signer struct {
	ssh.Signer
	Source  string // "agent" or "file"
	Path    string // key file, for Source "file"
	Comment string
	Info    SignerInfo
	close   func() error
}

// SignWithAlgorithm signs with the given algorithm (rsa-sha2-512 for an
// RSA key), so *Signer is an ssh.AlgorithmSigner.
func (s *Signer) SignWithAlgorithm(r io.Reader, data []byte, algo string) (*ssh.Signature, error) {
	as, ok := s.Signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("%s key cannot choose its signature algorithm", s.PublicKey().Type())
	}
	return as.SignWithAlgorithm(r, data, algo)
}

// Close releases the agent connection, if any.
func (s *Signer) Close() error {
	if s == nil || s.close == nil {
		return nil
	}
	return s.close()
}

// DefaultKeyFiles lists ~/.ssh/id_ed25519 and ~/.ssh/id_rsa.
func DefaultKeyFiles() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	return []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa")}
}

// DefaultNewKeyPath is where CreateEd25519 should put a new key for
// commissioning records: ~/.ssh/id_ed25519_commission.
func DefaultNewKeyPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("home directory: %w", err)
	}
	return filepath.Join(home, ".ssh", "id_ed25519_commission"), nil
}

func usable(pub ssh.PublicKey) bool {
	return pub.Type() == ssh.KeyAlgoED25519 || pub.Type() == ssh.KeyAlgoRSA
}

// Find returns a signer: from the agent when one runs and holds an
// Ed25519 or RSA key, else from the first key file that exists. It
// returns an error wrapping ErrNoKey when there is none.
func Find(opts Options) (*Signer, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	files := opts.KeyFiles
	if len(files) == 0 {
		files = DefaultKeyFiles()
	}
	var agentErr error
	if !opts.NoAgent {
		sock := opts.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock != "" {
			s, err := fromAgent(sock, files, opts)
			if err == nil {
				return s, nil
			}
			agentErr = err
		}
	}
	for _, f := range files {
		s, err := FromFile(f, opts)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return s, err
	}
	if agentErr != nil {
		return nil, fmt.Errorf("%w (agent: %w)", ErrNoKey, agentErr)
	}
	return nil, ErrNoKey
}

// fromAgent picks a key from the agent: one matching a listed key file's
// .pub first, else the first Ed25519 key, else the first RSA key.
func fromAgent(sock string, files []string, opts Options) (*Signer, error) {
	conn, err := net.DialTimeout("unix", sock, opts.Timeout)
	if err != nil {
		return nil, fmt.Errorf("connect to ssh-agent: %w", err)
	}
	dc := &deadlineConn{Conn: conn, timeout: opts.Timeout}
	client := agent.NewClient(dc)
	dc.arm()
	list, err := client.List()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("list ssh-agent keys: %w", err)
	}
	var wanted [][]byte
	for _, f := range files {
		if pub, _, err := readPub(f + ".pub"); err == nil {
			wanted = append(wanted, pub.Marshal())
		}
	}
	pick := -1
	score := 0
	for i, k := range list {
		if !usable(k) {
			continue
		}
		s := 1
		if k.Type() == ssh.KeyAlgoED25519 {
			s = 2
		}
		for _, w := range wanted {
			if bytes.Equal(w, k.Marshal()) {
				s = 3
			}
		}
		if s > score {
			pick, score = i, s
		}
	}
	if pick < 0 {
		conn.Close()
		return nil, errors.New("ssh-agent holds no ed25519 or rsa key")
	}
	key := list[pick]
	signers, err := client.Signers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh-agent signers: %w", err)
	}
	for _, s := range signers {
		if bytes.Equal(s.PublicKey().Marshal(), key.Marshal()) {
			as, ok := s.(ssh.AlgorithmSigner)
			if !ok {
				conn.Close()
				return nil, errors.New("ssh-agent signer cannot choose its algorithm")
			}
			id := opts.Identity
			if id == "" {
				id = key.Comment
			}
			var once sync.Once
			return &Signer{
				Signer:  agentSigner{AlgorithmSigner: as, dc: dc},
				Source:  "agent",
				Comment: key.Comment,
				Info:    Info(key, id),
				close: func() error {
					var err error
					once.Do(func() { err = conn.Close() })
					return err
				},
			}, nil
		}
	}
	conn.Close()
	return nil, errors.New("ssh-agent key vanished between list and sign")
}

// deadlineConn sets a fresh deadline before each agent request.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) arm() { _ = c.Conn.SetDeadline(time.Now().Add(c.timeout)) }

// agentSigner bounds each signing request by the agent's timeout.
type agentSigner struct {
	ssh.AlgorithmSigner
	dc *deadlineConn
}

func (s agentSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s.dc.arm()
	return s.AlgorithmSigner.Sign(r, data)
}

func (s agentSigner) SignWithAlgorithm(r io.Reader, data []byte, algo string) (*ssh.Signature, error) {
	s.dc.arm()
	return s.AlgorithmSigner.SignWithAlgorithm(r, data, algo)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxKeyFile)
	}
	return b, nil
}

func readPub(path string) (ssh.PublicKey, string, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, "", err
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return pub, comment, nil
}

// FromFile loads a private key file, asking opts.Passphrase when it is
// encrypted (up to three times for a wrong passphrase).
func FromFile(path string, opts Options) (*Signer, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer clear(b)
	signer, err := ssh.ParsePrivateKey(b)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if opts.Passphrase == nil {
			return nil, fmt.Errorf("%w %s: it is encrypted and no passphrase prompt is available", ErrPassphrase, path)
		}
		for try := 0; try < passphraseTries; try++ {
			pass, perr := opts.Passphrase(path)
			if perr != nil {
				return nil, fmt.Errorf("passphrase for %s: %w", path, perr)
			}
			signer, err = ssh.ParsePrivateKeyWithPassphrase(b, pass)
			clear(pass)
			if !errors.Is(err, x509.IncorrectPasswordError) {
				break
			}
		}
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("%w %s: wrong passphrase", ErrPassphrase, path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parse key file %s: %w", path, err)
	}
	if !usable(signer.PublicKey()) {
		return nil, fmt.Errorf("key file %s: %s keys are not supported, use ed25519 or rsa", path, signer.PublicKey().Type())
	}
	comment := ""
	if _, c, err := readPub(path + ".pub"); err == nil {
		comment = c
	}
	id := opts.Identity
	if id == "" {
		id = comment
	}
	return &Signer{Signer: signer, Source: "file", Path: path, Comment: comment, Info: Info(signer.PublicKey(), id)}, nil
}

// CreateEd25519 makes a new Ed25519 key and writes it in OpenSSH format
// to path (mode 0600, encrypted when passphrase is not empty) and its
// public half to path+".pub" (0644). It never overwrites an existing file
// and creates the parent folder with mode 0700 when missing.
func CreateEd25519(path string, comment string, passphrase []byte) error {
	if strings.ContainsAny(comment, "\r\n") {
		return errors.New("create key: the comment must be one line")
	}
	for _, p := range []string{path, path + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("create key: %s already exists", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	defer clear(priv)
	var block *pem.Block
	if len(passphrase) > 0 {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, comment, passphrase)
	} else {
		block, err = ssh.MarshalPrivateKey(priv, comment)
	}
	if err != nil {
		return fmt.Errorf("create key: encode: %w", err)
	}
	data := pem.EncodeToMemory(block)
	defer clear(data)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if comment != "" {
		line += " " + comment
	}
	if err := writeNew(path, data, 0o600); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	if err := writeNew(path+".pub", []byte(line+"\n"), 0o644); err != nil {
		os.Remove(path)
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// writeNew writes a file that must not exist yet: to a temporary file in
// the same folder, synced, then linked into place (which fails if the
// name was taken meanwhile).
func writeNew(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-key-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	err = os.Link(name, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// no hard links on this file system: check, then rename
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("write %s: %w", filepath.Base(path), fs.ErrExist)
		}
		err = os.Rename(name, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

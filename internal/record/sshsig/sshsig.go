// Package sshsig signs and verifies detached signatures in OpenSSH's SSHSIG
// format (openssh-portable PROTOCOL.sshsig), the format of
// `ssh-keygen -Y sign` and `ssh-keygen -Y verify`.
//
// Only Ed25519 and RSA keys are accepted. RSA keys always sign with
// rsa-sha2-512; an ssh-rsa (SHA-1) signature is refused when verifying.
// The message hash is SHA-512, as ssh-keygen uses by default, so an
// Ed25519 signature made here is byte-identical to ssh-keygen's.
package sshsig

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Namespace is the fixed SSHSIG namespace of commissioning records. A
// signature made for any other namespace does not verify as a record
// signature, and a record signature cannot be replayed elsewhere.
const Namespace = "commissioning-record@commission.tool"

const (
	magic      = "SSHSIG"
	version    = 1
	armorBegin = "-----BEGIN SSH SIGNATURE-----"
	armorEnd   = "-----END SSH SIGNATURE-----"
	// armorWidth is where ssh-keygen wraps the base64 body.
	armorWidth = 70
	// maxArmor bounds the armored signature accepted by Unarmor.
	maxArmor = 64 << 10
)

// Errors a caller may test for with errors.Is.
var (
	// ErrFormat is returned for a signature that is not well-formed SSHSIG.
	ErrFormat = errors.New("not a valid ssh signature")
	// ErrNamespace is returned when the signature was made for another namespace.
	ErrNamespace = errors.New("signature namespace does not match")
	// ErrBadSignature is returned when the signature does not match the message.
	ErrBadSignature = errors.New("signature does not match the signed file")
	// ErrKeyType is returned for a key or signature algorithm this package refuses.
	ErrKeyType = errors.New("unsupported key or signature algorithm")
)

// wire forms, encoded with ssh.Marshal (strings are uint32-length-prefixed).
type signedData struct {
	Namespace string
	Reserved  string
	HashAlg   string
	Hash      string
}

type blob struct {
	Version   uint32
	PublicKey string
	Namespace string
	Reserved  string
	HashAlg   string
	Signature string
}

func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case "sha512":
		return sha512.New(), nil
	case "sha256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("%w: hash %q", ErrFormat, alg)
}

func toSign(namespace, hashAlg string, digest []byte) []byte {
	return append([]byte(magic), ssh.Marshal(signedData{
		Namespace: namespace, HashAlg: hashAlg, Hash: string(digest),
	})...)
}

// Sign reads message to its end and returns the armored SSHSIG signature
// of it, made by signer for namespace, as ssh-keygen would write it.
func Sign(signer ssh.Signer, namespace string, message io.Reader) ([]byte, error) {
	if namespace == "" {
		return nil, errors.New("sign: empty namespace")
	}
	pub := signer.PublicKey()
	algo := ""
	switch pub.Type() {
	case ssh.KeyAlgoED25519:
	case ssh.KeyAlgoRSA:
		algo = ssh.KeyAlgoRSASHA512
	default:
		return nil, fmt.Errorf("sign: %w: %s (use ed25519 or rsa)", ErrKeyType, pub.Type())
	}
	h := sha512.New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, fmt.Errorf("sign: read message: %w", err)
	}
	data := toSign(namespace, "sha512", h.Sum(nil))
	var sig *ssh.Signature
	var err error
	if algo != "" {
		as, ok := signer.(ssh.AlgorithmSigner)
		if !ok {
			return nil, fmt.Errorf("sign: %w: this rsa signer cannot make rsa-sha2-512 signatures", ErrKeyType)
		}
		sig, err = as.SignWithAlgorithm(rand.Reader, data, algo)
	} else {
		sig, err = signer.Sign(rand.Reader, data)
	}
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if algo != "" && sig.Format != algo {
		return nil, fmt.Errorf("sign: %w: signer made a %s signature", ErrKeyType, sig.Format)
	}
	b := append([]byte(magic), ssh.Marshal(blob{
		Version:   version,
		PublicKey: string(pub.Marshal()),
		Namespace: namespace,
		HashAlg:   "sha512",
		Signature: string(ssh.Marshal(sig)),
	})...)
	return Armor(b), nil
}

// Armor wraps a binary SSHSIG blob in the text armor, base64 wrapped at 70
// columns, LF line ends and a final LF, exactly like ssh-keygen.
func Armor(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	out.WriteString(armorBegin + "\n")
	for len(enc) > armorWidth {
		out.WriteString(enc[:armorWidth] + "\n")
		enc = enc[armorWidth:]
	}
	out.WriteString(enc + "\n")
	out.WriteString(armorEnd + "\n")
	return out.Bytes()
}

// Unarmor returns the binary blob of an armored signature. Like ssh-keygen
// it refuses CR characters, so a signature broken by a CRLF conversion is
// reported here rather than only by ssh-keygen.
func Unarmor(armored []byte) ([]byte, error) {
	if len(armored) > maxArmor {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxArmor)
	}
	if bytes.IndexByte(armored, '\r') >= 0 {
		return nil, fmt.Errorf("%w: contains CR characters (CRLF line ends?)", ErrFormat)
	}
	s := strings.TrimSpace(string(armored))
	body, ok := strings.CutPrefix(s, armorBegin)
	if !ok {
		return nil, fmt.Errorf("%w: missing %s", ErrFormat, armorBegin)
	}
	body, ok = strings.CutSuffix(body, armorEnd)
	if !ok {
		return nil, fmt.Errorf("%w: missing %s", ErrFormat, armorEnd)
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %w", ErrFormat, err)
	}
	return b, nil
}

// Signature is a parsed SSHSIG signature.
type Signature struct {
	PublicKey ssh.PublicKey
	Namespace string
	HashAlg   string
	Sig       *ssh.Signature
}

// Parse decodes an armored SSHSIG signature without checking it.
func Parse(armored []byte) (*Signature, error) {
	b, err := Unarmor(armored)
	if err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(b, []byte(magic))
	if !ok {
		return nil, fmt.Errorf("%w: missing SSHSIG magic", ErrFormat)
	}
	var bl blob
	if err := ssh.Unmarshal(rest, &bl); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if bl.Version != version {
		return nil, fmt.Errorf("%w: version %d", ErrFormat, bl.Version)
	}
	pub, err := ssh.ParsePublicKey([]byte(bl.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %w", ErrFormat, err)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal([]byte(bl.Signature), sig); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrFormat, err)
	}
	if _, err := newHash(bl.HashAlg); err != nil {
		return nil, err
	}
	return &Signature{PublicKey: pub, Namespace: bl.Namespace, HashAlg: bl.HashAlg, Sig: sig}, nil
}

// Verify checks the armored signature of message for namespace and returns
// the key that made it. It makes no trust decision: check the key against
// an allowed_signers file (AllowedSigners.Find) before trusting it.
func Verify(armored []byte, message io.Reader, namespace string) (ssh.PublicKey, error) {
	if namespace == "" {
		return nil, errors.New("verify: empty namespace")
	}
	s, err := Parse(armored)
	if err != nil {
		return nil, err
	}
	if s.Namespace != namespace {
		return nil, fmt.Errorf("%w: signed for %q, expected %q", ErrNamespace, s.Namespace, namespace)
	}
	switch s.PublicKey.Type() {
	case ssh.KeyAlgoED25519:
	case ssh.KeyAlgoRSA:
		if s.Sig.Format != ssh.KeyAlgoRSASHA512 && s.Sig.Format != ssh.KeyAlgoRSASHA256 {
			return nil, fmt.Errorf("%w: rsa signature %s", ErrKeyType, s.Sig.Format)
		}
	default:
		return nil, fmt.Errorf("%w: %s", ErrKeyType, s.PublicKey.Type())
	}
	h, _ := newHash(s.HashAlg)
	if _, err := io.Copy(h, message); err != nil {
		return nil, fmt.Errorf("verify: read message: %w", err)
	}
	if err := s.PublicKey.Verify(toSign(s.Namespace, s.HashAlg, h.Sum(nil)), s.Sig); err != nil {
		return nil, ErrBadSignature
	}
	return s.PublicKey, nil
}

// Fingerprint is the key's SHA-256 fingerprint as ssh-keygen prints it
// ("SHA256:" and unpadded base64).
func Fingerprint(pub ssh.PublicKey) string { return ssh.FingerprintSHA256(pub) }

// Package simstate is what the simulators share to keep a device's state
// between runs (family.DemoConfig.StateDir): the atomic write of the
// state file, the certificate kept in it, and the words of its errors.
package simstate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic replaces path with data: a temporary file in the same
// folder (mode 0600), synced, renamed over path, the folder synced. A
// crash leaves the old file or the new one, never a part.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

// Certificate rebuilds a TLS certificate from its DER chain and PKCS #8
// key, as a state file keeps them.
func Certificate(chain [][]byte, key []byte) (tls.Certificate, error) {
	if len(chain) == 0 {
		return tls.Certificate{}, errors.New("no certificate")
	}
	if _, err := x509.ParseCertificate(chain[0]); err != nil {
		return tls.Certificate{}, err
	}
	k, err := x509.ParsePKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: chain, PrivateKey: k}, nil
}

// FreshHint is the advice every state error ends with; what is "device",
// "gateway" or "server".
func FreshHint(dir, what string) string {
	return fmt.Sprintf("delete the folder %s for a fresh factory-default %s", dir, what)
}

// PortTaken is the error for a saved port that another program holds.
func PortTaken(dir, what, service string, port int, err error) error {
	return fmt.Errorf("port %d (%s), which the simulated %s used last time, is taken: %w; its state is in %s: stop what holds the port, or %s on new ports",
		port, service, what, err, dir, FreshHint(dir, what))
}

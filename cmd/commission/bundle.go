package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/tui"
)

// signing says how to find the key that signs a bundle.
type signing struct {
	KeyFile    string // a private key file; empty: ssh-agent, then the usual key files
	NoAgent    bool
	Passphrase []byte // for an encrypted key file; zeroed after use
	CreateAt   string // create a new Ed25519 key here when none is found
	Identity   string // allowed_signers principal (an e-mail address)
}

// findSigner finds the signing key per the brief: ssh-agent, else a key
// file, else (with consent, CreateAt) a new Ed25519 key.
func findSigner(s signing) (*keys.Signer, error) {
	pass := func(string) ([]byte, error) {
		if len(s.Passphrase) == 0 {
			return nil, errors.New("the key file is passphrase-protected: give its passphrase, or load it into ssh-agent (ssh-add)")
		}
		p := append([]byte(nil), s.Passphrase...)
		return p, nil
	}
	opts := keys.Options{NoAgent: s.NoAgent, Passphrase: pass, Identity: s.Identity}
	if s.KeyFile != "" {
		opts.KeyFiles = []string{s.KeyFile}
		opts.NoAgent = true
		return keys.FromFile(s.KeyFile, opts)
	}
	sg, err := keys.Find(opts)
	if errors.Is(err, keys.ErrNoKey) && s.CreateAt != "" {
		if err := keys.CreateEd25519(s.CreateAt, s.Identity, nil); err != nil {
			return nil, fmt.Errorf("create a signing key: %w", err)
		}
		return keys.FromFile(s.CreateAt, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("find a signing key: %w", err)
	}
	return sg, nil
}

// keyStatus tells the wizard which key will sign, without asking for anything.
func keyStatus(keyFile string) tui.KeyStatus {
	if keyFile != "" {
		_, err := keys.FromFile(keyFile, keys.Options{NoAgent: true})
		return tui.KeyStatus{Description: keyFile, Found: true, Encrypted: errors.Is(err, keys.ErrPassphrase)}
	}
	sg, err := keys.Find(keys.Options{})
	switch {
	case err == nil:
		defer sg.Close()
		return tui.KeyStatus{Description: sg.Source + " " + sg.Info.Fingerprint, Found: true}
	case errors.Is(err, keys.ErrPassphrase):
		for _, f := range keys.DefaultKeyFiles() {
			if _, statErr := os.Stat(f); statErr == nil {
				return tui.KeyStatus{Description: f, Found: true, Encrypted: true}
			}
		}
		return tui.KeyStatus{Description: "key file", Found: true, Encrypted: true}
	default:
		p, _ := keys.DefaultNewKeyPath()
		return tui.KeyStatus{Found: false, CreatePath: p}
	}
}

// writeBundle signs and writes the record bundle and returns its folder.
func writeBundle(out string, r record.Record, ev []bundle.EvidenceFile, s signing) (string, error) {
	sg, err := findSigner(s)
	for i := range s.Passphrase {
		s.Passphrase[i] = 0
	}
	if err != nil {
		return "", err
	}
	defer sg.Close()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("make the records folder: %w", err)
	}
	dir, err := bundle.Write(out, bundle.Input{Record: r, Evidence: ev, Signer: sg, Identity: s.Identity})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// evidenceOf collects the evidence files a session observed: the HTTPS
// certificate and the probe results.
func evidenceOf(e engine) []bundle.EvidenceFile {
	switch s := unwrap(e).(type) {
	case *steps.Session[nport.State]:
		st := s.State()
		var ev []bundle.EvidenceFile
		if c := st.Observed.TLS.Cert; c != nil && c.PEM != "" {
			ev = append(ev, bundle.EvidenceFile{Name: "https-certificate.pem", Description: "certificate the HTTPS console presented, SHA-256 " + c.SHA256, Data: []byte(c.PEM)})
		}
		if len(st.Observed.Ports) > 0 {
			ev = append(ev, bundle.EvidenceFile{Name: "probes.txt", Description: "outside port and TLS probes at the end of the session", Data: []byte(probeTranscript(st.Observed.Ports, st.Observed.TLS))})
		}
		if len(st.LogLines) > 0 {
			ev = append(ev, bundle.EvidenceFile{Name: "device-log.txt", Description: "the device's system log as read at the end of the session", Data: []byte(strings.Join(st.LogLines, "\n") + "\n")})
		}
		return ev
	}
	return nil
}

func probeTranscript(ports map[string]probe.Result, tls probe.TLSReport) string {
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		r := ports[n]
		fmt.Fprintf(&b, "%-16s %5d/%s %-8s %s\n", n, r.Port, r.Network, r.State, r.Detail)
	}
	vs := make([]string, 0, len(tls.Versions))
	for v := range tls.Versions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	for _, v := range vs {
		fmt.Fprintf(&b, "https %s accepted: %t\n", v, tls.Versions[v])
	}
	return b.String()
}

func verifyCommand(dir string) string {
	return fmt.Sprintf("commission verify %s   (or: cd %s && ssh-keygen -Y verify -f allowed_signers -I IDENTITY -n commissioning-record@commission.tool -s record.json.sig < record.json)",
		filepath.ToSlash(dir), filepath.ToSlash(dir))
}

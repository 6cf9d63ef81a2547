package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/commission-tool/commission/internal/devices"
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

// sessionFacts is what a session gives its record beside the steps: the
// evidence files its family offers and the observations (the state last
// read) that the outcomes can be computed again from.
type sessionFacts struct {
	Evidence     []bundle.EvidenceFile
	Observations *record.Observations
	Restarted    time.Time // when the last Save/Restart began, from the journal; zero if none
	Err          error     // the observations could not be taken
}

// writeBundle signs and writes the record bundle and returns its folder.
// The record gets the session's observations, and its evidence files.
func writeBundle(out string, r record.Record, facts sessionFacts, s signing) (string, error) {
	if facts.Err != nil {
		return "", fmt.Errorf("the record cannot keep the device's observations: %w", facts.Err)
	}
	if r.Observations == nil {
		r.Observations = facts.Observations
	}
	if r.Restarted.IsZero() {
		r.Restarted = facts.Restarted
	}
	if err := record.ReadyToSign(r); err != nil {
		return "", err
	}
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
	dir, err := bundle.Write(out, bundle.Input{Record: r, Evidence: facts.Evidence, Signer: sg, Identity: s.Identity})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// evidencer is an engine whose family State offers evidence files
// (steps.Session.Evidence); the family, not this package, decides what
// they are.
type evidencer interface {
	Evidence() []devices.EvidenceFile
}

// evidenceOf collects what the session observed for its record: the
// evidence files the family's State offers and the observations the
// outcomes were derived from.
func evidenceOf(e engine) sessionFacts {
	var facts sessionFacts
	obs, err := e.Observations()
	if err != nil {
		facts.Err = err
	} else {
		facts.Observations = &record.Observations{At: time.Now().UTC(), State: obs}
	}
	if j, ok := e.(*journaled); ok {
		facts.Restarted = lastRestart(j.j.Path())
	}
	if ev, ok := unwrap(e).(evidencer); ok {
		for _, f := range ev.Evidence() {
			facts.Evidence = append(facts.Evidence, bundle.EvidenceFile{Name: f.Name, Description: f.Description, Data: f.Data})
		}
	}
	return facts
}

// lastRestart reads a session journal for when the last restart began:
// the first device.progress event after the last step.staged one (the
// engine reports device progress only while it commits). Zero when the
// journal shows none or cannot be read; the journal is bounded by its
// own line limit.
func lastRestart(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 256<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var staged, restart time.Time
	for sc.Scan() {
		var ev struct {
			Time time.Time `json:"time"`
			Kind string    `json:"kind"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch steps.EventKind(ev.Kind) {
		case steps.StepStaged:
			staged = ev.Time
		case steps.DeviceProgress:
			if !staged.IsZero() && (restart.IsZero() || restart.Before(staged)) && ev.Time.After(staged) {
				restart = ev.Time
			}
		}
	}
	return restart
}

// verifyCommand is how the plant checks the bundle: against its own
// allowed_signers file, which lists the signers it trusts.
func verifyCommand(dir string) string {
	return fmt.Sprintf("commission verify --allowed-signers PLANT_ALLOWED_SIGNERS %s   (or: cd %s && ssh-keygen -Y verify -f PLANT_ALLOWED_SIGNERS -I IDENTITY -n commissioning-record@commission.tool -s record.json.sig < record.json)",
		filepath.ToSlash(dir), filepath.ToSlash(dir))
}

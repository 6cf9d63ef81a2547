package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

const wizardHelp = `Usage: commission [wizard] [flags]

Opens the guided wizard: pick a device (found on the local network over
Moxa's UDP 4800 discovery, or typed by address), log in, walk every step of
its hardening guide, restart it once to apply the changes, and write the
commissioning record.

The wizard draws on stderr. Every step is journaled as it happens, so a
crash or a closed laptop resumes where it stopped.

Flags:
`

// app holds what the wizard needs beyond the device: where pins, journals
// and records live, and how to find devices.
type app struct {
	pins       *transport.PinStore
	journalDir string
	outDir     string
	timeout    time.Duration
	// discover lists candidate devices; ports gives per-family port overrides.
	discover func(ctx context.Context) ([]tui.Candidate, error)
	ports    func(family, address string) map[string]int
	started  time.Time
	mode     string
	keyFile  string // --key; empty: ssh-agent, then the usual key files
	// newKey is where a new signing key goes when the technician agrees.
	newKey string
}

func (a *app) newKeyPath() string {
	if a.newKey != "" {
		return a.newKey
	}
	p, _ := keys.DefaultNewKeyPath()
	return p
}

func runWizard(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wizard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, wizardHelp); fs.PrintDefaults() }
	out := fs.String("out", "commission-records", "folder for the record bundles")
	pinsPath := fs.String("pins", "", "file of pinned TLS fingerprints (default: the user's commission config folder)")
	timeout := fs.Duration("timeout", 2*time.Second, "timeout for each network operation")
	keyFile := fs.String("key", "", "private key file that signs the record (default: ssh-agent, then ~/.ssh/id_ed25519, id_rsa)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	pins, err := openPins(*pinsPath)
	if err != nil {
		return withCode(ExitError, err)
	}
	jdir, err := record.DefaultDir()
	if err != nil {
		return withCode(ExitError, fmt.Errorf("prepare the session journal folder: %w", err))
	}
	a := &app{pins: pins, journalDir: jdir, outDir: *out, timeout: *timeout, mode: "wizard", keyFile: *keyFile,
		discover: func(ctx context.Context) ([]tui.Candidate, error) {
			found, err := nport.Discover(ctx, []string{"255.255.255.255:4800"}, 2*time.Second)
			var cs []tui.Candidate
			for _, f := range found {
				cs = append(cs, tui.Candidate{Family: "nport", Label: f.Model + " " + f.MAC, Address: f.IP, Detail: "found over UDP 4800"})
			}
			return cs, err
		},
		ports: func(string, string) map[string]int { return nil },
	}
	return a.runTUI(ctx, stdin, stdout, stderr)
}

// runTUI runs the wizard on stderr and prints the outcome on stdout.
func (a *app) runTUI(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := tui.Config{
		Candidates: a.discover,
		Families:   families,
		Connect:    a.connect,
		Trust:      a.pins.Trust,
		Finish:     a.finish,
		SigningKey: func() tui.KeyStatus {
			ks := keyStatus(a.keyFile)
			if !ks.Found && a.newKey != "" {
				ks.CreatePath = a.newKey
			}
			return ks
		},
		Version: version,
		NoColor: os.Getenv("NO_COLOR") != "",
	}
	if offer, err := a.resumeOffer(); err == nil && offer != nil {
		cfg.Resume = offer
	}
	sum, err := tui.Run(ctx, cfg, stdin, stderr)
	if err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintln(stdout, sum.String())
	return nil
}

// resumeOffer finds the newest unfinished session journal.
func (a *app) resumeOffer() (*tui.ResumeOffer, error) {
	us, err := record.FindUnfinished(a.journalDir)
	if err != nil || len(us) == 0 {
		return nil, err
	}
	u := us[0]
	return &tui.ResumeOffer{
		Label:  fmt.Sprintf("%s at %s, started %s, %d steps decided", u.Header.Family, u.Header.Address, u.Header.Started.Local().Format("2006-01-02 15:04"), u.Decided),
		Target: tui.Target{Family: u.Header.Family, Address: u.Header.Address},
		Path:   u.Path,
	}, nil
}

// connect opens a session on the target with a journal beside it.
func (a *app) connect(ctx context.Context, t tui.Target, rep steps.Reporter) (tui.Session, error) {
	tg := target{Family: t.Family, Address: t.Address, User: t.User, Password: t.Password, NewPassword: t.NewPassword,
		Ports: a.ports(t.Family, t.Address), Pins: a.pins, Timeout: a.timeout}
	var restored []steps.Result
	var j *record.Journal
	var err error
	_, guide, err := stepMetas(t.Family)
	if err != nil {
		return nil, err
	}
	if t.ResumePath != "" {
		if _, err := os.Stat(t.ResumePath); err != nil {
			return nil, fmt.Errorf("the unfinished session's journal is gone: %w", err)
		}
		_, restored, err = record.Replay(t.ResumePath)
		if err != nil {
			return nil, fmt.Errorf("read the unfinished session: %w", err)
		}
		j, err = record.OpenJournal(t.ResumePath)
	} else {
		j, err = record.CreateJournal(a.journalDir, record.Header{Family: t.Family, Address: t.Address, Guide: guide, Started: time.Now().UTC()})
	}
	if err != nil {
		return nil, fmt.Errorf("open the session journal: %w", err)
	}
	tg.Since = j.Header().Started
	eng, err := newEngine(tg, steps.Reporters{rep, j})
	if err != nil {
		j.Close()
		return nil, err
	}
	eng.Restore(restored)
	if err := eng.Open(ctx); err != nil {
		j.Close()
		if t.ResumePath == "" {
			os.Remove(j.Path())
		}
		return nil, err
	}
	a.started = j.Header().Started
	return &journaled{engine: eng, j: j}, nil
}

// journaled closes the journal when the session closes.
type journaled struct {
	engine
	j *record.Journal
}

func (s *journaled) Close() {
	s.engine.Close()
	s.j.Close()
}

// finish writes the record bundle of a wizard session.
func (a *app) finish(ctx context.Context, s tui.Session, f tui.FinishInfo) (tui.FinishResult, error) {
	eng, ok := s.(*journaled)
	if !ok {
		return tui.FinishResult{}, errors.New("internal: unexpected session type")
	}
	rec := record.Build(record.Meta{
		Tool: record.Tool{Name: "commission", Version: version}, Mode: a.mode,
		Device: eng.Identity(), Guide: eng.Guide(),
		Technician: record.Technician{Name: f.Technician, Company: f.Company}, Site: f.Site,
		Started: a.started, Finished: time.Now().UTC(),
	}, eng.Results(), eng.Steps())
	if errs := record.Check(rec, eng.Steps()); len(errs) > 0 {
		return tui.FinishResult{}, fmt.Errorf("the record is not consistent, so it was not written: %w", errors.Join(errs...))
	}
	if err := eng.j.Err(); err != nil {
		return tui.FinishResult{}, fmt.Errorf("the session journal could not be written: %w", err)
	}
	sg := signing{KeyFile: a.keyFile, Identity: f.Email, Passphrase: []byte(f.Passphrase)}
	if f.CreateKey {
		sg.CreateAt = a.newKeyPath()
	}
	dir, err := writeBundle(a.outDir, rec, evidenceOf(eng), sg)
	if err != nil {
		return tui.FinishResult{}, err
	}
	eng.Close()
	return tui.FinishResult{Dir: dir, VerifyCommand: verifyCommand(dir)}, nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

const auditHelp = `Usage: commission audit --device FAMILY --address HOST --user USER --password-stdin [flags]

Checks one device against its hardening guide and changes nothing. Prints a
finding for every step of the guide: compliant, deviation, manual (needs a
person), not_applicable or error.

The password is read from the first line of standard input, so it never
appears in the process list or the shell history:

  printf '%s\n' "$PASS" | commission audit --device FAMILY --address 192.168.127.254 \
      --user admin --password-stdin --json

TLS: the device's certificate is trusted on first use only when you say so
(--fingerprint, after checking it on the device, or --tofu); a changed
fingerprint always stops the audit.

Exit codes: 0 every automatic step compliant; 1 at least one deviation;
2 error (bad flags, unreachable device, wrong credentials).

Flags:
`

// auditFinding is one step in the audit output.
type auditFinding struct {
	ID       string        `json:"id"`
	Guide    string        `json:"guide"`
	Title    string        `json:"title"`
	Kind     steps.Kind    `json:"kind"`
	Outcome  steps.Outcome `json:"outcome"`
	Observed string        `json:"observed"`
	Expected string        `json:"expected"`
	Reason   string        `json:"reason,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	SRs      []string      `json:"srs"`
}

// auditReport is the JSON document of an audit.
type auditReport struct {
	Schema  string           `json:"schema"`
	Device  devices.Identity `json:"device"`
	Guide   string           `json:"guide"`
	Started time.Time        `json:"started"`
	Steps   []auditFinding   `json:"steps"`
	Summary map[string]int   `json:"summary"`
}

// auditCollector builds the audit output from the session's events, the
// same events the wizard and the journal read.
type auditCollector struct {
	mu    sync.Mutex
	byID  map[string]steps.Result
	order []string
}

func (c *auditCollector) Report(e steps.Event) {
	if e.Kind != steps.StepChecked || e.Result == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.byID[e.StepID]; !seen {
		c.order = append(c.order, e.StepID)
	}
	c.byID[e.StepID] = *e.Result
}

func runAudit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if many := auditDelegate(args); many != nil { // --inventory, --baseline: inventory.go, baseline.go
		return many(ctx, args, stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, auditHelp); fs.PrintDefaults() }
	family := fs.String("device", "", "device family: "+strings.Join(families, ", "))
	dev := addDeviceFlags(fs, "the device's IP address or host name, optionally with the port of its HTTPS console or API (HOST:PORT, [IPv6]:PORT)", 2*time.Second)
	asJSON := fs.Bool("json", false, "print the findings as JSON on stdout")
	simulated := fs.Bool("simulated", false, "mark the record SIMULATED DEVICE (the demo's audit_args carry it for its simulators)")
	recDir := fs.String("record", "", "also write a signed record bundle of the audit into this folder")
	keyFile := fs.String("key", "", "with --record: private key file that signs it (default: ssh-agent)")
	identity := fs.String("identity", "", "with --record (required there): the signer's identity for allowed_signers, e.g. an e-mail address")
	fs.String("inventory", "", "audit every device of a CSV inventory or site plan instead (see commission audit --inventory x --help)")
	fs.String("baseline", "", "compare the device with a signed record bundle instead (see commission audit --baseline x --help)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if len(rest) > 0 {
		return usageErr("audit takes no arguments, only flags (got %q): see commission audit --help", rest[0])
	}
	fam, known := lookupFamily(*family)
	if !known {
		return familyFlagErr(*family, families)
	}
	if err := dev.check(true); err != nil {
		return err
	}
	if *recDir != "" && *identity == "" {
		return usageErr("--record needs --identity: the signer's e-mail address, as it goes into allowed_signers")
	}
	t, err := dev.target(fam, *dev.address, stdin)
	if err != nil {
		return err
	}
	rep, eng, err := auditOnce(ctx, t, *dev.fingerprint, *dev.tofu, stderr)
	if err != nil {
		return withCode(ExitError, err)
	}
	logout := sync.OnceFunc(eng.Close)
	defer logout() // also waits for the logout started below to finish
	if *recDir != "" {
		dir, err := recordAudit(*recDir, rep, eng, signing{KeyFile: *keyFile, Identity: *identity}, *simulated)
		if err != nil {
			return withCode(ExitError, fmt.Errorf("write the audit record: %w", err))
		}
		fmt.Fprintln(stderr, "record written to", dir)
	}
	// the findings are in: log out while they are written
	go logout()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return withCode(ExitError, fmt.Errorf("write output: %w", err))
		}
	} else {
		printAudit(stdout, rep)
	}
	if rep.Summary[string(steps.Deviation)] > 0 || rep.Summary[string(steps.Error)] > 0 {
		return withCode(ExitDeviation, errQuiet)
	}
	return nil
}

// auditOnce reads the device once and checks every step. A certificate
// seen for the first time is pinned only when it matches fingerprint or
// with tofu; its details go to stderr. A changed one stops the audit.
// A matching certificate is pinned during the first connection, so the
// device is logged in to once.
func auditOnce(ctx context.Context, t target, fingerprint string, tofu bool, stderr io.Writer) (auditReport, engine, error) {
	col := &auditCollector{byID: map[string]steps.Result{}}
	started := time.Now().UTC()
	key := t.pinKey()
	if fingerprint != "" && t.Pins != nil {
		if err := t.Pins.Expect(key, fingerprint); err != nil {
			return auditReport{}, nil, withCode(ExitError, err)
		}
	}
	defer func() {
		if t.Pins == nil {
			return
		}
		for _, p := range t.Pins.NewPins(key) {
			fmt.Fprintf(stderr, "pinned the certificate of %s in %s:\n%s\n", p.HostPort, t.Pins.Path(), indent(p.Cert.Lines()))
		}
	}()
	open := func() (engine, error) {
		eng, err := newEngine(t, col)
		if err != nil {
			return nil, err
		}
		return eng, eng.Open(ctx)
	}
	eng, err := open()
	var unknown *transport.UnknownFingerprintError
	if err != nil && errors.As(err, &unknown) {
		eng.Close()
		hp, seen := unknown.UnknownFingerprint()
		switch {
		case fingerprint != "" && transport.SameFingerprint(fingerprint, seen), tofu:
			if tofu && fingerprint == "" && len(unknown.Cert.Problems) > 0 {
				fmt.Fprintf(stderr, "warning: pinning a weak certificate on %s with --tofu: %s\n", hp, strings.Join(unknown.Cert.Problems, "; "))
			}
			if terr := t.Pins.Trust(hp, seen); terr != nil {
				return auditReport{}, nil, fmt.Errorf("pin the certificate: %w", terr)
			}
			fmt.Fprintf(stderr, "pinned the certificate of %s in %s:\n%s\n", hp, t.Pins.Path(), indent(unknown.Cert.Lines()))
			eng, err = open()
		case fingerprint != "":
			// The transport compares the given fingerprint first; this is a
			// second line of defence.
			return auditReport{}, nil, &transport.FingerprintChangedError{HostPort: hp, Pinned: fingerprint, Seen: seen, Given: true, Cert: unknown.Cert}
		default:
			return auditReport{}, nil, fmt.Errorf("%s presents a certificate seen for the first time:\n%s\ncheck it on the device, then run again with --fingerprint %s (or --tofu)", hp, indent(unknown.Cert.Lines()), seen)
		}
	}
	if err != nil {
		if eng != nil {
			eng.Close()
		}
		return auditReport{}, nil, err
	}
	rep := auditReport{Schema: "commission.audit/v1", Device: eng.Identity(), Guide: eng.Guide(), Started: started, Summary: map[string]int{}}
	meta := map[string]steps.Meta{}
	for _, m := range eng.Steps() {
		meta[m.ID] = m
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, id := range col.order {
		r := col.byID[id]
		m := meta[id]
		f := auditFinding{ID: id, Guide: m.Section, Title: m.Title, Kind: m.Kind, Outcome: r.Outcome, Reason: r.Reason, SRs: m.SRs}
		if r.Before != nil {
			f.Observed, f.Expected, f.Notes = r.Before.Observed, r.Before.Expected, r.Before.Notes
		}
		rep.Steps = append(rep.Steps, f)
		rep.Summary[string(r.Outcome)]++
	}
	return rep, eng, nil
}

// recordAudit writes a signed record of an audit as observed, so that a
// periodic review leaves a signed trail too.
func recordAudit(out string, rep auditReport, eng engine, s signing, simulated bool) (string, error) {
	facts := evidenceOf(eng) // taken before Finished: no time the record holds is after it
	rec := record.Build(record.Meta{
		Simulated: simulated,
		Tool:      record.Tool{Name: "commission", Version: version}, Mode: record.ModeAudit,
		Device: eng.Identity(), Guide: eng.Guide(),
		Technician: record.Technician{Name: s.Identity, Email: s.Identity},
		Started:    rep.Started, Finished: time.Now().UTC(),
		Observations: facts.Observations, Restarted: facts.Restarted,
	}, eng.Results(), eng.Steps())
	if errs := record.Check(rec, eng.Steps()); len(errs) > 0 {
		return "", fmt.Errorf("the record is not consistent: %w", errors.Join(errs...))
	}
	s.NoAgent = s.KeyFile != ""
	return writeBundle(out, rec, facts, s)
}

func printAudit(w io.Writer, rep auditReport) {
	id := rep.Device
	fmt.Fprintf(w, "%s %s at %s (%s)\n%s\n\n", printable.String(id.Model), printable.String(id.Firmware), printable.String(id.Address), printable.String(id.MAC), rep.Guide)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tGUIDE\tSTEP\tOBSERVED")
	for _, s := range rep.Steps {
		obs := s.Observed
		if len(obs) > 70 {
			obs = obs[:67] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Outcome, s.Guide, s.Title, obs)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, o := range []steps.Outcome{steps.Compliant, steps.Deviation, steps.ManualPending, steps.NotApplicable, steps.Error} {
		if n := rep.Summary[string(o)]; n > 0 {
			fmt.Fprintf(w, "%s: %d  ", o, n)
		}
	}
	fmt.Fprintln(w)
}

// readSecretLine reads one line (the password) from r, bounded.
func readSecretLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input: pipe it in, such as printf '%s\\n' \"$PASS\" | commission audit")
	}
	return line, nil
}

// openPins opens the pin store at path, or the user's default one.
func openPins(path string) (*transport.PinStore, error) {
	if path == "" {
		p, err := transport.DefaultPinsPath()
		if err != nil {
			return nil, fmt.Errorf("find the pin store: %w", err)
		}
		path = p
	}
	s, err := transport.OpenPins(path)
	if err != nil {
		return nil, fmt.Errorf("open the pin store %s: %w", path, err)
	}
	return s, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/siteplan"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

const inventoryHelp = `Usage: commission audit --inventory FILE [--password-stdin] [--jobs N] [flags]

Audits every device of an inventory in one process, a few at a time
(--jobs), and changes nothing: hardening stays one device at a time with
the technician watching.

FILE is a CSV file whose header names its columns:

  family,address,user,password_file,password_env,name,fingerprint,ports

(family, address and user are required; ports is "https=8443 snmp=1161"),
or a site plan's [[device]] list (commission plan init). Each device's
password comes from its password_file, password_env or (plan only)
password_command; a device that names none takes the one shared password
read from standard input with --password-stdin. Never from argv.

A device's certificate seen for the first time is pinned only when it
matches the device's fingerprint, or with --tofu.

Output: a progress line per device on stderr, one JSON object per device
on stdout (JSON lines: family, address, status, exit, deviations, errors,
error), and a summary table on stderr at the end.

Exit codes: the worst device's: 0 every device compliant; 1 deviations;
2 an error (bad file, unreachable device, wrong credentials); 3 STOP (a
device's certificate changed).

Flags:
`

// inventoryLine is one device's line of JSON output.
type inventoryLine struct {
	Family  string            `json:"family"`
	Address string            `json:"address"`
	Name    string            `json:"name,omitempty"`
	Status  string            `json:"status"` // compliant, deviations, error, stop
	Exit    ExitCode          `json:"exit"`   // the single-device audit's exit code
	Device  *devices.Identity `json:"device,omitempty"`
	// Deviations are the steps that do not meet the guide.
	Deviations []inventoryStep `json:"deviations"`
	// Errors are the steps that could not be checked.
	Errors  []inventoryStep `json:"errors"`
	Summary map[string]int  `json:"summary,omitempty"`
	Error   string          `json:"error,omitempty"` // why the device could not be audited
	Record  string          `json:"record,omitempty"`
	Millis  int64           `json:"ms"`
}

// inventoryStep is one step of a device that needs attention.
type inventoryStep struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Observed string `json:"observed,omitempty"`
	Expected string `json:"expected,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// auditDelegate returns the runner for an audit of many devices or
// against a baseline, chosen by their flag, or nil for a plain audit.
func auditDelegate(args []string) func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		switch name {
		case "inventory":
			return runInventory
		case "baseline":
			return runBaseline
		}
	}
	return nil
}

// inventoryRun is the shared setup of one inventory audit.
type inventoryRun struct {
	shared  string // the --password-stdin password, if read
	tofu    bool
	timeout time.Duration
	recDir  string
	sign    signing
	env     func(string) (string, bool)
	recMu   sync.Mutex // bundle folders are named per model, MAC and day: one at a time
}

func runInventory(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit --inventory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, inventoryHelp); fs.PrintDefaults() }
	inv := fs.String("inventory", "", "CSV inventory or site plan listing the devices (required)")
	jobs := fs.Int("jobs", 8, "how many devices are audited at the same time (1 to 64)")
	pwStdin := fs.Bool("password-stdin", false, "read one shared password from standard input, for the devices that name no password source")
	tofu := fs.Bool("tofu", false, "trust each device's TLS certificate on first use and pin it")
	pinsPath := fs.String("pins", "", "file of pinned TLS fingerprints (default: the user's commission config folder)")
	timeout := fs.Duration("timeout", 2*time.Second, "timeout for each network operation")
	recDir := fs.String("record", "", "also write one signed record bundle per device into this folder")
	keyFile := fs.String("key", "", "with --record: private key file that signs them (default: ssh-agent)")
	identity := fs.String("identity", "", "with --record (required there): the signer's identity for allowed_signers")
	fs.Bool("json", true, "accepted for symmetry with audit: the output is always JSON lines")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	switch {
	case len(rest) > 0:
		return usageErr("audit --inventory takes no arguments, only flags (got %q)", rest[0])
	case *inv == "":
		return usageErr("--inventory needs a file: a CSV inventory or a site plan")
	case *jobs < 1 || *jobs > 64:
		return usageErr("--jobs must be from 1 to 64")
	case *recDir != "" && *identity == "":
		return usageErr("--record needs --identity: the signer's e-mail address, as it goes into allowed_signers")
	}
	if err := checkTimeout(*timeout); err != nil {
		return err
	}
	devs, err := planSchema().LoadDevices(*inv)
	if err != nil {
		return withCode(ExitError, err)
	}
	r := &inventoryRun{tofu: *tofu, timeout: *timeout, recDir: *recDir, env: os.LookupEnv,
		sign: signing{KeyFile: *keyFile, Identity: *identity}}
	needShared := 0
	for _, d := range devs {
		if d.Credential.IsZero() {
			needShared++
		}
	}
	switch {
	case needShared > 0 && !*pwStdin:
		return usageErr("%d device(s) in %s name no password source (password_file, password_env): pipe their shared password on standard input with --password-stdin", needShared, *inv)
	case *pwStdin:
		if r.shared, err = readSecretLine(stdin); err != nil {
			return withCode(ExitError, err)
		}
	}
	pins, err := openPins(*pinsPath)
	if err != nil {
		return withCode(ExitError, err)
	}
	lines := r.auditAll(ctx, devs, pins, *jobs, stdout, stderr)
	printInventorySummary(stderr, lines)
	worst := ExitOK
	for _, l := range lines {
		worst = max(worst, l.Exit)
	}
	if worst != ExitOK {
		return withCode(worst, errQuiet)
	}
	return nil
}

// auditAll audits the devices, jobs at a time. Each device's JSON line
// goes to stdout as it finishes; the lines come back in inventory order.
func (r *inventoryRun) auditAll(ctx context.Context, devs []siteplan.Device, pins *transport.PinStore, jobs int, stdout, stderr io.Writer) []inventoryLine {
	lines := make([]inventoryLine, len(devs))
	var (
		outMu sync.Mutex
		done  int
		wg    sync.WaitGroup
	)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	next := make(chan int)
	for range min(jobs, len(devs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var notes bytes.Buffer
				l := r.auditDevice(ctx, devs[i], pins, &notes)
				lines[i] = l
				outMu.Lock()
				done++
				enc.Encode(l)
				fmt.Fprintf(stderr, "[%d/%d] %s\n", done, len(devs), progressLine(devs[i], l))
				if notes.Len() > 0 {
					fmt.Fprint(stderr, indentText(printable.String(notes.String())))
				}
				outMu.Unlock()
			}
		}()
	}
	for i := range devs {
		next <- i
	}
	close(next)
	wg.Wait()
	return lines
}

func progressLine(d siteplan.Device, l inventoryLine) string {
	who := d.Family + " " + printable.String(d.Label())
	switch l.Status {
	case "error", "stop":
		return fmt.Sprintf("%s: %s: %s (%d ms)", who, strings.ToUpper(l.Status), l.Error, l.Millis)
	}
	return fmt.Sprintf("%s: %s, %d deviation(s), %d step error(s) (%d ms)", who, l.Status, len(l.Deviations), len(l.Errors), l.Millis)
}

func indentText(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}

// auditDevice audits one device and never panics the run: every failure
// becomes the device's error.
func (r *inventoryRun) auditDevice(ctx context.Context, d siteplan.Device, pins *transport.PinStore, notes io.Writer) inventoryLine {
	start := time.Now()
	l := inventoryLine{Family: d.Family, Address: d.Address, Name: d.Name, Deviations: []inventoryStep{}, Errors: []inventoryStep{}}
	fail := func(err error) inventoryLine {
		l.Exit = codeOf(withCode(ExitError, err))
		l.Status = "error"
		if l.Exit == ExitTrustChanged {
			l.Status = "stop"
		}
		l.Error = printable.String(err.Error())
		l.Millis = time.Since(start).Milliseconds()
		return l
	}
	fam, ok := lookupFamily(d.Family)
	if !ok {
		return fail(fmt.Errorf("unknown device family %q", d.Family))
	}
	host, aport, err := parseAddress(d.Address)
	if err != nil {
		return fail(err)
	}
	ports, err := targetPorts(fam, aport, d.Ports)
	if err != nil {
		return fail(err)
	}
	pw := r.shared
	if !d.Credential.IsZero() {
		if pw, err = d.Credential.Read(ctx, r.env); err != nil {
			return fail(err)
		}
	}
	t := target{Family: fam.Name, Address: host, User: d.User, Password: pw, Ports: ports, Pins: pins, Timeout: r.timeout}
	rep, eng, err := auditOnce(ctx, t, d.Fingerprint, r.tofu, notes)
	if err != nil {
		return fail(err)
	}
	defer eng.Close()
	id := rep.Device
	l.Device = &id
	l.Summary = rep.Summary
	for _, s := range rep.Steps {
		st := inventoryStep{ID: s.ID, Title: s.Title, Observed: s.Observed, Expected: s.Expected, Reason: s.Reason}
		switch s.Outcome {
		case steps.Deviation:
			l.Deviations = append(l.Deviations, st)
		case steps.Error:
			l.Errors = append(l.Errors, st)
		}
	}
	l.Status, l.Exit = "compliant", ExitOK
	if len(l.Deviations) > 0 || len(l.Errors) > 0 {
		l.Status, l.Exit = "deviations", ExitDeviation
	}
	if r.recDir != "" {
		r.recMu.Lock()
		dir, err := recordAudit(r.recDir, rep, eng, r.sign, false)
		r.recMu.Unlock()
		if err != nil {
			return fail(fmt.Errorf("write the audit record: %w", err))
		}
		l.Record = dir
	}
	l.Millis = time.Since(start).Milliseconds()
	return l
}

// printInventorySummary writes the table of every device at the end.
func printInventorySummary(w io.Writer, lines []inventoryLine) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFAMILY\tADDRESS\tSTATUS\tDEVIATIONS\tSTEP ERRORS\tERROR")
	count := map[string]int{}
	for _, l := range lines {
		count[l.Status]++
		msg := l.Error
		if len(msg) > 80 {
			msg = msg[:77] + "..."
		}
		addr := l.Address
		if l.Name != "" {
			addr += " (" + printable.String(l.Name) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", l.Family, addr, l.Status, len(l.Deviations), len(l.Errors), msg)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d device(s): %d compliant, %d with deviations, %d error(s), %d stop(s)\n",
		len(lines), count["compliant"], count["deviations"], count["error"], count["stop"])
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

const captureHelp = `Usage: commission capture --device nport --address HOST --user USER --password-stdin --out DIR [flags]

A read-only walk of the device's console: every page the tool reads, with
its requests and replies, plus the UDP 4800 replies and the SNMP system
group. Nothing is changed: no setting is submitted and the failed-login
record is left as it is. Passwords, challenges, login answers, cookies and
tokens are masked. The folder it writes (manifest.json and one numbered
file per exchange) is what to send back when the tool does not know a
firmware yet.

Flags:
`

// runCapture is `commission capture`.
func runCapture(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, captureHelp); fs.PrintDefaults() }
	device := fs.String("device", "nport", "device family (capture knows: nport)")
	address := fs.String("address", "", "the device's IP address or host name, optionally HOST:PORT of its HTTPS console")
	user := fs.String("user", "", "the account to log in with")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	out := fs.String("out", "", "the folder to write the transcript into (new or empty)")
	ports := portFlags{}
	fs.Var(ports, "port", "override a service's port, as SERVICE=PORT (repeatable)")
	fingerprint := fs.String("fingerprint", "", "expected TLS certificate fingerprint (SHA256:...) of the HTTPS console")
	tofu := fs.Bool("tofu", false, "trust the device's TLS certificate on first use and pin it")
	pinsPath := fs.String("pins", "", "file of pinned TLS fingerprints (default: the user's commission config folder)")
	timeout := fs.Duration("timeout", 3*time.Second, "timeout for each network operation")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	fam, known := lookupFamily(*device)
	switch {
	case len(rest) > 0:
		return usageErr("capture takes no arguments, only flags (got %q): see commission capture --help", rest[0])
	case !known || fam.name != "nport":
		return usageErr("capture knows the nport family only (got %q)", *device)
	case *address == "":
		return usageErr("--address is required: the device's IP address")
	case *user == "":
		return usageErr("--user is required")
	case !*pwStdin:
		return usageErr("--password-stdin is required: pipe the password on standard input (it is never taken as a flag)")
	case *out == "":
		return usageErr("--out is required: a new folder for the transcript")
	case *timeout <= 0 || *timeout > time.Minute:
		return usageErr("--timeout must be between 1ms and 1m")
	case *fingerprint != "" && transport.FingerprintHex(*fingerprint) == "":
		return usageErr("--fingerprint %q is not a SHA-256 fingerprint", *fingerprint)
	}
	host, aport, err := parseAddress(*address)
	if err != nil {
		return withCode(ExitError, err)
	}
	tports, err := targetPorts(fam, aport, ports)
	if err != nil {
		return err
	}
	pw, err := readSecretLine(stdin)
	if err != nil {
		return withCode(ExitError, err)
	}
	pins, err := openPins(*pinsPath)
	if err != nil {
		return withCode(ExitError, err)
	}
	if *fingerprint != "" {
		if err := pins.Expect(host, *fingerprint); err != nil {
			return withCode(ExitError, err)
		}
	}
	rec := transcript.NewRecorder()
	o := nport.Options{Address: host, Ports: tports, User: *user, Password: pw, Pins: pins, Timeout: *timeout, Recorder: rec}
	st, err := nport.Capture(ctx, o)
	var unknown *transport.UnknownFingerprintError
	if errors.As(err, &unknown) {
		hp, fp := unknown.UnknownFingerprint()
		if !*tofu && *fingerprint == "" {
			return withCode(ExitError, fmt.Errorf("the HTTPS console's certificate is not pinned yet (%s): check it on the device, then run again with --fingerprint %s or --tofu", hp, fp))
		}
		if err := pins.Trust(hp, fp); err != nil {
			return withCode(ExitError, err)
		}
		rec = transcript.NewRecorder()
		o.Recorder = rec
		st, err = nport.Capture(ctx, o)
	}
	man := transcript.Manifest{Family: fam.name, Target: printable.String(*address), Created: time.Now().UTC(), Tool: "commission " + version}
	if werr := rec.Write(*out, man); werr != nil {
		return withCode(ExitError, werr)
	}
	fmt.Fprintln(stderr, "transcript written to", *out)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("the walk stopped early (the transcript holds what was seen): %w", err))
	}
	fmt.Fprintf(stdout, "%s %s, firmware %s, console generation %s, %d failed logins listed by the device\n",
		printable.String(st.Identity.Model), printable.String(st.Identity.MAC), printable.String(st.Identity.Firmware),
		st.Generation, len(st.FailedLogins))
	return nil
}

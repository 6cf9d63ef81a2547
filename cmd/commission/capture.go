package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

const captureHelp = `Usage: commission capture --device nport|thingspro|kepware --address HOST --user USER --password-stdin --out DIR [flags]

A read-only walk of the device's console or API: every page or API reply
the tool reads, with its requests and replies (for an NPort also the UDP
4800 replies and the SNMP system group). Nothing is changed: no setting is submitted and the failed-login
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
	device := fs.String("device", "nport", "device family: "+strings.Join(captureFamilies(), ", "))
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
	case !known || fam.capture == nil:
		return usageErr("capture does not know the device family %q: use one of %s", *device, strings.Join(captureFamilies(), ", "))
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
	ct := captureTarget{Host: host, Ports: tports, User: *user, Password: pw, Pins: pins, Timeout: *timeout}
	rec := transcript.NewRecorder()
	summary, err := fam.capture(ctx, ct, rec)
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
		summary, err = fam.capture(ctx, ct, rec)
	}
	man := transcript.Manifest{Family: fam.name, Target: printable.String(*address), Created: time.Now().UTC(), Tool: "commission " + version}
	if werr := rec.Write(*out, man); werr != nil {
		return withCode(ExitError, werr)
	}
	fmt.Fprintln(stderr, "transcript written to", *out)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("the walk stopped early (the transcript holds what was seen): %w", err))
	}
	fmt.Fprintln(stdout, summary)
	return nil
}

// captureTarget is what a family's capture walk is given.
type captureTarget struct {
	Host     string
	Ports    map[string]int
	User     string
	Password string
	Pins     *transport.PinStore
	Timeout  time.Duration
}

// captureFamilies lists the families whose entry can capture.
func captureFamilies() []string {
	var names []string
	for _, f := range familyTable {
		if f.capture != nil {
			names = append(names, f.name)
		}
	}
	return names
}

func captureNPort(ctx context.Context, t captureTarget, rec *transcript.Recorder) (string, error) {
	o := nport.Options{Options: access.Options{Host: t.Host, Ports: t.Ports, User: t.User, Password: t.Password, Pins: t.Pins, Timeout: t.Timeout}, Recorder: rec}
	st, err := nport.Capture(ctx, o)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s, firmware %s, console generation %s, %d failed logins listed by the device",
		printable.String(st.Identity.Model), printable.String(st.Identity.MAC), printable.String(st.Identity.Firmware),
		st.Generation, len(st.FailedLogins)), nil
}

func sharedOptions(t captureTarget) access.Options {
	return access.Options{Host: t.Host, Ports: t.Ports, User: t.User, Password: t.Password, Pins: t.Pins, Timeout: t.Timeout}
}

func captureThingsPro(ctx context.Context, t captureTarget, rec *transcript.Recorder) (string, error) {
	st, err := thingspro.Capture(ctx, thingspro.Options{Options: sharedOptions(t)}, rec)
	if err != nil {
		return "", err
	}
	id := st.Identity
	return fmt.Sprintf("%s, firmware %s", printable.String(id.Model), printable.String(id.Firmware)), nil
}

func captureKepware(ctx context.Context, t captureTarget, rec *transcript.Recorder) (string, error) {
	st, err := kepware.Capture(ctx, kepware.Options{Options: sharedOptions(t)}, rec)
	if err != nil {
		return "", err
	}
	id := st.Identity
	return fmt.Sprintf("%s, version %s", printable.String(id.Model), printable.String(id.Firmware)), nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transcript"
	"github.com/commission-tool/commission/internal/transport"
)

const captureHelp = `Usage: commission capture --device FAMILY --address HOST --user USER --password-stdin --out DIR [flags]

A read-only walk of the device's console or API: every page or API reply
the tool reads, with its requests and replies (and, where the family has
them, its discovery replies and SNMP system group). Nothing is changed:
no setting is submitted and a failed-login record is left as it is. Passwords, challenges, login answers, cookies and
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
	device := fs.String("device", "", "device family (required): "+strings.Join(captureFamilies(), ", "))
	dev := addDeviceFlags(fs, "the device's IP address or host name, optionally HOST:PORT of its HTTPS console", 3*time.Second)
	out := fs.String("out", "", "the folder to write the transcript into (new or empty)")
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
	case *device == "":
		return familyFlagErr("", captureFamilies())
	case !known || fam.Capture == nil:
		return usageErr("capture does not know the device family %q: use one of %s", *device, strings.Join(captureFamilies(), ", "))
	case *out == "":
		return usageErr("--out is required: a new folder for the transcript")
	}
	if err := dev.check(true); err != nil {
		return err
	}
	t, err := dev.target(fam, *dev.address, stdin)
	if err != nil {
		return err
	}
	pins := t.Pins
	ct := t.options()
	rec := transcript.NewRecorder()
	summary, err := fam.Capture(ctx, ct, rec)
	var unknown *transport.UnknownFingerprintError
	if errors.As(err, &unknown) {
		hp, fp := unknown.UnknownFingerprint()
		if !*dev.tofu && *dev.fingerprint == "" {
			return withCode(ExitError, fmt.Errorf("the HTTPS console's certificate is not pinned yet (%s): check it on the device, then run again with --fingerprint %s or --tofu", hp, fp))
		}
		if err := pins.Trust(hp, fp); err != nil {
			return withCode(ExitError, err)
		}
		rec = transcript.NewRecorder()
		summary, err = fam.Capture(ctx, ct, rec)
	}
	man := transcript.Manifest{Family: fam.Name, Target: printable.String(*dev.address), Created: time.Now().UTC(), Tool: "commission " + version}
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

// captureFamilies lists the families whose entry can capture.
func captureFamilies() []string {
	var names []string
	for _, f := range registry {
		if f.Capture != nil {
			names = append(names, f.Name)
		}
	}
	return names
}

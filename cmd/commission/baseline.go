package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/steps"
)

const baselineHelp = `Usage: commission audit --baseline BUNDLE --user USER --password-stdin [flags]

Compares a device with its own signed record: the bundle is verified
first (as "commission verify" does), then the device is read live and
every step is compared with what was signed. Each step is "unchanged" or
"drifted", with what differs: before (the signed outcome and observation)
and now (the live ones). Nothing is changed on the device. This is what a
plant runs at every maintenance visit.

The device is the one the record names (its family and address); give
--address and --port when it moved or listens elsewhere. The password is
read from standard input only.

Give the plant's allowed_signers with --allowed-signers; without it the
baseline's signature is checked only against the signer the bundle names
(a warning says so).

Exit codes: 0 nothing drifted; 1 at least one step drifted; 2 error (the
baseline does not verify, bad flags, unreachable device, wrong
credentials); 3 STOP (the device's certificate changed).

Flags:
`

// driftSide is one side of a step's comparison.
type driftSide struct {
	Outcome  steps.Outcome `json:"outcome"`
	Observed string        `json:"observed"`
}

// driftStep is one step of a drift report.
type driftStep struct {
	ID     string     `json:"id"`
	Title  string     `json:"title"`
	Status string     `json:"status"` // unchanged, drifted, manual (shown, not compared), new (a step the baseline's guide did not have)
	Before *driftSide `json:"before,omitempty"`
	Now    *driftSide `json:"now,omitempty"`
	What   string     `json:"what,omitempty"` // what differs
}

// driftReport is the JSON document of a drift check.
type driftReport struct {
	Schema       string           `json:"schema"`
	Baseline     string           `json:"baseline"`
	RecordSHA256 string           `json:"record_sha256"`
	Signed       time.Time        `json:"signed"` // when the baseline's session finished
	Device       devices.Identity `json:"device"`
	Steps        []driftStep      `json:"steps"`
	Drifted      int              `json:"drifted"`
	Unchanged    int              `json:"unchanged"`
	Manual       int              `json:"manual"` // manual steps, shown and not compared
}

func runBaseline(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit --baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, baselineHelp); fs.PrintDefaults() }
	base := fs.String("baseline", "", "the signed record bundle to compare with (required)")
	allowed := fs.String("allowed-signers", "", "allowed_signers file the plant trusts")
	signer := fs.String("signer", "", "require this signer identity on the baseline")
	dev := addDeviceFlags(fs, "the device's address, when not the one the record names (HOST or HOST:PORT)", 2*time.Second)
	asJSON := fs.Bool("json", false, "print the comparison as JSON on stdout")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	switch {
	case len(rest) > 0:
		return usageErr("audit --baseline takes no arguments, only flags (got %q)", rest[0])
	case *base == "":
		return usageErr("--baseline needs a record bundle folder")
	}
	if err := dev.check(false); err != nil {
		return err
	}
	// 1. The baseline must verify before anything is compared with it.
	vrep, err := verifyDir(*base, *allowed, *signer)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("verify the baseline: %w", err))
	}
	if !vrep.OK() {
		for _, p := range vrep.Problems {
			fmt.Fprintln(stderr, "  FAIL", p.String())
		}
		return withCode(ExitError, fmt.Errorf("the baseline %s does not verify (%d problem(s)): it cannot be compared with", *base, len(vrep.Problems)))
	}
	if !vrep.Trusted {
		fmt.Fprintf(stderr, "warning: the baseline's signer (%s) was checked only against the bundle's own allowed_signers: give the plant's with --allowed-signers\n", strings.Join(vrep.Signers, ", "))
	}
	rec, _, err := record.Load(filepath.Join(*base, bundle.RecordFile))
	if err != nil {
		return withCode(ExitError, err)
	}
	fam, ok := lookupFamily(rec.Device.Family)
	if !ok {
		return withCode(ExitError, fmt.Errorf("the baseline is of family %q, which this version does not know", rec.Device.Family))
	}
	addr := *dev.address
	if addr == "" {
		addr = rec.Device.Address
	}
	t, err := dev.target(fam, addr, stdin)
	if err != nil {
		return err
	}
	live, eng, err := auditOnce(ctx, t, *dev.fingerprint, *dev.tofu, stderr)
	if err != nil {
		return withCode(ExitError, err)
	}
	eng.Close()
	// 3. Compare step by step.
	drep := compareBaseline(rec, live)
	drep.Baseline, drep.RecordSHA256 = *base, vrep.RecordSHA256
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(drep); err != nil {
			return withCode(ExitError, fmt.Errorf("write output: %w", err))
		}
	} else {
		printDrift(stdout, drep)
	}
	if drep.Drifted > 0 {
		return withCode(ExitDeviation, errQuiet)
	}
	return nil
}

// signedClass is what a signed step's outcome says about the device, so that a
// signed "fixed" compares equal to a live "compliant": compliant,
// deviation, not_applicable, manual or error.
func signedClass(s record.Step) steps.Outcome {
	if s.Kind == steps.Manual {
		return steps.ManualPending
	}
	f := signedFinding(s)
	switch {
	case s.Outcome == steps.Error:
		return steps.Error
	case f == nil:
		return s.Outcome
	case !f.Applicable && s.Outcome == steps.NotApplicable:
		return steps.NotApplicable
	case f.Compliant:
		return steps.Compliant
	}
	return steps.Deviation
}

// signedFinding is the last finding the record holds for a step: the
// one after the change, else the one before.
func signedFinding(s record.Step) *steps.Finding {
	if s.After != nil {
		return s.After
	}
	return s.Before
}

func liveClass(f auditFinding) steps.Outcome {
	if f.Kind == steps.Manual {
		return steps.ManualPending
	}
	return f.Outcome
}

// compareBaseline compares the signed record with a live audit.
func compareBaseline(rec record.Record, live auditReport) driftReport {
	rep := driftReport{Schema: "commission.drift/v1", Signed: rec.Finished, Device: live.Device}
	now := map[string]auditFinding{}
	for _, f := range live.Steps {
		now[f.ID] = f
	}
	seen := map[string]bool{}
	if what := identityDrift(rec.Device, live.Device); what != "" {
		rep.Steps = append(rep.Steps, driftStep{ID: "device", Title: "the device itself", Status: "drifted", What: what})
	}
	for _, s := range rec.Steps {
		seen[s.ID] = true
		before := &driftSide{Outcome: signedClass(s)}
		if f := signedFinding(s); f != nil {
			before.Observed = f.Observed
		}
		st := driftStep{ID: s.ID, Title: s.Title, Before: before}
		lf, ok := now[s.ID]
		switch {
		case s.Kind == steps.Manual && ok:
			// A manual step's observation is evidence for a person (the
			// device's log, which every login adds to), not a setting:
			// it is shown, not compared. The firmware is compared with
			// the device's identity.
			st.Now = &driftSide{Outcome: liveClass(lf), Observed: lf.Observed}
			st.Status = "manual"
		case !ok:
			st.Status, st.What = "drifted", "the live audit has no such step"
		default:
			st.Now = &driftSide{Outcome: liveClass(lf), Observed: lf.Observed}
			var diffs []string
			if st.Now.Outcome != before.Outcome {
				diffs = append(diffs, fmt.Sprintf("outcome %s -> %s", before.Outcome, st.Now.Outcome))
			}
			if withoutClock(st.Now.Observed) != withoutClock(before.Observed) {
				diffs = append(diffs, "observed")
			}
			st.Status = "unchanged"
			if len(diffs) > 0 {
				st.Status, st.What = "drifted", strings.Join(diffs, ", ")
			}
		}
		rep.Steps = append(rep.Steps, st)
	}
	for _, f := range live.Steps {
		if !seen[f.ID] {
			rep.Steps = append(rep.Steps, driftStep{ID: f.ID, Title: f.Title, Status: "new",
				Now: &driftSide{Outcome: liveClass(f), Observed: f.Observed}, What: "the baseline's guide had no such step"})
		}
	}
	for _, s := range rep.Steps {
		switch s.Status {
		case "drifted":
			rep.Drifted++
		case "unchanged":
			rep.Unchanged++
		case "manual":
			rep.Manual++
		}
	}
	return rep
}

// clockReading matches a date with a time of day (RFC 3339 and the
// like), such as a device's clock or its last NTP sync.
var clockReading = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?`)
})

// withoutClock is an observation without its clock readings: the time a
// device shows moves on between two reads and is not a setting, so it
// is not drift (a wrong clock shows as the step's outcome).
func withoutClock(observed string) string {
	return clockReading().ReplaceAllString(observed, "<time>")
}

// identityDrift says how the live device differs from the one signed:
// another model, serial or MAC address is another device; another
// firmware is a change.
func identityDrift(signed, now devices.Identity) string {
	var diffs []string
	for _, f := range []struct{ name, a, b string }{
		{"model", signed.Model, now.Model}, {"serial", signed.Serial, now.Serial}, {"MAC", signed.MAC, now.MAC},
		{"firmware", signed.Firmware, now.Firmware},
	} {
		if f.a != "" && f.b != "" && f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", f.name, printable.String(f.a), printable.String(f.b)))
		}
	}
	return strings.Join(diffs, ", ")
}

func printDrift(w io.Writer, rep driftReport) {
	id := rep.Device
	fmt.Fprintf(w, "%s %s at %s, compared with %s (signed %s, record.json sha256 %s)\n\n",
		printable.String(id.Model), printable.String(id.Firmware), printable.String(id.Address),
		rep.Baseline, rep.Signed.UTC().Format(time.RFC3339), rep.RecordSHA256)
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "%-9s %s  %s\n", s.Status, s.ID, printable.String(s.Title))
		if s.Status == "unchanged" || s.Status == "manual" {
			continue
		}
		if s.What != "" {
			fmt.Fprintf(w, "          differs: %s\n", s.What)
		}
		if s.Before != nil {
			fmt.Fprintf(w, "          before:  %s: %s\n", s.Before.Outcome, printable.String(s.Before.Observed))
		}
		if s.Now != nil {
			fmt.Fprintf(w, "          now:     %s: %s\n", s.Now.Outcome, printable.String(s.Now.Observed))
		}
	}
	fmt.Fprintf(w, "\n%d step(s) drifted, %d unchanged, %d manual (not compared)\n", rep.Drifted, rep.Unchanged, rep.Manual)
}

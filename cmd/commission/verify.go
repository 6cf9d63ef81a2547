package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/pdf"
	"github.com/commission-tool/commission/internal/steps"
)

const verifyHelp = `Usage: commission verify [flags] DIR

Checks a record bundle offline and reports two findings:

  integrity     the SSHSIG signature of record.json (namespace
                commissioning-record@commission.tool) and that the key which
                made it is the one record.json names; every evidence file's
                SHA-256; record.pdf and oscal-ar.json rendered again from
                record.json and compared byte for byte; record.json
                well-formed and consistent with the device's guide; and every
                checked outcome computed again from the observations the
                record keeps.
  completeness  the record's status: COMMISSIONED, INCOMPLETE (and what is
                open) or SIMULATED DEVICE.

Give the plant's own allowed_signers file with --allowed-signers. Without it,
the signature can only be checked against the signer the bundle itself names,
which anyone can make with any key: verify then says so and exits 4.

Exit codes: 0 intact and signed by a signer in --allowed-signers; 1 a check
failed (each problem is printed with the file it concerns); 2 the folder or a
flag is unusable; 4 intact, but checked only against the bundle's own signer.

Flags:
`

func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, verifyHelp); fs.PrintDefaults() }
	allowed := fs.String("allowed-signers", "", "allowed_signers file the plant trusts (without it: only the bundle's own signer, exit 4)")
	identity := fs.String("identity", "", "require this signer identity")
	plan := fs.String("plan", "", "the site plan the record says it was filled from: its SHA-256 must be the one the record names")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if fs.NArg() != 1 {
		return usageErr("give one record folder: commission verify DIR")
	}
	rep, err := verifyDir(fs.Arg(0), *allowed, *identity, *plan)
	if err != nil {
		return withCode(ExitCode(bundle.ExitCode(rep, err)), err)
	}
	printReport(stdout, rep)
	switch bundle.ExitCode(rep, nil) {
	case bundle.ExitFailed:
		return withCode(ExitDeviation, fmt.Errorf("%s does not verify: %d problem(s)", fs.Arg(0), len(rep.Problems)))
	case bundle.ExitUntrusted:
		return withCode(ExitUntrusted, fmt.Errorf("%s is intact, but its signer was checked only against the bundle's own allowed_signers: give the plant's with --allowed-signers", fs.Arg(0)))
	}
	return nil
}

// printReport writes verify's two findings: integrity, then completeness.
func printReport(w io.Writer, rep bundle.Report) {
	if rep.OK() {
		fmt.Fprintf(w, "integrity: OK %s\n", rep.Dir)
	} else {
		fmt.Fprintf(w, "integrity: FAILED %s, %d problem(s)\n", rep.Dir, len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintln(w, "  FAIL", p.String())
		}
	}
	if rep.RecordSHA256 != "" {
		fmt.Fprintf(w, "  record.json sha256 %s\n", rep.RecordSHA256)
	}
	if rep.Fingerprint != "" {
		fmt.Fprintf(w, "  signature made with %s key %s\n", rep.KeyType, rep.Fingerprint)
	}
	switch {
	case len(rep.Signers) > 0 && rep.Trusted:
		fmt.Fprintf(w, "  signer: %s, trusted by the plant's %s\n", strings.Join(rep.Signers, ", "), rep.AllowedSigners)
	case len(rep.Signers) > 0:
		fmt.Fprintf(w, "  signer: %s, as the bundle itself names it; NOT checked against a signer the plant trusts (use --allowed-signers)\n", strings.Join(rep.Signers, ", "))
	}
	if rep.Rendered {
		fmt.Fprintln(w, "  record.pdf and oscal-ar.json rendered again from record.json and compared")
	}
	fmt.Fprintf(w, "  catalog checked: %t; outcomes computed again from the observations: %d\n", rep.CatalogChecked, rep.Recomputed)
	if rep.Headline != "" {
		fmt.Fprintf(w, "completeness: %s\n", rep.Headline)
		if rep.Status.Reason != "" {
			fmt.Fprintf(w, "  signed with open steps; reason: %s\n", strings.Join(strings.Fields(rep.Status.Reason), " "))
		}
		for _, id := range rep.Status.Open {
			fmt.Fprintf(w, "  open: %s\n", id)
		}
	}
}

// verifyDir verifies a bundle against the catalog of the record's family,
// and has the family's checks compute the outcomes again.
func verifyDir(dir, allowed, identity string, plan ...string) (bundle.Report, error) {
	var opts []bundle.Option
	if len(plan) > 0 && plan[0] != "" {
		opts = append(opts, bundle.WithPlan(plan[0]))
	}
	if allowed != "" {
		opts = append(opts, bundle.WithAllowedSigners(allowed))
	}
	if identity != "" {
		opts = append(opts, bundle.WithIdentity(identity))
	}
	// The family named in record.json picks the catalog and the
	// rechecker; a record that claims another family fails its checks.
	opts = append(opts, bundle.WithFamily(func(name string) ([]steps.Meta, bundle.Recheck, bool) {
		f, ok := lookupFamily(name)
		if !ok {
			return nil, nil, false
		}
		metas, _ := f.Guide()
		return metas, f.Recheck, true
	}))
	return bundle.Verify(dir, opts...)
}

const printHelp = `Usage: commission print [flags] DIR

Verifies the record bundle in DIR (as "commission verify" does) and renders
its printable PDF again. The same record always gives the same PDF bytes.
Give the plant's allowed_signers with --allowed-signers; without it, a
bundle is printed only with --untrusted, and the PDF is still the same.

Flags:
`

func runPrint(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, printHelp); fs.PrintDefaults() }
	paper := fs.String("paper", "A4", "paper size: A4 or Letter")
	out := fs.String("o", "", "output file (default DIR/record.pdf)")
	allowed := fs.String("allowed-signers", "", "allowed_signers file the plant trusts")
	untrusted := fs.Bool("untrusted", false, "print although the signer was checked only against the bundle's own allowed_signers")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if fs.NArg() != 1 {
		return usageErr("give one record folder: commission print DIR")
	}
	if *paper != "A4" && *paper != "Letter" {
		return usageErr("--paper must be A4 or Letter")
	}
	dir := fs.Arg(0)
	rep, err := verifyDir(dir, *allowed, "")
	if err != nil {
		return withCode(ExitCode(bundle.ExitCode(rep, err)), err)
	}
	if !rep.OK() {
		for _, p := range rep.Problems {
			fmt.Fprintln(stderr, "FAIL", p.String())
		}
		return withCode(ExitDeviation, fmt.Errorf("%s does not verify, so it is not printed", dir))
	}
	if !rep.Trusted && !*untrusted {
		return withCode(ExitUntrusted, fmt.Errorf("%s: the signer was checked only against the bundle's own allowed_signers; give the plant's with --allowed-signers (or --untrusted)", dir))
	}
	data, err := pdf.Render(rep.Record, rep.RecordSHA256, *paper)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("render the PDF: %w", err))
	}
	path := *out
	if path == "" {
		path = filepath.Join(dir, bundle.PDFFile)
	}
	if err := record.WriteFileAtomic(path, data, 0o644); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintln(stdout, path)
	return nil
}

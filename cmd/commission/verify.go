package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/record/pdf"
)

const verifyHelp = `Usage: commission verify [flags] DIR

Checks a record bundle offline: the SSHSIG signature of record.json
(namespace commissioning-record@commission.tool) against the bundle's
allowed_signers or the one you trust (--allowed-signers), every evidence
file's SHA-256, and that record.json is well-formed and consistent: every
step of the device's guide is present and every outcome that is not
compliant carries its reason.

Exit codes: 0 the record verifies; 1 verification failed (each problem is
printed with the file it concerns); 2 the folder or a flag is unusable.

Flags:
`

func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, verifyHelp); fs.PrintDefaults() }
	allowed := fs.String("allowed-signers", "", "allowed_signers file the plant trusts (default: the bundle's own)")
	identity := fs.String("identity", "", "require this signer identity")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if fs.NArg() != 1 {
		return usageErr("give one record folder: commission verify DIR")
	}
	rep, err := verifyDir(fs.Arg(0), *allowed, *identity)
	if err != nil {
		return withCode(ExitCode(bundle.ExitCode(rep, err)), err)
	}
	if !rep.OK() {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, "FAIL", p.String())
		}
		return withCode(ExitDeviation, fmt.Errorf("%s does not verify: %d problem(s)", fs.Arg(0), len(rep.Problems)))
	}
	fmt.Fprintf(stdout, "OK %s\n  record.json sha256 %s\n  signed by %v with %s key %s\n  catalog checked: %t\n",
		rep.Dir, rep.RecordSHA256, rep.Signers, rep.KeyType, rep.Fingerprint, rep.CatalogChecked)
	return nil
}

// verifyDir verifies a bundle against the catalog of the record's family.
func verifyDir(dir, allowed, identity string) (bundle.Report, error) {
	var opts []bundle.Option
	if allowed != "" {
		opts = append(opts, bundle.WithAllowedSigners(allowed))
	}
	if identity != "" {
		opts = append(opts, bundle.WithIdentity(identity))
	}
	// Find the family to check the record against its guide.
	if r, _, err := record.Load(dir + "/" + bundle.RecordFile); err == nil {
		if metas, _, err := stepMetas(r.Device.Family); err == nil {
			opts = append(opts, bundle.WithCatalog(metas))
		}
	}
	return bundle.Verify(dir, opts...)
}

const printHelp = `Usage: commission print [flags] DIR

Verifies the record bundle in DIR (as "commission verify" does) and renders
its printable PDF again. The same record always gives the same PDF bytes.

Flags:
`

func runPrint(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, printHelp); fs.PrintDefaults() }
	paper := fs.String("paper", "A4", "paper size: A4 or Letter")
	out := fs.String("o", "", "output file (default DIR/record.pdf)")
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
	rep, err := verifyDir(dir, "", "")
	if err != nil {
		return withCode(ExitCode(bundle.ExitCode(rep, err)), err)
	}
	if !rep.OK() {
		for _, p := range rep.Problems {
			fmt.Fprintln(stderr, "FAIL", p.String())
		}
		return withCode(ExitDeviation, fmt.Errorf("%s does not verify, so it is not printed", dir))
	}
	r, _, err := record.Load(dir + "/" + bundle.RecordFile)
	if err != nil {
		return withCode(ExitError, err)
	}
	signer := keys.SignerInfo{KeyType: rep.KeyType, Fingerprint: rep.Fingerprint}
	if len(rep.Signers) > 0 {
		signer.Identity = rep.Signers[0]
	}
	data, err := pdf.Render(r, rep.RecordSHA256, signer, *paper)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("render the PDF: %w", err))
	}
	path := *out
	if path == "" {
		path = dir + "/" + bundle.PDFFile
	}
	if err := record.WriteFileAtomic(path, data, 0o644); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintln(stdout, path)
	return nil
}

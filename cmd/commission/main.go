// Command commission walks a field technician through a vendor's
// security-hardening guide for one industrial device, checks and changes
// the device live, step by step, and writes a signed commissioning record.
//
// The wizard draws on stderr; results go to stdout; exit codes are typed
// (see ExitCode).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `commission - commission an industrial device by its vendor's hardening guide

Usage:
  commission [wizard] [flags]     guided hardening of one device (the default)
  commission demo [--headless]    the same wizard against simulated devices on this laptop
  commission audit [flags]        check one device against its guide, change nothing
  commission verify DIR           check a record bundle's signature and evidence
  commission print DIR            render a verified record bundle to PDF again
  commission version

Run "commission COMMAND --help" for a command's flags.

Devices: nport (Moxa NPort 5000), thingspro (Moxa ThingsPro Edge), kepware (PTC Kepware).

Exit codes: 0 all good; 1 deviations found (audit) or verification failed
(verify); 2 error (bad flags, unreachable device, wrong credentials).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errQuiet) {
		fmt.Fprintln(os.Stderr, "commission:", err)
	}
	os.Exit(int(codeOf(err)))
}

// errQuiet marks an error whose message was already shown.
var errQuiet = errors.New("already reported")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "wizard"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "wizard":
		return runWizard(ctx, args, stdin, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, stdin, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, stdin, stdout, stderr)
	case "verify":
		return runVerify(ctx, args, stdout, stderr)
	case "print":
		return runPrint(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "commission", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageErr("unknown command %q", cmd)
	}
}

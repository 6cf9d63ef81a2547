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

	"github.com/commission-tool/commission/internal/transport"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// command is one subcommand of commission.
type command struct {
	name    string
	args    string // shown after the name in the usage
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands lists every subcommand, in the order the usage shows them.
// Adding a command is one line here; the usage is built from this table.
var commands = []command{
	{"wizard", "[flags]", "guided hardening of one device (the default)", runWizard},
	{"demo", "[--headless]", "the same wizard against simulated devices on this laptop", runDemo},
	{"audit", "[flags]", "check one device against its guide, change nothing", runAudit},
	{"plan", "init|check", "write or check a site plan: the values and devices the office decided", runPlan},
	{"capture", "[flags]", "record a read-only, masked transcript of a device's console to send back", runCapture},
	{"verify", "DIR", "check a record bundle's signature and evidence", func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runVerify(ctx, args, stdout, stderr)
	}},
	{"print", "DIR", "render a verified record bundle to PDF again", func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runPrint(ctx, args, stdout, stderr)
	}},
	{"version", "", "print the version (also --version)", func(_ context.Context, _ []string, _ io.Reader, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "commission", version)
		return nil
	}},
	{"help", "[COMMAND]", "this help, or a command's flags (also --help)", nil}, // run: runHelp
}

// usage is the top-level help, on stdout for --help.
func usage() string {
	var b strings.Builder
	b.WriteString("commission - commission an industrial device by its vendor's hardening guide\n\nUsage:\n")
	for _, c := range commands {
		left := "commission " + c.name
		if c.args != "" {
			left += " " + c.args
		}
		fmt.Fprintf(&b, "  %-36s %s\n", left, c.summary)
	}
	b.WriteString(`
Run "commission COMMAND --help" for a command's flags. Flags may come
before or after a command's arguments.

Devices: ` + deviceList() + `.

Exit codes: 0 all good; 1 deviations found (audit) or verification failed
(verify); 2 error (bad flags, unreachable device, wrong credentials);
3 STOP: the device's certificate or SSH host key differs from the pinned
one or from --fingerprint (it may be an impostor); 4 verify: intact, but
checked only against the bundle's own signer (give --allowed-signers).
`)
	return b.String()
}

// deviceList names every family for the help: "name (label), ...".
func deviceList() string {
	parts := make([]string, len(registry))
	for i, f := range registry {
		parts[i] = f.Name + " (" + f.Label + ")"
	}
	return strings.Join(parts, ", ")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if os.Getenv(loopbackOnlyEnv) == "1" {
		transport.SetDestinationCheck(transport.LoopbackOnly)
	}
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errQuiet) {
		fmt.Fprintln(os.Stderr, "commission:", err)
	}
	os.Exit(int(codeOf(err)))
}

// loopbackOnlyEnv, set to 1, makes the process refuse every destination
// outside 127.0.0.0/8 (no broadcast, no DNS query): CI's demo smoke test
// and anyone trying the demo can prove nothing leaves the machine.
const loopbackOnlyEnv = "COMMISSION_LOOPBACK_ONLY"

// errQuiet marks an error whose message was already shown.
var errQuiet = errors.New("already reported")

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	name := "wizard"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			return runHelp(ctx, args[1:], stdin, stdout, stderr)
		case a == "--version" || a == "-version" || a == "-v":
			name, args = "version", args[1:]
		case !strings.HasPrefix(a, "-"):
			name, args = a, args[1:]
		}
	}
	c, ok := lookupCommand(name)
	if !ok {
		fmt.Fprint(stderr, usage())
		return usageErr("unknown command %q: use one of %s", name, commandNames())
	}
	if c.run == nil { // help: it reads the table, so the table cannot name it
		return runHelp(ctx, args, stdin, stdout, stderr)
	}
	return c.run(ctx, args, stdin, stdout, stderr)
}

// runHelp prints the usage on stdout, or a command's own help.
func runHelp(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] != "help" {
		if c, ok := lookupCommand(args[0]); ok {
			// A command's --help goes to stdout too when asked for by name.
			return c.run(ctx, []string{"--help"}, stdin, stdout, stdout)
		}
		fmt.Fprint(stderr, usage())
		return usageErr("unknown command %q: use one of %s", args[0], commandNames())
	}
	fmt.Fprint(stdout, usage())
	return nil
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

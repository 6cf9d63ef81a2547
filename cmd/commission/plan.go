package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/commission-tool/commission/internal/siteplan"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

const planHelp = `Usage: commission plan init [--out FILE]
       commission plan check FILE

A site plan holds what the office decided for a site before anyone goes
there: the site's identity, the values each family's steps ask for
(allow lists, syslog and NTP servers, banners, password policy, account
names), the site's devices with where each one's password comes from,
and waivers approved in advance. It never holds a password. The schema is
in docs/site-plan.md.

  init    writes a commented plan listing every value the guides ask for
          (to stdout, or to --out FILE, which must not exist yet)
  check   validates a plan against the guides: every problem is printed
          with its line; the plan's SHA-256 is printed when it is valid

Exit codes: 0 the plan is valid; 2 it is not, or a flag is wrong.

Flags:
`

// planSchema is the plan's schema built from the family table: the
// plan package knows no family by name.
func planSchema() siteplan.Schema {
	s := siteplan.Schema{CheckDevice: checkPlanDevice}
	for _, f := range registry {
		metas, title := f.Guide()
		s.Families = append(s.Families, siteplan.Family{Name: f.Name, Guide: title, Steps: metas})
	}
	return s
}

// checkPlanDevice checks a device's address, ports and fingerprint as
// audit does for its flags.
func checkPlanDevice(d siteplan.Device) error {
	f, ok := lookupFamily(d.Family)
	if !ok {
		return fmt.Errorf("unknown device family %q", d.Family)
	}
	_, port, err := parseAddress(d.Address)
	if err != nil {
		return err
	}
	if _, err := targetPorts(f, port, d.Ports); err != nil {
		return err
	}
	if d.Fingerprint != "" && transport.FingerprintHex(d.Fingerprint) == "" {
		return fmt.Errorf("fingerprint %q is not a SHA-256 fingerprint: give SHA256:base64 or the 32 hex pairs the device shows", d.Fingerprint)
	}
	return nil
}

func runPlan(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, planHelp); fs.PrintDefaults() }
	out := fs.String("out", "", "with init: write the plan to this file (it must not exist yet) instead of stdout")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return withCode(ExitError, err)
	}
	if len(rest) == 0 {
		fs.Usage()
		return usageErr("plan needs a subcommand: init or check")
	}
	switch rest[0] {
	case "init":
		if len(rest) != 1 {
			return usageErr("plan init takes no arguments: use --out FILE to write to a file")
		}
		tpl := planSchema().Template()
		if *out == "" {
			if _, err := stdout.Write(tpl); err != nil {
				return withCode(ExitError, fmt.Errorf("write the plan: %w", err))
			}
			return nil
		}
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return withCode(ExitError, fmt.Errorf("write the plan: %w (plan init never overwrites a plan)", err))
		}
		if _, err := f.Write(tpl); err != nil {
			f.Close()
			return withCode(ExitError, fmt.Errorf("write the plan: %w", err))
		}
		if err := f.Close(); err != nil {
			return withCode(ExitError, fmt.Errorf("write the plan: %w", err))
		}
		fmt.Fprintf(stderr, "wrote %s: fill it in, then run commission plan check %s\n", *out, *out)
		return nil
	case "check":
		if len(rest) != 2 {
			return usageErr("give one plan file: commission plan check FILE")
		}
		p, err := planSchema().Load(rest[1])
		if err != nil {
			var pe *siteplan.Error
			if errors.As(err, &pe) {
				fmt.Fprintln(stderr, pe.Error())
				return withCode(ExitError, fmt.Errorf("%s is not a valid plan: %d problem(s)", rest[1], len(pe.Problems)))
			}
			return withCode(ExitError, err)
		}
		values := 0
		for _, f := range registry {
			metas, _ := f.Guide()
			for _, m := range metas {
				if v, ok := p.Values(f.Name, m.ID); ok {
					values += len(v)
				}
			}
		}
		fmt.Fprintf(stdout, "%s: valid plan, sha256 %s\n  %d value(s), %d device(s), %d waiver(s)\n", rest[1], p.Digest(), values, len(p.Devices), len(p.Waivers))
		return nil
	}
	return usageErr("unknown plan subcommand %q: use init or check", rest[0])
}

// plannedEngine fills a session's input defaults from a site plan: the
// plan's value wins over the one the device proposes, and the
// technician can still change it. The wizard's --plan wraps its engine
// with it; the record marks, per step, the inputs sent as planned and
// those changed in the field (record.Meta.PlanValues).
type plannedEngine struct {
	engine
	plan *siteplan.Plan
}

// Defaults is the device's proposal with the plan's values on top.
func (p *plannedEngine) Defaults(id string) steps.Values {
	out := steps.Values{}
	for k, v := range p.engine.Defaults(id) {
		out[k] = v
	}
	for k, v := range p.FromPlan(id) {
		out[k] = v
	}
	return out
}

// FromPlan is what the plan gives for a step, so that the wizard can
// mark those inputs "from the site plan" and record a change made in
// the field as such.
func (p *plannedEngine) FromPlan(id string) steps.Values {
	v, _ := p.plan.Values(p.Family(), id)
	return v
}

// PlanDigest is the SHA-256 of the plan, for the record.
func (p *plannedEngine) PlanDigest() string { return p.plan.Digest() }

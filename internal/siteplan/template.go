package siteplan

import (
	"fmt"
	"strings"

	"github.com/commission-tool/commission/internal/steps"
)

// Template is a commented plan listing every value each family's steps
// ask for, all commented out, so that it checks clean as written. The
// engineer uncomments and fills in what the site decided.
func (s Schema) Template() []byte {
	var b strings.Builder
	b.WriteString(`# commission site plan (schema: docs/site-plan.md)
#
# What the office decided for a site, so the technician does not type it
# again for every device. The wizard (--plan FILE) fills each input from
# here and marks it "from the site plan"; the technician can still change
# it, and the record names this file by its SHA-256.
#
# NEVER write a password here. A device's password comes from a file, an
# environment variable or a command (password_file, password_env,
# password_command); new passwords are typed in the wizard. A key that
# looks like a secret makes "commission plan check" fail.

schema = "` + SchemaVersion + `"

[site]
name = ""         # the site, such as "Plant 4, water treatment"
company = ""      # the integrator or plant operator
technicians = []  # optional, such as ["Ada Lovelace"]
`)
	for _, f := range s.Families {
		fmt.Fprintf(&b, "\n# ---- %s", f.Name)
		if f.Guide != "" {
			fmt.Fprintf(&b, ": %s", oneLine(f.Guide))
		}
		b.WriteString(" ----\n")
		for _, m := range f.Steps {
			var inputs []string
			for _, in := range m.Inputs {
				if in.Secret {
					continue
				}
				line := fmt.Sprintf("# %s = %s", in.Key, example(in))
				note := oneLine(in.Label)
				if in.Help != "" {
					note += ": " + oneLine(in.Help)
				}
				if len(in.Options) > 0 {
					note += " (one of " + strings.Join(in.Options, ", ") + ")"
				}
				inputs = append(inputs, line+"   # "+note)
			}
			if len(inputs) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n# %s %s\n# [values.%s.%q]\n", m.Section, oneLine(m.Title), f.Name, m.ID)
			b.WriteString(strings.Join(inputs, "\n"))
			b.WriteString("\n")
		}
	}
	b.WriteString(`
# ---- devices: one [[device]] per device (commission audit --inventory reads them)
# [[device]]
# family = "` + firstFamily(s) + `"
# address = "192.168.127.254"          # HOST or HOST:PORT
# user = "admin"
# name = "line 1 serial server"        # optional
# password_file = "secrets/line1.pw"  # or password_env = "LINE1_PW", or password_command = "pass show line1"
# fingerprint = "SHA256:..."           # optional: the certificate as checked on the device
# ports = { https = 443 }              # optional: services on other ports

# ---- waivers approved in advance: one [[waiver]] per step
# [[waiver]]
# step = "STEP ID"                     # as in [values...] above
# approver = "name, role"
# reason = "why the site accepts the risk, and what mitigates it"
# expires = 2027-06-30                 # the last day it holds
`)
	return []byte(b.String())
}

func firstFamily(s Schema) string {
	if len(s.Families) > 0 {
		return s.Families[0].Name
	}
	return "FAMILY"
}

func example(in steps.Input) string {
	if len(in.Options) > 0 {
		return fmt.Sprintf("%q", in.Options[0])
	}
	if in.Multiline {
		return `["line 1", "line 2"]`
	}
	return `""`
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

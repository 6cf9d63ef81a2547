package catalog

import (
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/steps"
)

const proseOK = `
family = "fam"
guide = "The guide, sections 1 to 2"
[timing]
apply = "at once"
[effects]
svc = "at once: it stops"

[[step]]
id = "fam.1.one"
section = "1"
group = "services"
kind = "automatic"
title = "Turn one off"
why = "Because."
srs = ["SR 7.7"]
caution = "Careful."
  [[step.input]]
  key = "name"
  label = "Name"
  help = "a name"
  [[step.input]]
  key = "note"
  label = "Note"
  optional = true

[[step]]
id = "fam.2.two"
section = "2"
group = "accounts"
kind = "manual"
title = "Do two by hand"
why = "Because too."
srs = ["SR 1.1", "SR 1.2"]
attest = "I did two."
  [[step.input]]
  key = "password"
  label = "Password"
  secret = true
  [[step.input]]
  key = "again"
  label = "Again"
  secret = true
  confirms = "password"
`

type famState struct{ On bool }

func famCode() map[string]Code[famState] {
	return map[string]Code[famState]{
		"fam.1.one": {Check: func(s famState) steps.Finding { return steps.Finding{Applicable: true, Compliant: !s.On} },
			Validate: map[string]func(string) error{"name": required("enter a name")}},
		"fam.2.two": {Validate: map[string]func(string) error{"password": required("enter a password")}},
	}
}

func TestBuildJoinsProseAndCode(t *testing.T) {
	p, err := LoadProse([]byte(proseOK))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Build(p, famCode())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].ID != "fam.1.one" || st[1].ID != "fam.2.two" {
		t.Fatalf("steps %+v", st)
	}
	one, two := st[0], st[1]
	if one.Section != "1" || one.Group != "services" || one.Kind != steps.Automatic || one.Title != "Turn one off" ||
		one.Why != "Because." || one.Caution != "Careful." || len(one.SRs) != 1 || one.Check == nil {
		t.Errorf("step one %+v", one.Meta)
	}
	if one.Inputs[0].Validate == nil || one.Inputs[0].Validate("") == nil || one.Inputs[0].Help != "a name" || one.Inputs[1].Validate != nil {
		t.Errorf("inputs of one %+v", one.Inputs)
	}
	if two.Kind != steps.Manual || two.Attest != "I did two." || !two.Inputs[0].Secret || two.Inputs[0].Validate == nil {
		t.Errorf("step two %+v", two.Meta)
	}
	if p.Timing.Apply != "at once" || p.Effects["svc"] != "at once: it stops" || p.Guide == "" {
		t.Errorf("prose header %+v", p)
	}
}

func TestLoadProseRefuses(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"a misspelt key", `caution = "Careful."`, `cautions = "Careful."`, "unknown keys step.cautions"},
		{"an unknown group", `group = "services"`, `group = "network"`, `group "network"`},
		{"an unknown kind", `kind = "automatic"`, `kind = "auto"`, `kind "auto"`},
		{"a manual step without attestation", `attest = "I did two."`, ``, "attestation"},
		{"an id of another family", `id = "fam.2.two"`, `id = "other.2.two"`, `does not start with "fam."`},
		{"a duplicate id", `id = "fam.2.two"`, `id = "fam.1.one"`, "used twice"},
		{"no why", `why = "Because too."`, ``, "title, why and srs"},
		{"a confirmation of nothing", `confirms = "password"`, `confirms = "pasword"`, `confirms "pasword"`},
		{"an input without a label", `label = "Note"`, ``, "label"},
		{"not TOML", `[timing]`, `[timing`, "prose:"},
	} {
		src := strings.Replace(proseOK, c.from, c.to, 1)
		if src == proseOK {
			t.Fatalf("%s: the edit did not apply", c.name)
		}
		if _, err := LoadProse([]byte(src)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	p, err := LoadProse([]byte(proseOK))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(map[string]Code[famState])
		want string
	}{
		{"a step without code", func(m map[string]Code[famState]) { delete(m, "fam.2.two") }, "fam.2.two is in the prose but has no code"},
		{"code without a step", func(m map[string]Code[famState]) { m["fam.3.three"] = Code[famState]{} }, "fam.3.three has code but no prose"},
		{"an automatic step without a check", func(m map[string]Code[famState]) {
			c := m["fam.1.one"]
			c.Check = nil
			m["fam.1.one"] = c
		}, "no check"},
		{"a validator for no input", func(m map[string]Code[famState]) {
			m["fam.1.one"].Validate["nmae"] = required("x")
		}, `validates input "nmae"`},
		{"a required input without a validator", func(m map[string]Code[famState]) {
			delete(m["fam.2.two"].Validate, "password")
		}, `input "password" is required, free text and has no validator`},
	} {
		m := famCode()
		c.edit(m)
		if _, err := Build(p, m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestPorts(t *testing.T) {
	p := Ports{
		"https":  {Network: "tcp", Port: 443, State: probe.Open},
		"http":   {Network: "tcp", Port: 80, State: probe.Closed},
		"ssh":    {Network: "tcp", Port: 22, State: probe.Filtered},
		"telnet": {Network: "tcp", Port: 23, State: probe.Failed},
	}
	if got := p.Text("https", "snmp"); got != "https 443/tcp open, snmp: not probed" {
		t.Errorf("Text = %q", got)
	}
	if got := p.Numbers("http", "snmp"); got != "80/tcp closed, snmp: not probed" {
		t.Errorf("Numbers = %q", got)
	}
	for _, c := range []struct {
		names        []string
		closed, open bool
	}{
		{[]string{"http", "ssh"}, true, false},
		{[]string{"http", "https"}, false, false},
		{[]string{"https"}, false, true},
		{[]string{"telnet"}, false, false}, // a failed probe proves nothing
		{[]string{"snmp"}, false, false},   // nor does one never made
	} {
		if got := p.AllClosed(c.names...); got != c.closed {
			t.Errorf("AllClosed(%v) = %t", c.names, got)
		}
		if got := p.AllOpen(c.names...); got != c.open {
			t.Errorf("AllOpen(%v) = %t", c.names, got)
		}
	}
	if !p.Open("https") || p.Open("http") || p.Open("snmp") {
		t.Error("Open")
	}
	if OnOff(true) != "Enabled" || OnOff(false) != "Disabled" {
		t.Error("OnOff")
	}
}

func TestValidateAccountName(t *testing.T) {
	for v, want := range map[string]string{"": "enter an account name", "Admin": "default account", "abcdefghijklmnopq": "at most 16",
		"a b": "letters, digits", "jdoe": ""} {
		err := ValidateAccountName(v)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", v, err, want)
		}
	}
}

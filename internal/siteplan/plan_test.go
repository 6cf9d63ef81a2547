package siteplan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/steps"
)

// testSchema is two made-up families: the package must take whatever
// families the caller gives it.
func testSchema() Schema {
	ipv4 := func(v string) error {
		if strings.Count(v, ".") != 3 {
			return errors.New("give an IPv4 address such as 192.168.127.10")
		}
		return nil
	}
	return Schema{
		Today: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC),
		Families: []Family{
			{Name: "alpha", Guide: "Alpha guide v1", Steps: []steps.Meta{
				{ID: "alpha.1.syslog", Section: "1", Title: "Send the log", Inputs: []steps.Input{{Key: "server", Label: "Syslog server", Validate: ipv4}}},
				{ID: "alpha.2.banner", Section: "2", Title: "Login banner", Inputs: []steps.Input{{Key: "message", Label: "Message", Multiline: true}}},
				{ID: "alpha.3.admin", Section: "3", Title: "Own admin", Inputs: []steps.Input{
					{Key: "name", Label: "Account"}, {Key: "password", Label: "Password", Secret: true}, {Key: "confirm", Label: "Confirm", Secret: true}}},
				{ID: "alpha.4.telnet", Section: "4", Title: "Telnet off"},
			}},
			{Name: "beta", Steps: []steps.Meta{
				{ID: "beta.1.admin", Title: "Admin", Inputs: []steps.Input{{Key: "action", Label: "Action", Options: []string{"rename", "delete"}}}},
				{ID: "beta.2.lifetime", Title: "Lifetime", Inputs: []steps.Input{{Key: "days", Label: "Days"}}},
				{ID: "beta.3.password-policy", Title: "Policy", Inputs: []steps.Input{{Key: "min", Label: "Minimum length"}}},
			}},
		},
	}
}

const goodPlan = `schema = "commission.plan/v1"

[site]
name = "Plant 4"
company = "Integrator Ltd"
technicians = ["Ada Lovelace"]

[values.alpha."alpha.1.syslog"]
server = "192.168.127.10"

[values.alpha."alpha.2.banner"]
message = """
Authorised use only.
key = not a key, a line of the banner
"""

[values.alpha."alpha.3.admin"]
name = "ada"

[values.beta."beta.1.admin"]
action = "delete"

[values.beta."beta.2.lifetime"]
days = 30
[values.beta."beta.3.password-policy"]
min = 16

[[device]]
family = "alpha"
address = "127.0.0.1:8443"
user = "admin"
name = "line 1"
password_file = "secrets/line1.pw"
ports = { snmp = 1161 }

[[device]]
family = "beta"
address = "127.0.0.2"
user = "Administrator"
password_env = "BETA_PW"

[[waiver]]
step = "alpha.4.telnet"
approver = "J. Smith, OT security"
reason = "the line PLC only speaks telnet; a firewall limits it"
expires = 2026-12-01
`

func TestParseGoodPlan(t *testing.T) {
	p, err := testSchema().Parse("site.toml", []byte(goodPlan))
	if err != nil {
		t.Fatal(err)
	}
	if p.Site.Name != "Plant 4" || p.Site.Company != "Integrator Ltd" || len(p.Site.Technicians) != 1 {
		t.Errorf("site %+v", p.Site)
	}
	if v, ok := p.Values("alpha", "alpha.1.syslog"); !ok || v["server"] != "192.168.127.10" {
		t.Errorf("syslog values %v %v", v, ok)
	}
	if v, _ := p.Values("alpha", "alpha.2.banner"); v["message"] != "Authorised use only.\nkey = not a key, a line of the banner" {
		t.Errorf("banner %q", v["message"])
	}
	if v, _ := p.Values("beta", "beta.2.lifetime"); v["days"] != "30" {
		t.Errorf("a number is taken as its text: %q", v["days"])
	}
	if v, _ := p.Values("beta", "beta.3.password-policy"); v["min"] != "16" {
		t.Errorf("a step id is not a secret because it names passwords: %v", v)
	}
	if _, ok := p.Values("beta", "alpha.1.syslog"); ok {
		t.Error("values are per family")
	}
	// Values returns a copy.
	v, _ := p.Values("alpha", "alpha.1.syslog")
	v["server"] = "changed"
	if again, _ := p.Values("alpha", "alpha.1.syslog"); again["server"] != "192.168.127.10" {
		t.Error("Values shares its map")
	}
	fv := p.FamilyValues("alpha")
	if len(fv) != 3 || fv["alpha.1.syslog"]["server"] != "192.168.127.10" || fv["alpha.3.admin"]["name"] != "ada" {
		t.Errorf("alpha's values %v, want its syslog, banner and admin steps", fv)
	}
	fv["alpha.1.syslog"]["server"] = "changed"
	if again, _ := p.Values("alpha", "alpha.1.syslog"); again["server"] != "192.168.127.10" {
		t.Error("FamilyValues shares its maps")
	}
	if fv := p.FamilyValues("gamma"); len(fv) != 0 {
		t.Errorf("a family the plan does not name: %v", fv)
	}
	if len(p.Devices) != 2 || p.Devices[0].Credential.File != "secrets/line1.pw" || p.Devices[0].Ports["snmp"] != 1161 ||
		p.Devices[1].Credential.Env != "BETA_PW" || p.Devices[0].Line != 28 || p.Devices[1].Line != 36 {
		t.Errorf("devices %+v", p.Devices)
	}
	w, ok := p.Waiver("alpha.4.telnet")
	if !ok || w.Approver != "J. Smith, OT security" || w.ExpiresDate() != "2026-12-01" || w.Line != 42 {
		t.Errorf("waiver %+v %v (expiring today still holds)", w, ok)
	}
	if _, ok := p.Waiver("alpha.1.syslog"); ok {
		t.Error("waiver for a step not waived")
	}
	sum := sha256.Sum256([]byte(goodPlan))
	if p.Digest() != hex.EncodeToString(sum[:]) || Digest([]byte(goodPlan)) != p.Digest() {
		t.Errorf("digest %s", p.Digest())
	}
	other, err := testSchema().Parse("site.toml", []byte(strings.Replace(goodPlan, "Plant 4", "Plant 5", 1)))
	if err != nil || other.Digest() == p.Digest() {
		t.Errorf("a changed plan keeps its digest: %v", err)
	}
}

// problemsOf parses text and returns its problems by line.
func problemsOf(t *testing.T, text string) map[int]string {
	t.Helper()
	_, err := testSchema().Parse("site.toml", []byte(text))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("want *Error, got %v", err)
	}
	out := map[int]string{}
	for _, p := range pe.Problems {
		out[p.Line] += p.Msg + "; "
		if !strings.HasPrefix(p.String(), "site.toml:") {
			t.Errorf("problem without its file: %s", p)
		}
	}
	return out
}

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	text := `schema = "commission.plan/v1"
[values.alpha."alpha.9.nope"]
server = "1.2.3.4"
[values.alpha."alpha.1.syslog"]
serv = "1.2.3.4"
[values.alpha."alpha.3.admin"]
name = "ada"
confirm = "x"
[values.beta."alpha.2.banner"]
message = "hi"
[values.gamma."g.1"]
x = "1"
[values.beta."beta.1.admin"]
action = "rename-all"
[[device]]
family = "alpha"
address = "127.0.0.1"
user = "admin"
password = "moxa"
[[device]]
family = "alpha"
address = "127.0.0.1"
user = "admin"
password_file = "a"
password_env = "B"
[[waiver]]
step = "alpha.4.telnet"
approver = "J. Smith"
reason = "PLC"
expires = 2026-11-30
[[waiver]]
step = "alpha.1.syslog"
reason = "no log server yet"
expires = 2027-01-01
[site]
token = "abc"
`
	got := problemsOf(t, text)
	want := map[int]string{
		2:  `alpha has no step "alpha.9.nope"`,
		5:  `has no input "serv": its inputs are server`,
		8:  `"confirm" of step "alpha.3.admin" is a secret`,
		9:  `belongs to alpha, not beta`,
		11: `unknown device family "gamma"`,
		14: "choose one of rename, delete",
		19: `"password" looks like a secret`,
		20: "more than one password source",
		30: "expired on 2026-11-30",
		31: "needs approver",
		36: `"token" looks like a secret`,
	}
	for line, frag := range want {
		if !strings.Contains(got[line], frag) {
			t.Errorf("line %d: got %q, want it to contain %q", line, got[line], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems on lines %v, want exactly %d lines", got, len(want))
	}
}

func TestParseRunsEachInputsValidate(t *testing.T) {
	got := problemsOf(t, "schema = \"commission.plan/v1\"\n\n[values.alpha.\"alpha.1.syslog\"]\nserver = \"logs\"\n")
	if !strings.Contains(got[4], "give an IPv4 address") {
		t.Errorf("%v", got)
	}
}

func TestParseSyntaxAndSchema(t *testing.T) {
	got := problemsOf(t, "schema = \"commission.plan/v1\"\n[site]\nname = \"x\n")
	if !strings.Contains(got[3], "not valid TOML") {
		t.Errorf("syntax error: %v", got)
	}
	got = problemsOf(t, "[site]\nname = \"x\"\n")
	if !strings.Contains(got[0], "no schema line") {
		t.Errorf("missing schema: %v", got)
	}
	got = problemsOf(t, "schema = \"commission.plan/v9\"\nsites = 1\n")
	if !strings.Contains(got[1], "is not one this version reads") || !strings.Contains(got[2], `unknown key "sites"`) {
		t.Errorf("schema and unknown key: %v", got)
	}
}

func TestCheckDeviceHookReportsAtTheDevice(t *testing.T) {
	s := testSchema()
	s.CheckDevice = func(d Device) error {
		if strings.HasSuffix(d.Address, ".999") {
			return errors.New("address " + d.Address + " is not an IPv4 address")
		}
		return nil
	}
	_, err := s.Parse("p.toml", []byte("schema = \"commission.plan/v1\"\n\n[[device]]\nfamily = \"alpha\"\naddress = \"127.0.0.999\"\nuser = \"u\"\n"))
	if err == nil || !strings.Contains(err.Error(), "p.toml:3: address 127.0.0.999 is not an IPv4 address") {
		t.Errorf("%v", err)
	}
}

func TestTemplateChecksCleanAndListsEveryInput(t *testing.T) {
	s := testSchema()
	tpl := s.Template()
	p, err := s.Parse("init.toml", tpl)
	if err != nil {
		t.Fatalf("the template does not check clean:\n%v\n%s", err, tpl)
	}
	if len(p.Devices) != 0 || len(p.Waivers) != 0 {
		t.Errorf("the template should hold no device or waiver: %+v", p)
	}
	text := string(tpl)
	for _, frag := range []string{`# [values.alpha."alpha.1.syslog"]`, "# server = ", `# [values.beta."beta.1.admin"]`, `(one of rename, delete)`,
		"# name = ", "password_file", "[[waiver]]", "Alpha guide v1"} {
		if !strings.Contains(text, frag) {
			t.Errorf("the template lacks %q", frag)
		}
	}
	if strings.Contains(text, "# password = ") || strings.Contains(text, "# confirm = ") || strings.Contains(text, `"alpha.4.telnet"]`) {
		t.Error("the template offers a secret input or a step without inputs")
	}
	// Uncommenting an input makes it a value.
	filled := strings.Replace(text, "# [values.alpha.\"alpha.1.syslog\"]\n# server = \"\"", "[values.alpha.\"alpha.1.syslog\"]\nserver = \"10.0.0.5\"", 1)
	p, err = s.Parse("filled.toml", []byte(filled))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Values("alpha", "alpha.1.syslog"); v["server"] != "10.0.0.5" {
		t.Errorf("filled template: %v", v)
	}
}

func TestLineIndex(t *testing.T) {
	ix := indexLines("a = 1\n[t]\nb = '''\n[not.a.table]\nc = 2\n'''\n\"d.e\" . f = 3\n[[arr]]\nx = 1\n[[arr]]\nx = 2\n")
	for _, c := range []struct {
		path []string
		line int
	}{
		{[]string{"a"}, 1}, {[]string{"t"}, 2}, {[]string{"t", "b"}, 3}, {[]string{"t", "c"}, 2},
		{[]string{"t", "d.e", "f"}, 7}, {[]string{"arr", "#0", "x"}, 9}, {[]string{"arr", "#1", "x"}, 11}, {[]string{"not"}, 0},
	} {
		if got := ix.line(c.path...); got != c.line {
			t.Errorf("%v: line %d, want %d", c.path, got, c.line)
		}
	}
}

func TestLoadMakesPasswordFilesRelativeToThePlan(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.toml")
	if err := os.WriteFile(path, []byte(goodPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := testSchema().Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Devices[0].Credential.File; got != filepath.Join(dir, "secrets", "line1.pw") {
		t.Errorf("password_file %s", got)
	}
	big := filepath.Join(dir, "big.toml")
	os.WriteFile(big, make([]byte, MaxSize+1), 0o600)
	if _, err := testSchema().Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized plan: %v", err)
	}
}

func TestCredentialRead(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	os.WriteFile(f, []byte("s3cret-file\nignored\n"), 0o600)
	env := func(k string) (string, bool) {
		if k == "PW" {
			return "s3cret-env", true
		}
		return "", false
	}
	ctx := context.Background()
	for _, c := range []struct {
		cred Credential
		want string
	}{
		{Credential{File: f}, "s3cret-file"},
		{Credential{Env: "PW"}, "s3cret-env"},
		{Credential{Command: "echo s3cret-cmd"}, "s3cret-cmd"},
	} {
		got, err := c.cred.Read(ctx, env)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v", c.cred, got, err)
		}
		if strings.Contains(c.cred.String(), "s3cret") {
			t.Errorf("String shows the password: %s", c.cred)
		}
	}
	for _, c := range []Credential{{Env: "UNSET"}, {File: filepath.Join(dir, "missing")}, {Command: "false"}, {}} {
		if _, err := c.Read(ctx, env); err == nil {
			t.Errorf("%s: no error", c)
		}
	}
	os.WriteFile(f, []byte("\n"), 0o600)
	if _, err := (Credential{File: f}).Read(ctx, env); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
}

func TestParseCSV(t *testing.T) {
	s := testSchema()
	ds, err := s.ParseCSV("inv.csv", []byte("family,address,user,password_file,ports\n# a comment\nalpha,127.0.0.1:8443,admin,pw/a,https=1 snmp=2\nbeta,127.0.0.2,Administrator,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Credential.File != "pw/a" || ds[0].Ports["snmp"] != 2 || ds[1].Credential.IsZero() != true || ds[0].Line != 3 || ds[1].Line != 4 {
		t.Errorf("%+v", ds)
	}
	for _, c := range []struct{ text, want string }{
		{"family,address,user,password\nalpha,1,u,moxa\n", `inv.csv:1: column "password" looks like a secret`},
		{"family,address,user,colour\n", `inv.csv:1: unknown column "colour"`},
		{"family,user\n", "inv.csv:1: the header has no address column"},
		{"family,address,user\nalpha,127.0.0.1,u\ngamma,127.0.0.1,u\n", `inv.csv:3: unknown device family "gamma"`},
		{"family,address,user,ports\nalpha,127.0.0.1,u,https\n", "inv.csv:2: ports"},
		{"family,address,user\n", "lists no device"},
		{"", "the inventory is empty"},
		{"family,address,user,password_file,password_env\nalpha,127.0.0.1,u,f,E\n", "inv.csv:2: the device 127.0.0.1 names more than one password source"},
	} {
		_, err := s.ParseCSV("inv.csv", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestLoadDevicesFromCSVOrPlan(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "inventory.txt")
	os.WriteFile(csvPath, []byte("family,address,user,password_env\nalpha,127.0.0.1,u,PW\n"), 0o600)
	ds, err := testSchema().LoadDevices(csvPath)
	if err != nil || len(ds) != 1 || ds[0].Credential.Env != "PW" {
		t.Errorf("csv sniffed by its header: %+v %v", ds, err)
	}
	planPath := filepath.Join(dir, "site.toml")
	os.WriteFile(planPath, []byte(goodPlan), 0o600)
	ds, err = testSchema().LoadDevices(planPath)
	if err != nil || len(ds) != 2 {
		t.Errorf("plan devices: %+v %v", ds, err)
	}
	empty := filepath.Join(dir, "empty.toml")
	os.WriteFile(empty, []byte("schema = \"commission.plan/v1\"\n"), 0o600)
	if _, err := testSchema().LoadDevices(empty); err == nil || !strings.Contains(err.Error(), "no [[device]]") {
		t.Errorf("plan without devices: %v", err)
	}
}

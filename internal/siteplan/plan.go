// Package siteplan reads a site plan: the values an engineer decided in
// the office before a technician commissions a site's devices. A plan is
// a TOML file (schema in docs/site-plan.md) with the site's identity, per
// device family the inputs its guide's steps ask for, the site's devices
// with where each one's password comes from, and waivers approved in
// advance. A plan never holds a secret: a key that looks like one is an
// error.
//
// The package knows no family by name: the families and their steps come
// from the caller (Schema.Families), so a new family needs no change here.
package siteplan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/commission-tool/commission/internal/steps"
)

// SchemaVersion is the value of a plan's "schema" key.
const SchemaVersion = "commission.plan/v1"

// MaxSize bounds a plan or inventory file.
const MaxSize = 1 << 20

// Family is one device family as the plan sees it: its name and its
// guide's steps with their inputs.
type Family struct {
	Name  string
	Guide string // the guide's title, for the template's comments
	Steps []steps.Meta
}

// Schema is what a plan is checked against.
type Schema struct {
	Families []Family
	// Today is the date waivers are checked against; zero: the current date.
	Today time.Time
	// CheckDevice, when set, checks a device's address and ports the way
	// the caller will use them; its error is reported at the device's line.
	CheckDevice func(Device) error
}

// Plan is a checked site plan.
type Plan struct {
	Site    Site
	Devices []Device
	Waivers []Waiver
	values  map[string]map[string]steps.Values // family -> step id -> values
	digest  string
	name    string
}

// Site is who and where.
type Site struct {
	Name        string
	Company     string
	Technicians []string
}

// Device is one device of the site (from a plan or an inventory file).
type Device struct {
	Family      string
	Address     string // HOST or HOST:PORT
	User        string
	Name        string
	Fingerprint string         // expected TLS certificate fingerprint, optional
	Ports       map[string]int // per-service port overrides, optional
	Credential  Credential
	Line        int // where it is written, for messages
}

// Label names the device for a technician: its name, else its address.
func (d Device) Label() string {
	if d.Name != "" {
		return d.Name + " (" + d.Address + ")"
	}
	return d.Address
}

// Waiver is a step waived in advance.
type Waiver struct {
	Step     string
	Approver string
	Reason   string
	Expires  time.Time // the last day it holds (a date, UTC)
	Line     int
}

// ExpiresDate is the expiry as YYYY-MM-DD.
func (w Waiver) ExpiresDate() string { return w.Expires.Format(time.DateOnly) }

// Problem is one thing wrong in a plan or inventory file.
type Problem struct {
	File string
	Line int // 0: the file as a whole
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return p.File + ": " + p.Msg
}

// Error lists every problem found, one per line, in line order.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Digest is the hex SHA-256 of a plan file's bytes, by which a record
// names the plan it followed.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Digest is the hex SHA-256 of the plan file as read.
func (p *Plan) Digest() string { return p.digest }

// Name is the file the plan was read from.
func (p *Plan) Name() string { return p.name }

// Values returns the inputs the plan gives for a step of a family, and
// whether it gives any. The map is a copy.
func (p *Plan) Values(family, stepID string) (steps.Values, bool) {
	v, ok := p.values[family][stepID]
	if !ok {
		return nil, false
	}
	out := make(steps.Values, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out, true
}

// FamilyValues returns, per step id, the inputs the plan gives for a
// family's steps: what a record's Meta.PlanValues takes, so that the
// record can mark each input as from the plan or changed in the field.
// The maps are copies; a family the plan gives nothing for has none.
func (p *Plan) FamilyValues(family string) map[string]steps.Values {
	out := map[string]steps.Values{}
	for id := range p.values[family] {
		out[id], _ = p.Values(family, id)
	}
	return out
}

// Waiver returns the waiver approved in advance for a step, if any.
func (p *Plan) Waiver(stepID string) (Waiver, bool) {
	for _, w := range p.Waivers {
		if w.Step == stepID {
			return w, true
		}
	}
	return Waiver{}, false
}

// Load reads and checks the plan at path. A relative password_file is
// taken relative to the plan's folder.
func (s Schema) Load(path string) (*Plan, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	p, err := s.Parse(path, data)
	if err != nil {
		return nil, err
	}
	for i := range p.Devices {
		p.Devices[i].Credential = p.Devices[i].Credential.relativeTo(filepath.Dir(path))
	}
	return p, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: a plan or inventory is a short text file", path, MaxSize)
	}
	return data, nil
}

// checker collects problems with their lines.
type checker struct {
	name     string
	ix       lineIndex
	problems []Problem
}

func (c *checker) add(path []string, format string, a ...any) {
	c.problems = append(c.problems, Problem{File: c.name, Line: c.ix.line(path...), Msg: fmt.Sprintf(format, a...)})
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
	return &Error{Problems: c.problems}
}

// Parse checks a plan's text; name is used in messages. Every problem is
// reported, each with its line, in one *Error.
func (s Schema) Parse(name string, data []byte) (*Plan, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Problems: []Problem{{File: name, Line: pe.Position.Line, Msg: "not valid TOML: " + pe.Message}}}
		}
		return nil, &Error{Problems: []Problem{{File: name, Msg: "not valid TOML: " + err.Error()}}}
	}
	c := &checker{name: name, ix: indexLines(string(data))}
	p := &Plan{values: map[string]map[string]steps.Values{}, digest: Digest(data), name: name}
	findSecrets(c, nil, doc)
	if v, ok := doc["schema"]; !ok {
		c.add(nil, "the plan has no schema line: start it with schema = %q", SchemaVersion)
	} else if v != SchemaVersion {
		c.add([]string{"schema"}, "schema %v is not one this version reads: use %q", v, SchemaVersion)
	}
	for _, k := range sortedKeys(doc) {
		v := doc[k]
		switch k {
		case "schema":
		case "site":
			p.Site = c.site(v)
		case "values":
			s.values(c, p, v)
		case "device":
			s.devices(c, p, v)
		case "waiver":
			s.waivers(c, p, v)
		default:
			c.add([]string{k}, "unknown key %q: a plan has schema, [site], [values.FAMILY.\"STEP\"], [[device]] and [[waiver]]", k)
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// credentialKeys are the only keys that may name a password: they say
// where it comes from, never what it is.
var credentialKeys = map[string]bool{"password_file": true, "password_env": true, "password_command": true}

// secretWords mark a key that would hold a secret.
var secretWords = []string{"password", "passwd", "passphrase", "secret", "token", "pwd", "community", "private"}

// secretLike reports whether a key name looks like it holds a secret.
func secretLike(key string) bool {
	if credentialKeys[key] {
		return false
	}
	k := strings.ToLower(key)
	if k == "pass" || k == "key" || k == "psk" {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// findSecrets reports every key anywhere in the document that looks
// like a secret.
func findSecrets(c *checker, path []string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			p := append(append([]string{}, path...), k)
			stepID := len(path) == 2 && path[0] == "values" // a step id names a step, not a value
			if !stepID && secretLike(k) {
				c.add(p, "%q looks like a secret: a plan never holds one; a device's password comes from password_file, password_env or password_command, and new passwords are typed in the wizard", k)
				continue
			}
			findSecrets(c, p, t[k])
		}
	case []map[string]any:
		for i, e := range t {
			findSecrets(c, append(append([]string{}, path...), "#"+strconv.Itoa(i)), e)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *checker) table(path []string, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add(path, "%s must be a table ([%s])", strings.Join(path, "."), strings.Join(path, "."))
	}
	return m, ok
}

func (c *checker) str(path []string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.add(path, "%s must be a string in quotes", path[len(path)-1])
	}
	return s, ok
}

func (c *checker) site(v any) Site {
	var st Site
	m, ok := c.table([]string{"site"}, v)
	if !ok {
		return st
	}
	for _, k := range sortedKeys(m) {
		path := []string{"site", k}
		switch k {
		case "name":
			st.Name, _ = c.str(path, m[k])
		case "company":
			st.Company, _ = c.str(path, m[k])
		case "technicians":
			arr, ok := m[k].([]any)
			if !ok {
				c.add(path, "technicians must be a list of names, such as [\"Ada Lovelace\"]")
				continue
			}
			for _, e := range arr {
				if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
					st.Technicians = append(st.Technicians, s)
				} else {
					c.add(path, "technicians must be a list of names in quotes")
				}
			}
		default:
			c.add(path, "unknown key %q in [site]: use name, company and technicians", k)
		}
	}
	return st
}

func (s Schema) family(name string) (Family, bool) {
	for _, f := range s.Families {
		if f.Name == name {
			return f, true
		}
	}
	return Family{}, false
}

func (s Schema) familyNames() string {
	names := make([]string, len(s.Families))
	for i, f := range s.Families {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// stepOf finds a step by id in any family.
func (s Schema) stepOf(id string) (Family, steps.Meta, bool) {
	for _, f := range s.Families {
		for _, m := range f.Steps {
			if m.ID == id {
				return f, m, true
			}
		}
	}
	return Family{}, steps.Meta{}, false
}

func (s Schema) values(c *checker, p *Plan, v any) {
	fams, ok := c.table([]string{"values"}, v)
	if !ok {
		return
	}
	for _, fname := range sortedKeys(fams) {
		fpath := []string{"values", fname}
		fam, known := s.family(fname)
		if !known {
			c.add(fpath, "unknown device family %q: use one of %s", fname, s.familyNames())
			continue
		}
		stepsT, ok := c.table(fpath, fams[fname])
		if !ok {
			continue
		}
		for _, id := range sortedKeys(stepsT) {
			spath := []string{"values", fname, id}
			var meta steps.Meta
			found := false
			for _, m := range fam.Steps {
				if m.ID == id {
					meta, found = m, true
				}
			}
			if !found {
				if other, _, ok := s.stepOf(id); ok {
					c.add(spath, "step %q belongs to %s, not %s: move it under [values.%s.%q]", id, other.Name, fname, other.Name, id)
				} else {
					c.add(spath, "%s has no step %q: plan init lists every step id", fname, id)
				}
				continue
			}
			inputs, ok := c.table(spath, stepsT[id])
			if !ok {
				continue
			}
			if len(meta.Inputs) == 0 {
				c.add(spath, "step %q asks for no value: remove its table", id)
				continue
			}
			vals := steps.Values{}
			for _, key := range sortedKeys(inputs) {
				ipath := append(append([]string{}, spath...), key)
				var in steps.Input
				known := false
				for _, i := range meta.Inputs {
					if i.Key == key {
						in, known = i, true
					}
				}
				if !known {
					c.add(ipath, "step %q has no input %q: its inputs are %s", id, key, inputKeys(meta))
					continue
				}
				if in.Secret {
					if !secretLike(key) { // already reported by findSecrets otherwise
						c.add(ipath, "%q of step %q is a secret: a plan never holds one; the wizard asks for it", key, id)
					}
					continue
				}
				val, ok := scalar(in, inputs[key])
				if !ok {
					c.add(ipath, "%s must be a string in quotes%s", key, map[bool]string{true: " or a list of lines", false: ""}[in.Multiline])
					continue
				}
				if len(in.Options) > 0 && !contains(in.Options, val) {
					c.add(ipath, "%s: choose one of %s", in.Label, strings.Join(in.Options, ", "))
					continue
				}
				if in.Validate != nil {
					if err := in.Validate(val); err != nil {
						c.add(ipath, "%s (%s): %v", key, in.Label, err)
						continue
					}
				}
				vals[key] = val
			}
			if p.values[fname] == nil {
				p.values[fname] = map[string]steps.Values{}
			}
			p.values[fname][id] = vals
		}
	}
}

func inputKeys(m steps.Meta) string {
	var keys []string
	for _, i := range m.Inputs {
		if !i.Secret {
			keys = append(keys, i.Key)
		}
	}
	if len(keys) == 0 {
		return "secret only (typed in the wizard)"
	}
	return strings.Join(keys, ", ")
}

// scalar turns a TOML value into an input's text: a string, a number or
// a boolean; a list of strings for a multi-line input (one per line).
func scalar(in steps.Input, v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return strings.TrimRight(t, "\n"), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case bool:
		return strconv.FormatBool(t), true
	case []any:
		if !in.Multiline {
			return "", false
		}
		lines := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return "", false
			}
			lines = append(lines, s)
		}
		return strings.Join(lines, "\n"), true
	}
	return "", false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s Schema) devices(c *checker, p *Plan, v any) {
	arr, ok := v.([]map[string]any)
	if !ok {
		c.add([]string{"device"}, "devices are written as [[device]] tables, one per device")
		return
	}
	for i, m := range arr {
		base := []string{"device", "#" + strconv.Itoa(i)}
		d := Device{Line: c.ix.line(base...)}
		for _, k := range sortedKeys(m) {
			path := append(append([]string{}, base...), k)
			if secretLike(k) {
				continue // reported by findSecrets
			}
			switch k {
			case "family":
				d.Family, _ = c.str(path, m[k])
			case "address":
				d.Address, _ = c.str(path, m[k])
			case "user":
				d.User, _ = c.str(path, m[k])
			case "name":
				d.Name, _ = c.str(path, m[k])
			case "fingerprint":
				d.Fingerprint, _ = c.str(path, m[k])
			case "password_file":
				d.Credential.File, _ = c.str(path, m[k])
			case "password_env":
				d.Credential.Env, _ = c.str(path, m[k])
			case "password_command":
				d.Credential.Command, _ = c.str(path, m[k])
			case "ports":
				pm, ok := m[k].(map[string]any)
				if !ok {
					c.add(path, "ports must be a table, such as ports = { https = 8443 }")
					continue
				}
				d.Ports = map[string]int{}
				for _, svc := range sortedKeys(pm) {
					n, ok := pm[svc].(int64)
					if !ok || n < 1 || n > 65535 {
						c.add(path, "port %s must be a number from 1 to 65535", svc)
						continue
					}
					d.Ports[svc] = int(n)
				}
			default:
				c.add(path, "unknown key %q in [[device]]: use family, address, user, name, fingerprint, ports and one of password_file, password_env, password_command", k)
			}
		}
		if msg := s.checkDevice(d); msg != "" {
			c.add(base, "%s", msg)
			continue
		}
		p.Devices = append(p.Devices, d)
	}
}

// checkDevice returns what is wrong with a device, or "".
func (s Schema) checkDevice(d Device) string {
	if d.Family == "" {
		return "the device has no family: use one of " + s.familyNames()
	}
	if _, ok := s.family(d.Family); !ok {
		return fmt.Sprintf("unknown device family %q: use one of %s", d.Family, s.familyNames())
	}
	if d.Address == "" {
		return "the device has no address: give its IP address, optionally with the port (HOST:PORT)"
	}
	if d.User == "" {
		return "the device " + d.Address + " has no user: give the account to log in with"
	}
	if n := d.Credential.count(); n > 1 {
		return "the device " + d.Address + " names more than one password source: keep one of password_file, password_env, password_command"
	}
	if d.Credential.Env != "" && !validEnvName(d.Credential.Env) {
		return fmt.Sprintf("password_env %q is not an environment variable name (letters, digits and _)", d.Credential.Env)
	}
	if s.CheckDevice != nil {
		if err := s.CheckDevice(d); err != nil {
			return err.Error()
		}
	}
	return ""
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func (s Schema) waivers(c *checker, p *Plan, v any) {
	arr, ok := v.([]map[string]any)
	if !ok {
		c.add([]string{"waiver"}, "waivers are written as [[waiver]] tables, one per step")
		return
	}
	today := s.Today
	if today.IsZero() {
		today = time.Now()
	}
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i, m := range arr {
		base := []string{"waiver", "#" + strconv.Itoa(i)}
		w := Waiver{Line: c.ix.line(base...)}
		bad := false
		for _, k := range sortedKeys(m) {
			path := append(append([]string{}, base...), k)
			var ok bool
			switch k {
			case "step":
				w.Step, ok = c.str(path, m[k])
			case "approver":
				w.Approver, ok = c.str(path, m[k])
			case "reason":
				w.Reason, ok = c.str(path, m[k])
			case "expires":
				w.Expires, ok = date(m[k])
				if !ok {
					c.add(path, "expires must be a date, such as expires = 2027-06-30")
				}
			default:
				if !secretLike(k) {
					c.add(path, "unknown key %q in [[waiver]]: use step, approver, reason and expires", k)
				}
				ok = true
			}
			bad = bad || !ok
		}
		if bad {
			continue
		}
		var missing []string
		for _, f := range []struct{ name, v string }{{"step", w.Step}, {"approver", w.Approver}, {"reason", w.Reason}} {
			if strings.TrimSpace(f.v) == "" {
				missing = append(missing, f.name)
			}
		}
		if w.Expires.IsZero() {
			missing = append(missing, "expires")
		}
		switch {
		case len(missing) > 0:
			c.add(base, "the waiver needs %s: who approved it, why, and the last day it holds", strings.Join(missing, ", "))
		case seen[w.Step]:
			c.add(base, "step %q is waived twice: keep one waiver", w.Step)
		default:
			if _, _, ok := s.stepOf(w.Step); !ok {
				c.add(append(base, "step"), "no family has a step %q: plan init lists every step id", w.Step)
			} else if w.Expires.Before(day) {
				c.add(append(base, "expires"), "the waiver of %s expired on %s: ask %s to renew it, or remove it", w.Step, w.ExpiresDate(), w.Approver)
			} else {
				p.Waivers = append(p.Waivers, w)
			}
		}
		seen[w.Step] = true
	}
}

// date reads a TOML local date or a "YYYY-MM-DD" string as a UTC day.
func date(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
			return time.Time{}, false
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	case string:
		d, err := time.Parse(time.DateOnly, t)
		return d, err == nil
	}
	return time.Time{}, false
}

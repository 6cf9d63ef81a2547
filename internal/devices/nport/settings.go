package nport

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/commission-tool/commission/internal/printable"
)

// settingsPage is one settings page of the console: how to read it into
// a State, whether two States differ on it, and how to fill its form.
type settingsPage struct {
	menu     string // the menu link text
	optional bool   // a console may not have this page (the guide does not show it)
	read     func(f *form, st *State) error
	differs  func(a, b State) bool
	set      func(f *form, to State) error
}

// errs collects the first error of a sequence of reads or sets.
type errs struct{ err error }

func (e *errs) add(err error) {
	if e.err == nil && err != nil {
		e.err = err
	}
}

func (e *errs) boolean(f *form, label string, dst *bool) {
	v, err := f.enabled(label)
	e.add(err)
	*dst = v
}

func (e *errs) str(f *form, label string, dst *string) {
	v, err := f.value(label)
	e.add(err)
	*dst = printable.String(v, true)
}

func (e *errs) num(f *form, label string, dst *int) {
	v, err := f.value(label)
	e.add(err)
	if err == nil {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.add(fmt.Errorf("%q is not a number: %q", label, printable.String(v)))
		}
		*dst = n
	}
}

// value reads a row's text field or chosen option text.
func (f *form) value(label string) (string, error) {
	if v, err := f.text(label); err == nil {
		return v, nil
	}
	return f.choice(label)
}

// setValue writes a row's text field or picks the option with that text.
func (f *form) setValue(label, v string) error {
	if err := f.setText(label, v); err == nil {
		return nil
	}
	return f.setChoice(label, v)
}

func basicPage() settingsPage {
	return settingsPage{
		menu: quirks.MenuBasic,
		read: func(f *form, st *State) error {
			var e errs
			e.str(f, quirks.TimeZone, &st.Time.Zone)
			// the 5100/5200 series have no SNTP client: no Time server row
			if st.Time.NoServer = len(f.row(quirks.TimeServer)) == 0; !st.Time.NoServer {
				e.str(f, quirks.TimeServer, &st.Time.Server)
			}
			return e.err
		},
		differs: func(a, b State) bool { return a.Time != b.Time },
		set: func(f *form, to State) error {
			err := f.setValue(quirks.TimeZone, to.Time.Zone)
			if len(f.row(quirks.TimeServer)) == 0 {
				if to.Time.Server != "" {
					return errors.Join(err, errors.New("this model has no Time server setting"))
				}
				return err
			}
			return errors.Join(err, f.setValue(quirks.TimeServer, to.Time.Server))
		},
	}
}

func networkPage() settingsPage {
	return settingsPage{
		menu: quirks.MenuNetwork, optional: true,
		read: func(f *form, st *State) error {
			var e errs
			e.str(f, quirks.IPConfig, &st.Network.Config)
			e.str(f, quirks.IPAddress, &st.Network.IP)
			e.str(f, quirks.Netmask, &st.Network.Netmask)
			e.str(f, quirks.Gateway, &st.Network.Gateway)
			return e.err
		},
		differs: func(a, b State) bool { return a.Network != b.Network },
		set: func(f *form, to State) error {
			n := to.Network
			return errors.Join(f.setValue(quirks.IPConfig, n.Config), f.setValue(quirks.IPAddress, n.IP),
				f.setValue(quirks.Netmask, n.Netmask), f.setValue(quirks.Gateway, n.Gateway))
		},
	}
}

func consolePage() settingsPage {
	// a unit without HTTPS shows no HTTPS rows: they read as off
	optional := func(f *form, label string, dst *bool, e *errs) {
		if len(f.row(label)) == 0 {
			*dst = false
			return
		}
		e.boolean(f, label, dst)
	}
	setOptional := func(f *form, label string, on bool) error {
		if len(f.row(label)) == 0 {
			if on {
				return fmt.Errorf("this unit has no %q setting", label)
			}
			return nil
		}
		return f.setEnabled(label, on)
	}
	return settingsPage{
		menu: quirks.MenuConsole,
		read: func(f *form, st *State) error {
			var e errs
			c := &st.Console
			e.boolean(f, quirks.HTTPConsole, &c.HTTP)
			optional(f, quirks.HTTPSConsole, &c.HTTPS, &e)
			optional(f, quirks.LegacyTLS, &c.LegacyTLS, &e)
			c.NoHTTPS = len(f.row(quirks.HTTPSConsole)) == 0
			e.boolean(f, quirks.TelnetConsole, &c.Telnet)
			e.boolean(f, quirks.SerialConsole, &c.Serial)
			e.boolean(f, quirks.MoxaService, &c.MoxaService)
			return e.err
		},
		differs: func(a, b State) bool { return a.Console != b.Console },
		set: func(f *form, to State) error {
			c := to.Console
			return errors.Join(f.setEnabled(quirks.HTTPConsole, c.HTTP), setOptional(f, quirks.HTTPSConsole, c.HTTPS),
				setOptional(f, quirks.LegacyTLS, c.LegacyTLS), f.setEnabled(quirks.TelnetConsole, c.Telnet),
				f.setEnabled(quirks.SerialConsole, c.Serial), f.setEnabled(quirks.MoxaService, c.MoxaService))
		},
	}
}

// portMode returns the mode of serial port n in st ("" if unknown).
func portMode(st State, n int) string {
	for _, p := range st.Ports {
		if p.Number == n {
			return p.Mode
		}
	}
	return ""
}

func portPage(n int) settingsPage {
	return settingsPage{
		menu: "Port " + strconv.Itoa(n),
		read: func(f *form, st *State) error {
			v, err := f.value(quirks.OperationMode)
			st.Ports = append(st.Ports, SerialPort{Number: n, Mode: printable.String(v)})
			return err
		},
		differs: func(a, b State) bool { return portMode(a, n) != portMode(b, n) },
		set:     func(f *form, to State) error { return f.setValue(quirks.OperationMode, portMode(to, n)) },
	}
}

func snmpPage() settingsPage {
	// one row with a checkbox per version, or a row per version
	box := func(f *form, v string) (*control, bool) {
		if c, ok := f.checkbox(f.row(quirks.SNMPVersion), v); ok {
			return c, true
		}
		return f.checkbox(f.row(quirks.SNMPVersion+" "+v), "")
	}
	versions := func(f *form) (v1, v2, v3 *control, err error) {
		var ok1, ok2, ok3 bool
		v1, ok1 = box(f, quirks.SNMPv1)
		v2, ok2 = box(f, quirks.SNMPv2)
		v3, ok3 = box(f, quirks.SNMPv3)
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, nil, fmt.Errorf("no %q checkboxes", quirks.SNMPVersion)
		}
		return v1, v2, v3, nil
	}
	return settingsPage{
		menu: quirks.MenuSNMP,
		read: func(f *form, st *State) error {
			var e errs
			e.boolean(f, quirks.SNMPEnable, &st.SNMP.Enabled)
			v1, v2, v3, err := versions(f)
			e.add(err)
			if err == nil {
				st.SNMP.V1, st.SNMP.V2, st.SNMP.V3 = v1.Checked, v2.Checked, v3.Checked
			}
			return e.err
		},
		differs: func(a, b State) bool {
			return a.SNMP.Enabled != b.SNMP.Enabled || a.SNMP.V1 != b.SNMP.V1 || a.SNMP.V2 != b.SNMP.V2 || a.SNMP.V3 != b.SNMP.V3
		},
		set: func(f *form, to State) error {
			// community fields are rendered empty; left empty they keep their values
			v1, v2, v3, err := versions(f)
			if err != nil {
				return err
			}
			v1.Checked, v2.Checked, v3.Checked = to.SNMP.V1, to.SNMP.V2, to.SNMP.V3
			return f.setEnabled(quirks.SNMPEnable, to.SNMP.Enabled)
		},
	}
}

func remoteLogPage() settingsPage {
	return settingsPage{
		menu: quirks.MenuRemoteLog,
		read: func(f *form, st *State) error {
			var e errs
			e.str(f, quirks.SyslogServer, &st.RemoteLog.Server)
			e.str(f, quirks.SyslogFacility, &st.RemoteLog.Facility)
			e.str(f, quirks.SyslogSeverity, &st.RemoteLog.Severity)
			return e.err
		},
		differs: func(a, b State) bool { return a.RemoteLog != b.RemoteLog },
		set: func(f *form, to State) error {
			r := to.RemoteLog
			return errors.Join(f.setValue(quirks.SyslogServer, r.Server), f.setValue(quirks.SyslogFacility, r.Facility),
				f.setValue(quirks.SyslogSeverity, r.Severity))
		},
	}
}

func policyPage() settingsPage {
	return settingsPage{
		menu: quirks.MenuPolicy,
		read: func(f *form, st *State) error {
			var e errs
			p := &st.Policy
			e.num(f, quirks.MinLength, &p.MinLength)
			e.boolean(f, quirks.Complexity, &p.Complexity)
			e.boolean(f, quirks.Digit, &p.Digit)
			e.boolean(f, quirks.MixedCase, &p.MixedCase)
			e.boolean(f, quirks.Special, &p.Special)
			e.num(f, quirks.Lifetime, &p.LifetimeDays)
			e.boolean(f, quirks.Lockout, &p.Lockout)
			e.num(f, quirks.Threshold, &p.Threshold)
			e.num(f, quirks.LockoutTime, &p.LockoutMinutes)
			return e.err
		},
		differs: func(a, b State) bool { return a.Policy != b.Policy },
		set: func(f *form, to State) error {
			p := to.Policy
			return errors.Join(
				f.setValue(quirks.MinLength, strconv.Itoa(p.MinLength)),
				f.setEnabled(quirks.Complexity, p.Complexity),
				f.setEnabled(quirks.Digit, p.Digit),
				f.setEnabled(quirks.MixedCase, p.MixedCase),
				f.setEnabled(quirks.Special, p.Special),
				f.setValue(quirks.Lifetime, strconv.Itoa(p.LifetimeDays)),
				f.setEnabled(quirks.Lockout, p.Lockout),
				f.setValue(quirks.Threshold, strconv.Itoa(p.Threshold)),
				f.setValue(quirks.LockoutTime, strconv.Itoa(p.LockoutMinutes)))
		},
	}
}

func noticePage() settingsPage {
	return settingsPage{
		menu: quirks.MenuNotice,
		read: func(f *form, st *State) error {
			var e errs
			e.str(f, quirks.LoginMessage, &st.Notice.LoginMessage)
			e.str(f, quirks.FailureMessage, &st.Notice.FailureMessage)
			return e.err
		},
		differs: func(a, b State) bool { return a.Notice != b.Notice },
		set: func(f *form, to State) error {
			return errors.Join(f.setValue(quirks.LoginMessage, to.Notice.LoginMessage),
				f.setValue(quirks.FailureMessage, to.Notice.FailureMessage))
		},
	}
}

// maxRules is the size of the Accessible IP List.
const maxRules = 16

func accessPage() settingsPage {
	rule := func(f *form, i int) (active *control, ip, mask *control, err error) {
		row := strconv.Itoa(i + 1)
		a, ok1 := f.checkbox(f.cell(row, quirks.RuleActive), "")
		p, ok2 := first(f.cell(row, quirks.RuleIP), textTypes...)
		m, ok3 := first(f.cell(row, quirks.RuleNetmask), textTypes...)
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, nil, fmt.Errorf("rule %d of the list not found", i+1)
		}
		return a, p, m, nil
	}
	return settingsPage{
		menu: quirks.MenuAccessIP,
		read: func(f *form, st *State) error {
			var e errs
			if c, ok := aclSwitch(f); ok {
				st.AccessList.Enabled = c.Checked
			} else {
				e.boolean(f, quirks.AccessEnable, &st.AccessList.Enabled)
			}
			st.AccessList.Rules = nil
			for i := range maxRules {
				a, p, m, err := rule(f, i)
				if err != nil {
					if i == 0 {
						e.add(err)
					}
					break
				}
				r := AccessRule{Active: a.Checked}
				r.IP, _ = netip.ParseAddr(p.Value)
				r.Netmask, _ = netip.ParseAddr(m.Value)
				if r.Active || r.IP.IsValid() {
					st.AccessList.Rules = append(st.AccessList.Rules, r)
				}
			}
			return e.err
		},
		differs: func(a, b State) bool {
			return a.AccessList.Enabled != b.AccessList.Enabled || !slices.Equal(a.AccessList.Rules, b.AccessList.Rules)
		},
		set: func(f *form, to State) error {
			if len(to.AccessList.Rules) > maxRules {
				return fmt.Errorf("the list holds at most %d rules", maxRules)
			}
			for i := range maxRules {
				a, p, m, err := rule(f, i)
				if err != nil {
					return err
				}
				if i < len(to.AccessList.Rules) {
					r := to.AccessList.Rules[i]
					a.Checked, p.Value, m.Value = r.Active, addrText(r.IP), addrText(r.Netmask)
				} else {
					a.Checked, p.Value, m.Value = false, "", ""
				}
			}
			if c, ok := aclSwitch(f); ok {
				c.Checked = to.AccessList.Enabled
				return nil
			}
			return f.setEnabled(quirks.AccessEnable, to.AccessList.Enabled)
		},
	}
}

// aclSwitch is the list's one Enable checkbox: labelled "Enable", else the
// only checkbox of the page that is not in a rule's row.
func aclSwitch(f *form) (*control, bool) {
	if c, ok := f.checkbox(f.row(quirks.AccessEnable), ""); ok {
		return c, true
	}
	var out []*control
	for _, c := range f.Controls {
		if c.Type == "checkbox" && !sameText(c.Col, quirks.RuleActive) && !sameText(c.Row, quirks.RuleActive) {
			out = append(out, c)
		}
	}
	if len(out) == 1 {
		return out[0], true
	}
	return nil, false
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func logSettingsPage() settingsPage {
	boxes := func(f *form, g string) (local, remote *control, err error) {
		l, ok1 := f.checkbox(f.cell(g, quirks.LocalLog), "")
		r, ok2 := f.checkbox(f.cell(g, quirks.RemoteLogCol), "")
		if !ok1 || !ok2 {
			return nil, nil, fmt.Errorf("no log checkboxes for %q", g)
		}
		return l, r, nil
	}
	return settingsPage{
		menu: quirks.MenuLogSettings,
		read: func(f *form, st *State) error {
			st.LogEvents = map[string]LogTarget{}
			for _, g := range quirks.LogGroups {
				l, r, err := boxes(f, g)
				if err != nil {
					return err
				}
				st.LogEvents[g] = LogTarget{Local: l.Checked, Remote: r.Checked}
			}
			return nil
		},
		differs: func(a, b State) bool {
			for _, g := range quirks.LogGroups {
				if a.LogEvents[g] != b.LogEvents[g] {
					return true
				}
			}
			return false
		},
		set: func(f *form, to State) error {
			for _, g := range quirks.LogGroups {
				l, r, err := boxes(f, g)
				if err != nil {
					return err
				}
				l.Checked, r.Checked = to.LogEvents[g].Local, to.LogEvents[g].Remote
			}
			return nil
		},
	}
}

// settingsPages lists the settings pages for a device with n serial ports,
// in menu order.
func settingsPages(n int) []settingsPage {
	out := []settingsPage{basicPage(), networkPage(), consolePage()}
	for i := 1; i <= n; i++ {
		out = append(out, portPage(i))
	}
	return append(out, snmpPage(), remoteLogPage(), policyPage(), noticePage(), accessPage(), logSettingsPage())
}

// settingsForm returns the form of a settings page: the one with the
// Submit button, else the only form that has any submit button.
func settingsForm(p *page, name string) (*form, error) {
	if f, ok := p.formWithSubmit(quirks.Submit); ok {
		return f, nil
	}
	var cand []*form
	for _, f := range p.Forms {
		if _, ok := first(f.Controls, "submit", "image"); ok {
			cand = append(cand, f)
		}
	}
	if len(cand) == 1 {
		return cand[0], nil
	}
	return nil, fmt.Errorf("%s: no form with a %q button: the page is not the one this tool knows (nothing was changed)", name, quirks.Submit)
}

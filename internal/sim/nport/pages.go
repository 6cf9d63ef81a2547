package nport

import (
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// page is one settings page: it renders the saved settings as form rows
// and applies a submitted form to a copy of them.
type page struct {
	path, title string
	setfunc     string // the hidden setfunc value that names the page on submit
	// render writes the page's tables for settings s.
	render func(d *Device, b *strings.Builder, s Settings, q url.Values)
	// apply changes s from form f; it returns a message when f is invalid.
	apply func(d *Device, s *Settings, f url.Values, q url.Values) string
}

var pages = []page{
	{"/basic.htm", "Basic Settings", "Basic", renderBasic, applyBasic},
	{"/network.htm", "Network Settings", "Network", renderNetwork, applyNetwork},
	{"/console.htm", "Console Settings", "Console", renderConsole, applyConsole},
	{"/opmode.htm", "Operation Modes", "OPMode", renderOpMode, applyOpMode},
	{"/snmp.htm", "SNMP Agent", "SNMP", renderSNMP, applySNMP},
	{"/logserver.htm", "Remote Log Server", "SysLog", renderLogServer, applyLogServer},
	{"/policy.htm", "Account Password and Login Management", "PwPolicy", renderPolicy, applyPolicy},
	{"/notice.htm", "Notification Message", "Notice", renderNotice, applyNotice},
	{"/accessip.htm", "Accessible IP List", "AccessIP", renderAccessIP, applyAccessIP},
	{"/logsettings.htm", "System Log Settings", "LogSetting", renderLogSettings, applyLogSettings},
}

func pageByPath(p string) (page, bool) {
	for _, pg := range pages {
		if strings.EqualFold(pg.path, p) {
			return pg, true
		}
	}
	return page{}, false
}

func pageBySetfunc(f string) (page, bool) {
	for _, pg := range pages {
		if pg.setfunc == f {
			return pg, true
		}
	}
	return page{}, false
}

// tokenName is the anti-CSRF field of the generation's forms.
func (d *Device) tokenName() string {
	if d.cfg.Generation == GenSec {
		return "csrf_token"
	}
	return "token_text"
}

// settingsPage shows a page, or applies a submit to the saved settings.
// Forms are sent by GET (nport-web-evidence.md section 3): GA posts every
// page to /Set.htm with a setfunc naming it, G-sec to the page itself; a
// request that carries setfunc is a submit, whatever its method.
func (d *Device) settingsPage(w http.ResponseWriter, r *http.Request, p page, user, token string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := r.Form
	if p.path == "/opmode.htm" {
		if n, err := strconv.Atoi(q.Get("Port")); err != nil || n < 1 || n > d.cfg.SerialPorts {
			http.NotFound(w, r)
			return
		}
	}
	ok, errMsg := "", ""
	if q.Get("setfunc") != "" {
		if d.dropSubmit(w) {
			return
		}
		errMsg = d.checkSubmit(r, user, token)
		if errMsg == "" {
			d.mu.Lock()
			s := d.saved.clone()
			errMsg = p.apply(d, &s, q, q)
			if errMsg == "" {
				d.saved = s
				d.logLocked("Config", printableName(user)+": Config Changed")
				ok = p.title + " Settings OK!"
			}
			d.mu.Unlock()
		}
		if ok != "" && !d.saveState(w) {
			return
		}
	}
	d.mu.Lock()
	s := d.saved.clone()
	d.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><title>%s</title></head><body><h2>%s</h2>\n", p.title, p.title)
	if errMsg != "" {
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", html.EscapeString(errMsg))
	}
	if ok != "" {
		fmt.Fprintf(&b, "<div class=\"ok\">%s</div>\n", ok)
	}
	action := "/Set.htm"
	if d.cfg.Generation == GenSec {
		action = p.path
	}
	fmt.Fprintf(&b, "<form name=\"%s\" method=\"get\" action=\"%s\">\n<input type=\"hidden\" name=\"%s\" value=\"%s\">\n",
		strings.ToLower(p.setfunc), action, d.tokenName(), token)
	if p.path == "/opmode.htm" {
		fmt.Fprintf(&b, "<input type=\"hidden\" name=\"Port\" value=\"%s\">\n", html.EscapeString(q.Get("Port")))
	}
	p.render(d, &b, s, q)
	fmt.Fprintf(&b, "<input type=\"hidden\" name=\"setfunc\" value=\"%s\">\n<input type=\"submit\" name=\"Submit\" value=\"Submit\">\n</form></body></html>\n", p.setfunc)
	fmt.Fprint(w, b.String())
}

// HTML helpers.

func row(b *strings.Builder, label, controls string) {
	fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td></tr>\n", label, controls)
}

func radios(name string, on bool, onText, offText string) string {
	c1, c0 := "", ""
	if on {
		c1 = " checked"
	} else {
		c0 = " checked"
	}
	one := fmt.Sprintf(`<input type="radio" name="%s" value="1" id="%s_1"%s><label for="%s_1">%s</label>`, name, name, c1, name, onText)
	zero := fmt.Sprintf(`<input type="radio" name="%s" value="0" id="%s_0"%s><label for="%s_0">%s</label>`, name, name, c0, name, offText)
	if onText == "Yes" { // No/Yes groups list No first
		return zero + " " + one
	}
	return one + " " + zero
}

func enable(name string, on bool) string { return radios(name, on, "Enable", "Disable") }

func selectBox(name string, options []string, cur string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<select name="%s">`, name)
	for i, o := range options {
		sel := ""
		if o == cur {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%d"%s>%s</option>`, i, sel, html.EscapeString(o))
	}
	b.WriteString("</select>")
	return b.String()
}

// textBox is a text field: static markup on GA; on G-sec the page script
// writes it (inputText(name, size, value)), as the firmware does.
func (d *Device) textBox(name, value string) string {
	if d.cfg.Generation == GenSec {
		return fmt.Sprintf(`<script type="text/javascript">inputText("%s", 40, "%s");</script>`, name, jsEscape(value))
	}
	return fmt.Sprintf(`<input type="text" name="%s" value="%s" maxlength="40">`, name, html.EscapeString(value))
}

// jsEscape makes s safe inside a double-quoted script string.
func jsEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\'' || r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r > 0x7e:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func checkBox(name string, on bool) string {
	c := ""
	if on {
		c = " checked"
	}
	return fmt.Sprintf(`<input type="checkbox" name="%s" value="1"%s>`, name, c)
}

// Form parsing helpers. A missing radio, select or text keeps the old
// value; a missing checkbox means unchecked.

func formBool(f url.Values, name string, cur *bool) string {
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return ""
	}
	switch v[0] {
	case "1":
		*cur = true
	case "0":
		*cur = false
	default:
		return "Invalid value for " + name
	}
	return ""
}

func formSelect(f url.Values, name string, options []string, cur *string, label string) string {
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return ""
	}
	i, err := strconv.Atoi(v[0])
	if err != nil || i < 0 || i >= len(options) {
		return "Invalid " + label
	}
	*cur = options[i]
	return ""
}

func formInt(f url.Values, name string, cur *int, lo, hi int, label string) string {
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return ""
	}
	i, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || i < lo || i > hi {
		return fmt.Sprintf("%s must be a number from %d to %d", label, lo, hi)
	}
	*cur = i
	return ""
}

func formText(f url.Values, name string, cur *string, max int, label string) string {
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return ""
	}
	t := strings.TrimSpace(v[0])
	if len(t) > max {
		return fmt.Sprintf("%s must be at most %d characters", label, max)
	}
	for _, r := range t {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return label + " contains control characters"
		}
	}
	*cur = t
	return ""
}

func checked(f url.Values, name string) bool { return f.Get(name) != "" }

func firstErr(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

func validIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// Pages.

func renderBasic(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	b.WriteString("<table>\n")
	row(b, "Server name", d.textBox("srvname", s.ServerName))
	row(b, "Time zone", selectBox("tz", timeZones, s.TimeZone))
	if d.hasSNTP() {
		row(b, "Time server", d.textBox("tsrv", s.TimeServer))
	}
	b.WriteString("</table>\n")
}

func applyBasic(_ *Device, s *Settings, f, _ url.Values) string {
	if m := firstErr(formText(f, "srvname", &s.ServerName, 39, "Server name"),
		formSelect(f, "tz", timeZones, &s.TimeZone, "time zone"),
		formText(f, "tsrv", &s.TimeServer, 39, "Time server")); m != "" {
		return m
	}
	if strings.ContainsAny(s.TimeServer, " \r\n\t") {
		return "Invalid time server"
	}
	return ""
}

func renderNetwork(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	b.WriteString("<table>\n")
	row(b, "IP configuration", selectBox("ipcfg", ipConfigs, s.Network.Config))
	row(b, "IP address", d.textBox("ipaddr", s.Network.IP))
	row(b, "Netmask", d.textBox("nmask", s.Network.Netmask))
	row(b, "Gateway", d.textBox("gw", s.Network.Gateway))
	b.WriteString("</table>\n")
}

func applyNetwork(_ *Device, s *Settings, f, _ url.Values) string {
	n := &s.Network
	if m := firstErr(formSelect(f, "ipcfg", ipConfigs, &n.Config, "IP configuration"),
		formText(f, "ipaddr", &n.IP, 15, "IP address"),
		formText(f, "nmask", &n.Netmask, 15, "Netmask"),
		formText(f, "gw", &n.Gateway, 15, "Gateway")); m != "" {
		return m
	}
	if !validIPv4(n.IP) {
		return "Invalid IP address"
	}
	if a, err := netip.ParseAddr(n.Netmask); err != nil || !validMask(a) {
		return "Invalid netmask"
	}
	if n.Gateway != "" && !validIPv4(n.Gateway) {
		return "Invalid gateway"
	}
	return ""
}

func renderConsole(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	c := s.Console
	b.WriteString("<table>\n")
	row(b, "HTTP console", enable("c_http", c.HTTP))
	row(b, "HTTPS console (support TLS v1.2)", enable("c_https", c.HTTPS))
	row(b, "TLS v1.0/v1.1 for HTTPS console", enable("c_tls10", c.LegacyTLS))
	row(b, "Telnet console", enable("c_telnet", c.Telnet))
	row(b, "Serial console", enable("c_serial", c.Serial))
	row(b, "Moxa Service", enable("c_moxa", c.MoxaService))
	row(b, "Maximum Login Users For HTTP+HTTPS", d.textBox("c_maxusers", strconv.Itoa(c.MaxLoginUsers)))
	row(b, "Auto Logout Setting (min)", d.textBox("c_autologout", strconv.Itoa(c.AutoLogoutMin)))
	row(b, "Reset button protect", radios("c_resetprot", c.ResetProtect, "Yes", "No"))
	b.WriteString("</table>\n")
}

func applyConsole(_ *Device, s *Settings, f, _ url.Values) string {
	c := &s.Console
	if m := firstErr(formBool(f, "c_http", &c.HTTP), formBool(f, "c_https", &c.HTTPS),
		formBool(f, "c_tls10", &c.LegacyTLS), formBool(f, "c_telnet", &c.Telnet),
		formBool(f, "c_serial", &c.Serial), formBool(f, "c_moxa", &c.MoxaService),
		formInt(f, "c_maxusers", &c.MaxLoginUsers, 1, 6, "Maximum Login Users For HTTP+HTTPS"),
		formInt(f, "c_autologout", &c.AutoLogoutMin, 1, 1440, "Auto Logout Setting (min)"),
		formBool(f, "c_resetprot", &c.ResetProtect)); m != "" {
		return m
	}
	if !c.HTTP && !c.HTTPS && !c.Telnet && !c.Serial {
		return "At least one console must stay enabled"
	}
	return ""
}

func renderOpMode(d *Device, b *strings.Builder, s Settings, q url.Values) {
	n, _ := strconv.Atoi(q.Get("Port"))
	fmt.Fprintf(b, "<h3>Port %d</h3>\n<table>\n", n)
	row(b, "Operation mode", selectBox("opmode", opModes, s.PortModes[n-1]))
	b.WriteString("</table>\n")
}

func applyOpMode(_ *Device, s *Settings, f, q url.Values) string {
	n, _ := strconv.Atoi(q.Get("Port"))
	return formSelect(f, "opmode", opModes, &s.PortModes[n-1], "operation mode")
}

func renderSNMP(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	c := s.SNMP
	b.WriteString("<table>\n")
	row(b, "SNMP", enable("snmp_en", c.Enabled))
	row(b, "Read community string", `<input type="password" name="rcomm" value="" maxlength="31">`)
	row(b, "Write community string", `<input type="password" name="wcomm" value="" maxlength="31">`)
	row(b, "Contact name", d.textBox("s_contact", c.Contact))
	row(b, "Location", d.textBox("s_location", c.Location))
	row(b, "SNMP agent version",
		checkBox("snmp_v1", c.V1)+"<label>v1</label> "+checkBox("snmp_v2", c.V2)+"<label>v2</label> "+checkBox("snmp_v3", c.V3)+"<label>v3</label>")
	b.WriteString("</table>\n")
}

func applySNMP(_ *Device, s *Settings, f, _ url.Values) string {
	c := &s.SNMP
	if m := firstErr(formBool(f, "snmp_en", &c.Enabled),
		formText(f, "s_contact", &c.Contact, 39, "Contact name"),
		formText(f, "s_location", &c.Location, 39, "Location")); m != "" {
		return m
	}
	for _, p := range []struct {
		name, label string
		dst         *string
	}{{"rcomm", "Read community string", &c.ReadCommunity}, {"wcomm", "Write community string", &c.WriteCommunity}} {
		v := f.Get(p.name)
		if v == "" {
			continue // empty keeps the old value
		}
		if len(v) > 31 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return p.label + " must be 1 to 31 printable characters"
		}
		*p.dst = v
	}
	c.V1, c.V2, c.V3 = checked(f, "snmp_v1"), checked(f, "snmp_v2"), checked(f, "snmp_v3")
	if c.Enabled && !c.V1 && !c.V2 && !c.V3 {
		return "Select at least one SNMP agent version"
	}
	return ""
}

func renderLogServer(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	b.WriteString("<table>\n")
	row(b, "SYSLOG server", d.textBox("log_srv", s.Syslog.Server))
	row(b, "SYSLOG facility", selectBox("log_fac", facilities, s.Syslog.Facility))
	row(b, "SYSLOG severity", selectBox("log_sev", severities, s.Syslog.Severity))
	b.WriteString("</table>\n")
}

func applyLogServer(_ *Device, s *Settings, f, _ url.Values) string {
	if m := firstErr(formText(f, "log_srv", &s.Syslog.Server, 39, "SYSLOG server"),
		formSelect(f, "log_fac", facilities, &s.Syslog.Facility, "SYSLOG facility"),
		formSelect(f, "log_sev", severities, &s.Syslog.Severity, "SYSLOG severity")); m != "" {
		return m
	}
	if s.Syslog.Server != "" && !validIPv4(s.Syslog.Server) {
		return "Invalid SYSLOG server address"
	}
	return ""
}

func renderPolicy(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	p := s.Policy
	b.WriteString("<h3>Account Password Policy</h3>\n<table>\n")
	row(b, "Password minimum length", d.textBox("pw_minlen", strconv.Itoa(p.MinLength)))
	row(b, "Password complexity strength check", enable("pw_cplx", p.Complexity))
	row(b, "At least one digit (0~9)", enable("pw_digit", p.Digit))
	row(b, "Mixed upper and lower case letters (A~Z, a~z)", enable("pw_mixed", p.Mixed))
	row(b, "At least one special character", enable("pw_special", p.Special))
	row(b, "Password lifetime", d.textBox("pw_life", strconv.Itoa(p.LifetimeDays)))
	b.WriteString("</table>\n<h3>Account Login Failure Lockout</h3>\n<table>\n")
	row(b, "Account login failure lockout", enable("lk_en", p.Lockout))
	row(b, "Retry failure threshold", d.textBox("lk_thr", strconv.Itoa(p.Threshold)))
	row(b, "Lockout Time", d.textBox("lk_time", strconv.Itoa(p.LockoutMinutes)))
	b.WriteString("</table>\n")
}

func applyPolicy(_ *Device, s *Settings, f, _ url.Values) string {
	p := &s.Policy
	return firstErr(formInt(f, "pw_minlen", &p.MinLength, 4, 16, "Password minimum length"),
		formBool(f, "pw_cplx", &p.Complexity), formBool(f, "pw_digit", &p.Digit),
		formBool(f, "pw_mixed", &p.Mixed), formBool(f, "pw_special", &p.Special),
		formInt(f, "pw_life", &p.LifetimeDays, 0, 180, "Password lifetime"),
		formBool(f, "lk_en", &p.Lockout),
		formInt(f, "lk_thr", &p.Threshold, 1, 10, "Retry failure threshold"),
		formInt(f, "lk_time", &p.LockoutMinutes, 1, 60, "Lockout Time"))
}

func renderNotice(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	b.WriteString("<table>\n")
	row(b, "Login Message", fmt.Sprintf(`<textarea name="msg_login" rows="4" cols="60">%s</textarea>`, html.EscapeString(s.LoginMessage)))
	row(b, "Login Authentication Failure Message", fmt.Sprintf(`<textarea name="msg_fail" rows="4" cols="60">%s</textarea>`, html.EscapeString(s.FailureMessage)))
	b.WriteString("</table>\n")
}

func applyNotice(_ *Device, s *Settings, f, _ url.Values) string {
	return firstErr(formText(f, "msg_login", &s.LoginMessage, 240, "Login Message"),
		formText(f, "msg_fail", &s.FailureMessage, 240, "Login Authentication Failure Message"))
}

func renderAccessIP(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	b.WriteString("<table>\n")
	row(b, "Enable", checkBox("acl_en", s.AccessList.Enabled))
	b.WriteString("</table>\n<table>\n<tr><th>No</th><th>Activate the rule</th><th>IP Address</th><th>Netmask</th></tr>\n")
	for i, r := range s.AccessList.Rules {
		ip, mask := "", ""
		if r.IP.IsValid() {
			ip = r.IP.String()
		}
		if r.Netmask.IsValid() {
			mask = r.Netmask.String()
		}
		n := strconv.Itoa(i + 1)
		fmt.Fprintf(b, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", i+1,
			checkBox("acl_act_"+n, r.Active), d.textBox("acl_ip_"+n, ip), d.textBox("acl_mask_"+n, mask))
	}
	b.WriteString("</table>\n")
}

func applyAccessIP(_ *Device, s *Settings, f, _ url.Values) string {
	l := AccessList{Enabled: checked(f, "acl_en")}
	for i := range l.Rules {
		n := strconv.Itoa(i + 1)
		act := checked(f, "acl_act_"+n)
		ipS, maskS := strings.TrimSpace(f.Get("acl_ip_"+n)), strings.TrimSpace(f.Get("acl_mask_"+n))
		if !act && ipS == "" && maskS == "" {
			continue
		}
		ip, err := netip.ParseAddr(ipS)
		if err != nil || !ip.Is4() {
			return "Invalid IP address in rule " + n
		}
		mask, err := netip.ParseAddr(maskS)
		if err != nil || !validMask(mask) {
			return "Invalid netmask in rule " + n
		}
		l.Rules[i] = AccessRule{Active: act, IP: ip, Netmask: mask}
	}
	s.AccessList = l
	return ""
}

func renderLogSettings(d *Device, b *strings.Builder, s Settings, _ url.Values) {
	summary := map[string]string{
		"System":  "System Cold Start, System Warm Start",
		"Network": "DHCP/BOOTP Get IP/Renew, NTP, Mail Fail, NTP Connect Fail, IP Conflict, Network Link Down",
		"Config":  "Login Fail, IP Changed, Password Changed, Config Changed, Firmware Upgrade, SSL Certificate Import, Config Import, Config Export",
		"OpMode":  "Connect, Disconnect",
	}
	b.WriteString("<table>\n<tr><th>Event Group</th><th>Local Log</th><th>Remote Log</th><th>Summary</th></tr>\n")
	for _, g := range LogGroups {
		t := s.Logs[g]
		fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", g,
			checkBox("lg_local_"+strings.ToLower(g), t.Local), checkBox("lg_remote_"+strings.ToLower(g), t.Remote), summary[g])
	}
	b.WriteString("</table>\n")
}

func applyLogSettings(_ *Device, s *Settings, f, _ url.Values) string {
	for _, g := range LogGroups {
		s.Logs[g] = LogTarget{Local: checked(f, "lg_local_"+strings.ToLower(g)), Remote: checked(f, "lg_remote_"+strings.ToLower(g))}
	}
	return ""
}

// hasSNTP is false on the 5100, 5100A, 5200 and 5200A series, which have
// no SNTP client (the guide's port table): their page has no Time server row.
func (d *Device) hasSNTP() bool {
	m := strings.TrimPrefix(strings.TrimPrefix(d.cfg.Model, "NPort "), "P")
	return !strings.HasPrefix(m, "51") && !strings.HasPrefix(m, "52")
}

package second

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type kind int

const (
	kRadio kind = iota
	kCheck
	kText   // written by inputText("name", size, "value")
	kTextEx // written by inputTextEx("name", size, "value", maxlength)
	kSelect
	kSecret // a static password input; empty keeps the stored value
)

type opt struct{ wire, canon string }

// control is one labelled input. Its label follows the guide; its name and
// its settings key are this console's own.
type control struct {
	kind    kind
	label   string
	name    string
	key     string
	def     string // factory value (canonical)
	opts    []opt  // radio and select: wire value and canonical value (= shown text)
	size    int
	max     int  // maximum length of a text
	numeric bool // a number in lo..hi
	lo, hi  int
	ip      bool // an IPv4 address, or empty
	note    string
}

// page is one settings page with one GET form.
type page struct {
	path    string // URL path, plus "?sp=N" for a port page
	title   string
	setfunc string
	hidden  [][2]string
	layout  string // "rows" (label, control) or "acl" or "events"
	ctrls   []control
}

var enDis = []opt{{"1", "enable"}, {"0", "disable"}}

const aclRows = 16

func radioEnable(label, name, key, def string) control {
	return control{kind: kRadio, label: label, name: name, key: key, def: def, opts: enDis}
}

func number(label, name, key, def string, size, lo, hi int, note string) control {
	return control{kind: kText, label: label, name: name, key: key, def: def, size: size, max: size, numeric: true, lo: lo, hi: hi, note: note}
}

var opModes = []opt{
	{"rc", "Real COM"}, {"rfc", "RFC2217"}, {"tcps", "TCP Server"}, {"udpm", "UDP"},
	{"pcm", "Pair Connection Master"}, {"pcs", "Pair Connection Slave"},
	{"emod", "Ethernet Modem"}, {"rtel", "Reverse Telnet"}, {"off", "Disable"},
}

func levelOpts() []opt { return []opt{{"rw", "Read Write"}, {"ro", "Read Only"}} }

// buildPages lays out every settings page of a console made from cfg.
func buildPages(cfg Config) []*page {
	var con []control
	con = append(con, radioEnable("HTTP console", "c_web", "http", "enable"))
	if cfg.HTTPS {
		con = append(con,
			radioEnable("HTTPS console (support TLS v1.2)", "c_ssl", "https", "enable"),
			radioEnable("TLS v1.0/v1.1 for HTTPS console", "c_tls1", "tls10", "disable"))
	}
	if cfg.Fault != FaultMissingControl {
		con = append(con, radioEnable("Telnet console", "c_tn", "telnet", "enable"))
	}
	con = append(con,
		radioEnable("Serial console", "c_con", "serial_console", "enable"),
		radioEnable("Moxa Service", "c_dsci", "moxa_service", "enable"),
		number("Maximum Login Users For HTTP+HTTPS", "c_maxu", "max_users", "6", 1, 1, 6, "(1~6)"),
		number("Auto Logout Setting (min)", "c_idle", "auto_logout", "5", 4, 1, 1440, "(1~1440)"),
		control{kind: kRadio, label: "Reset button protect", name: "c_rbp", key: "reset_protect", def: "No", opts: []opt{{"0", "No"}, {"1", "Yes"}}},
	)
	timeCtrls := []control{{kind: kSelect, label: "Time zone", name: "t_zone", key: "timezone", def: "(GMT)Greenwich Mean Time",
		opts: []opt{{"0", "(GMT)Greenwich Mean Time"}, {"1", "(GMT+01:00)Amsterdam, Berlin, Rome"}, {"2", "(GMT-05:00)Eastern Time (US & Canada)"}, {"3", "(GMT+08:00)Taipei"}}}}
	if hasTimeServer(cfg.Model) {
		timeCtrls = append(timeCtrls, control{kind: kText, label: "Time server", name: "t_sntp", key: "time_server", size: 40, max: 39})
	}
	auth := []opt{{"0", "Disable"}, {"1", "MD5"}, {"2", "SHA"}}
	priv := []opt{{"0", "Disable"}, {"1", "DES"}, {"2", "AES"}}
	snmp := []control{
		radioEnable("SNMP", "ag_on", "snmp", "enable"),
		{kind: kTextEx, label: "Read community string", name: "ag_rcom", key: "snmp_read_community", def: "public", size: 20, max: 31, note: "(max: 31 characters)"},
		{kind: kTextEx, label: "Write community string", name: "ag_wcom", key: "snmp_write_community", def: "private", size: 20, max: 31, note: "(max: 31 characters)"},
		{kind: kText, label: "Contact name", name: "ag_who", key: "snmp_contact", size: 30, max: 39},
		{kind: kText, label: "Location", name: "ag_where", key: "snmp_location", size: 30, max: 39},
		{kind: kCheck, label: "SNMP agent version v1", name: "ag_v1", key: "snmp_v1", def: "on"},
		{kind: kCheck, label: "SNMP agent version v2", name: "ag_v2", key: "snmp_v2", def: "on"},
		{kind: kCheck, label: "SNMP agent version v3", name: "ag_v3", key: "snmp_v3", def: "on"},
		{kind: kText, label: "Read only user name", name: "ag_rou", key: "snmp_ro_user", size: 20, max: 31},
		{kind: kSelect, label: "Read only authentication mode", name: "ag_roa", key: "snmp_ro_auth", def: "Disable", opts: auth},
		{kind: kSecret, label: "Read only password", name: "ag_rop", key: "secret.snmp_ro_password", max: 31},
		{kind: kSelect, label: "Read only privacy mode", name: "ag_rox", key: "snmp_ro_priv", def: "Disable", opts: priv},
		{kind: kSecret, label: "Read only privacy", name: "ag_rok", key: "secret.snmp_ro_privacy", max: 31},
		{kind: kText, label: "Read/write user name", name: "ag_rwu", key: "snmp_rw_user", size: 20, max: 31},
		{kind: kSelect, label: "Read/write authentication mode", name: "ag_rwa", key: "snmp_rw_auth", def: "Disable", opts: auth},
		{kind: kSecret, label: "Read/write password", name: "ag_rwp", key: "secret.snmp_rw_password", max: 31},
		{kind: kSelect, label: "Read/write privacy mode", name: "ag_rwx", key: "snmp_rw_priv", def: "Disable", opts: priv},
		{kind: kSecret, label: "Read/write privacy", name: "ag_rwk", key: "secret.snmp_rw_privacy", max: 31},
	}
	policy := []control{
		number("Password minimum length", "pp_len", "pw_min_len", "4", 2, 4, 16, "(4 - 16)"),
		radioEnable("Password complexity strength check", "pp_cx", "pw_complexity", "disable"),
		{kind: kCheck, label: "At least one digit (0~9)", name: "pp_dig", key: "pw_digit", def: "off"},
		{kind: kCheck, label: "Mixed upper and lower case letters (A~Z, a~z)", name: "pp_case", key: "pw_mixed", def: "off"},
		{kind: kCheck, label: "At least one special character", name: "pp_sym", key: "pw_special", def: "off"},
		number("Password lifetime", "pp_life", "pw_lifetime", "90", 3, 0, 180, "( 0 - 180 day; 0 for Disable )"),
		radioEnable("Account login failure lockout", "pp_lock", "lockout", "disable"),
		number("Retry failure threshold", "pp_try", "lockout_threshold", "5", 2, 1, 10, "(1 - 10)"),
		number("Lockout Time", "pp_wait", "lockout_minutes", "5", 2, 1, 60, "(1-60 min)"),
	}
	notice := []control{
		{kind: kTextEx, label: "Login Message", name: "nm_login", key: "login_message", size: 60, max: 240, note: "(Maximum 240 characters)"},
		{kind: kTextEx, label: "Login Authentication Failure Message", name: "nm_fail", key: "login_fail_message", def: "Please contact administration if you have forgotten your password.", size: 60, max: 240, note: "(Maximum 240 characters)"},
	}
	acl := []control{{kind: kCheck, label: "Enable the accessible IP list", name: "acl_on", key: "acl", def: "off"}}
	for i := 1; i <= aclRows; i++ {
		n := strconv.Itoa(i)
		acl = append(acl,
			control{kind: kCheck, label: "Activate the rule", name: "r" + n + "_on", key: "acl." + n + ".active", def: "off"},
			control{kind: kText, label: "IP Address", name: "r" + n + "_ip", key: "acl." + n + ".ip", size: 15, max: 15, ip: true},
			control{kind: kText, label: "Netmask", name: "r" + n + "_nm", key: "acl." + n + ".mask", size: 15, max: 15, ip: true})
	}
	var events []control
	for _, g := range []struct{ short, name string }{{"sys", "System"}, {"net", "Network"}, {"cfg", "Config"}, {"op", "OpMode"}} {
		k := "log." + strings.ToLower(g.name) + "."
		events = append(events,
			control{kind: kCheck, label: g.name + " Local Log", name: "ev_" + g.short + "_l", key: k + "local", def: "on"},
			control{kind: kCheck, label: g.name + " Remote Log", name: "ev_" + g.short + "_r", key: k + "remote", def: "off"})
	}
	var facilities, severities []opt
	for i := 0; i < 8; i++ {
		facilities = append(facilities, opt{strconv.Itoa(16 + i), "local use " + strconv.Itoa(i)})
	}
	for i, s := range []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"} {
		severities = append(severities, opt{strconv.Itoa(i), s})
	}
	remote := []control{
		{kind: kText, label: "SYSLOG server", name: "rl_host", key: "syslog_server", size: 40, max: 39, ip: true},
		{kind: kSelect, label: "SYSLOG facility", name: "rl_fac", key: "syslog_facility", def: "local use 0", opts: facilities},
		{kind: kSelect, label: "SYSLOG severity", name: "rl_sev", key: "syslog_severity", def: "Emergency", opts: severities},
	}
	pages := []*page{
		{path: "/cfg_console.htm", title: "Console Settings", setfunc: "consoleCfg", layout: "rows", ctrls: con},
		{path: "/cfg_time.htm", title: "Time Settings", setfunc: "timeCfg", layout: "rows", ctrls: timeCtrls},
		{path: "/adm_snmp.htm", title: "SNMP Agent", setfunc: "snmpCfg", layout: "rows", ctrls: snmp},
		{path: "/adm_pwpolicy.htm", title: "Account Password and Login Management", setfunc: "pwPolicyCfg", layout: "rows", ctrls: policy},
		{path: "/adm_notice.htm", title: "Notification Message", setfunc: "noticeCfg", layout: "rows", ctrls: notice},
		{path: "/sec_acl.htm", title: "Accessible IP List", setfunc: "aclCfg", layout: "acl", ctrls: acl},
		{path: "/log_events.htm", title: "System Log Settings", setfunc: "logEventCfg", layout: "events", ctrls: events},
		{path: "/log_remote.htm", title: "Remote Log Server", setfunc: "remoteLogCfg", layout: "rows", ctrls: remote},
	}
	for i := 1; i <= ports(cfg.Model); i++ {
		n := strconv.Itoa(i)
		pages = append(pages, &page{path: "/port_mode.htm?sp=" + n, title: "Operation Modes", setfunc: "portModeCfg",
			hidden: [][2]string{{"sp", n}}, layout: "rows",
			ctrls: []control{{kind: kSelect, label: "Operation mode", name: "pm_mode", key: "port." + n + ".mode", def: "Real COM", opts: opModes}}})
	}
	return pages
}

func factoryDefaults(cfg Config) map[string]string {
	m := map[string]string{
		"model": cfg.Model, "mac": cfg.MAC, "serial": cfg.Serial, "firmware": cfg.Firmware,
		"generation": string(cfg.Generation),
	}
	if !cfg.HTTPS {
		m["https"] = "absent"
	}
	for _, p := range buildPages(cfg) {
		for _, ct := range p.ctrls {
			m[ct.key] = ct.def
		}
	}
	if cfg.Fault == FaultMissingControl {
		m["telnet"] = "enable" // the unit has it; its page does not show it
	}
	return m
}

// ---- rendering ----

func (c *Console) actionPath() string {
	if c.cfg.Generation == GA {
		return "/setup.htm"
	}
	return "/cfgsubmit.htm"
}

func (c *Console) head(title string) string {
	return "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">" +
		"<title>NPort Web Console</title><script type=\"text/javascript\" src=\"/common.js\"></script>" +
		"<link rel=\"stylesheet\" href=\"/np.css\"></head><body>\n<h2 class=\"pgtitle\">" + html.EscapeString(title) + "</h2>\n"
}

const foot = "</body></html>\n"

// commonJS defines the page helpers that write text inputs and identity values.
const commonJS = `function inputText(n, s, v) { document.write('<input type="text" name="' + n + '" size="' + s + '" value="' + v + '">'); }
function inputTextEx(n, s, v, m) { document.write('<input type="text" name="' + n + '" size="' + s + '" maxlength="' + m + '" value="' + v + '">'); }
function set(id, v) { var e = document.getElementById(id); if (e) { e.innerHTML = v; } }
`

// jsString quotes s for a double-quoted JavaScript string inside a script element.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<' || r == '>' || r == '&' || r == '\'' || r < 0x20:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (c *Console) formOpen(name, setfunc string, s *session, hidden [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<form name=\"%s\" method=\"get\" action=\"%s\">\n", name, c.actionPath())
	fmt.Fprintf(&b, "<input type=\"hidden\" name=\"setfunc\" value=\"%s\">\n", setfunc)
	for _, h := range hidden {
		fmt.Fprintf(&b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", h[0], html.EscapeString(h[1]))
	}
	if c.cfg.Generation == GSec {
		fmt.Fprintf(&b, "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n", s.csrf)
	}
	return b.String()
}

func (c *Console) controlHTML(ct control) string {
	v := c.held[ct.key]
	switch ct.kind {
	case kRadio:
		var b strings.Builder
		for _, o := range ct.opts {
			chk := ""
			if o.canon == v {
				chk = " checked"
			}
			text := o.canon
			if o.canon == "enable" || o.canon == "disable" {
				text = strings.ToUpper(o.canon[:1]) + o.canon[1:]
			}
			fmt.Fprintf(&b, "<input type=\"radio\" name=\"%s\" value=\"%s\"%s>%s ", ct.name, o.wire, chk, text)
		}
		return b.String()
	case kCheck:
		chk := ""
		if v == "on" {
			chk = " checked"
		}
		return fmt.Sprintf("<input type=\"checkbox\" name=\"%s\" value=\"yes\"%s>", ct.name, chk)
	case kSelect:
		var b strings.Builder
		fmt.Fprintf(&b, "<select name=\"%s\">", ct.name)
		for _, o := range ct.opts {
			sel := ""
			if o.canon == v {
				sel = " selected"
			}
			fmt.Fprintf(&b, "<option value=\"%s\"%s>%s</option>", o.wire, sel, html.EscapeString(o.canon))
		}
		b.WriteString("</select>")
		return b.String()
	case kText:
		return fmt.Sprintf("<script>inputText(%s, %d, %s);</script>", jsString(ct.name), ct.size, jsString(v))
	case kTextEx:
		return fmt.Sprintf("<script>inputTextEx(%s, %d, %s, %d);</script>", jsString(ct.name), ct.size, jsString(v), ct.max)
	case kSecret:
		return fmt.Sprintf("<input type=\"password\" name=\"%s\" size=\"20\" maxlength=\"%d\" value=\"\">", ct.name, ct.max)
	}
	return ""
}

func (c *Console) renderPage(p *page, s *session) string {
	var b strings.Builder
	b.WriteString(c.head(p.title))
	b.WriteString(c.formOpen("f_"+strings.ToLower(p.setfunc), p.setfunc, s, p.hidden))
	switch p.layout {
	case "acl":
		ctl := p.ctrls[0]
		fmt.Fprintf(&b, "<p>%s Enable</p>\n", c.controlHTML(ctl))
		b.WriteString("<table class=\"grid\">\n<tr><th>No</th><th>Activate the rule</th><th>IP Address</th><th>Netmask</th></tr>\n")
		for i := 0; i < aclRows; i++ {
			r := p.ctrls[1+3*i : 4+3*i]
			fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", i+1, c.controlHTML(r[0]), c.controlHTML(r[1]), c.controlHTML(r[2]))
		}
		b.WriteString("</table>\n")
	case "events":
		summary := []string{"Cold Start, Warm Start", "DHCP/BOOTP Get IP/Renew, NTP, Mail Fail, NTP Connect Fail, IP Conflict, Network Link Down",
			"Login Fail, IP Changed, Password Changed, Config Changed, Firmware Upgrade, Config Import, Config Export", "Connect, Disconnect"}
		b.WriteString("<table class=\"grid\">\n<tr><th>Event Group</th><th>Local Log</th><th>Remote Log</th><th>Summary</th></tr>\n")
		for i := 0; i < 4; i++ {
			l, r := p.ctrls[2*i], p.ctrls[2*i+1]
			group := strings.TrimSuffix(l.label, " Local Log")
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", group, c.controlHTML(l), c.controlHTML(r), summary[i])
		}
		b.WriteString("</table>\n")
	default:
		b.WriteString("<table class=\"cfg\">\n")
		for _, ct := range p.ctrls {
			note := ""
			if ct.note != "" {
				note = " " + html.EscapeString(ct.note)
			}
			fmt.Fprintf(&b, "<tr><td class=\"lbl\">%s</td><td>%s%s</td></tr>\n", html.EscapeString(ct.label), c.controlHTML(ct), note)
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("<input type=\"submit\" name=\"Submit\" value=\"Submit\">\n</form>\n")
	b.WriteString(foot)
	return b.String()
}

// ---- submitting ----

// validate checks one control's submitted value and returns its canonical form.
func validate(ct control, q url.Values) (string, error) {
	vals, present := q[ct.name]
	if ct.kind == kCheck {
		return onOff(present), nil
	}
	if !present {
		return "", fmt.Errorf("%s: the field %s is missing from the request", ct.label, ct.name)
	}
	v := vals[0]
	switch ct.kind {
	case kRadio, kSelect:
		for _, o := range ct.opts {
			if o.wire == v {
				return o.canon, nil
			}
		}
		return "", fmt.Errorf("%s: %q is not one of the choices", ct.label, v)
	case kText, kTextEx, kSecret:
		if len(v) > ct.max {
			return "", fmt.Errorf("%s: at most %d characters", ct.label, ct.max)
		}
		if ct.numeric {
			n, err := strconv.Atoi(v)
			if err != nil || n < ct.lo || n > ct.hi {
				return "", fmt.Errorf("%s: must be a number from %d to %d", ct.label, ct.lo, ct.hi)
			}
			return strconv.Itoa(n), nil
		}
		if ct.ip && v != "" {
			if ip := net.ParseIP(v); ip == nil || ip.To4() == nil {
				return "", fmt.Errorf("%s: %q is not an IPv4 address", ct.label, v)
			}
		}
		return v, nil
	}
	return "", fmt.Errorf("%s: unsupported control", ct.label)
}

// applyPage validates every control of p, then changes the held settings.
func (c *Console) applyPage(p *page, q url.Values) error {
	next := map[string]string{}
	for _, ct := range p.ctrls {
		v, err := validate(ct, q)
		if err != nil {
			return err
		}
		if ct.kind == kSecret && v == "" {
			continue
		}
		next[ct.key] = v
	}
	if p.setfunc == "aclCfg" {
		for i := 1; i <= aclRows; i++ {
			n := strconv.Itoa(i)
			if next["acl."+n+".active"] == "on" && (next["acl."+n+".ip"] == "" || next["acl."+n+".mask"] == "") {
				return fmt.Errorf("rule %d: an active rule needs an IP Address and a Netmask", i)
			}
		}
	}
	changed := false
	for k, v := range next {
		if c.held[k] != v {
			changed = true
		}
		c.held[k] = v
	}
	if changed {
		c.logEvent("Config", "Config Changed ("+p.title+")")
	}
	return nil
}

func (c *Console) confirmText() string {
	if c.cfg.Generation == GA {
		return "Stored. The unit applies it after Save/Restart."
	}
	return "Change recorded; it takes effect after Save/Restart."
}

func (c *Console) reply(w http.ResponseWriter, status int, title, msg, back string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	body := c.head(title) + "<p class=\"msg\">" + html.EscapeString(msg) + "</p>\n"
	if back != "" {
		body += "<p><a href=\"" + html.EscapeString(back) + "\">Back</a></p>\n"
	}
	_, _ = w.Write([]byte(body + foot))
}

func (c *Console) writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte(body))
}

package second

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

func (c *Console) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch p {
	case "/common.js":
		w.Header().Set("Content-Type", "application/javascript")
		_, _ = w.Write([]byte(commonJS))
		return
	case "/np.css":
		w.Header().Set("Content-Type", "text/css")
		_, _ = w.Write([]byte("td.lbl{font-weight:bold}\n"))
		return
	case c.logoutPath():
		if ck, err := r.Cookie(c.cookieName()); err == nil {
			delete(c.sessions, ck.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: c.cookieName(), Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/", http.StatusTemporaryRedirect)
		return
	}
	if p == "/" && r.Method == http.MethodPost {
		c.login(w, r)
		return
	}
	s, hadCookie := c.session(r)
	if s == nil {
		switch {
		case p == "/":
			c.loginPage(w, "")
		case hadCookie:
			c.reply(w, http.StatusOK, "Session Expired", "Session Expired. Please log in again.", "/")
		default:
			http.Redirect(w, r, "/", http.StatusFound)
		}
		return
	}
	if s.pending != "" {
		switch p {
		case "/action.htm":
			c.interstitialAction(w, r, s)
		case s.pending:
			c.writeHTML(w, c.interstitial(s))
		default:
			http.Redirect(w, r, s.pending, http.StatusFound)
		}
		return
	}
	switch {
	case p == "/" && c.cfg.Generation == GA:
		c.writeHTML(w, c.frameset())
	case p == "/" || p == "/home.htm" && c.cfg.Generation == GSec:
		if p == "/" {
			http.Redirect(w, r, "/home.htm", http.StatusFound)
			return
		}
		c.writeHTML(w, c.home())
	case p == "/navtree.htm" && c.cfg.Generation == GA:
		c.writeHTML(w, c.head("Menu")+c.menu("workpane")+foot)
	case p == "/sysinfo.htm":
		c.writeHTML(w, c.overview())
	case p == "/adm_users.htm":
		c.writeHTML(w, c.usersPage(s))
	case p == "/adm_user_add.htm":
		c.writeHTML(w, c.userForm(s, 0))
	case p == "/adm_user_edit.htm":
		row, err := strconv.Atoi(r.URL.Query().Get("row"))
		if err != nil || row < 1 || row > len(c.accounts) {
			c.reply(w, http.StatusNotFound, "User Account", "No such account row.", "/adm_users.htm")
			return
		}
		c.writeHTML(w, c.userForm(s, row))
	case p == "/mon_syslog.htm":
		c.writeHTML(w, c.syslogPage())
	case p == "/sys_restart.htm":
		c.writeHTML(w, c.head("Save/Restart")+"<p>Click Save/Restart to store the settings and restart the unit.</p>\n"+
			c.formOpen("f_restart", "saveRestart", s, nil)+"<input type=\"submit\" name=\"Submit\" value=\"Save/Restart\">\n</form>\n"+foot)
	case p == c.actionPath():
		if r.Method != http.MethodGet {
			c.reply(w, http.StatusMethodNotAllowed, "Error", "This form is submitted with GET.", "")
			return
		}
		c.submit(w, r, s)
	case p == "/action.htm":
		c.reply(w, http.StatusBadRequest, "Error", "Unexpected request for this page.", "/")
	default:
		for _, pg := range buildPages(c.cfg) {
			if pagePathMatches(pg.path, r.URL) {
				c.writeHTML(w, c.renderPage(pg, s))
				return
			}
		}
		c.reply(w, http.StatusNotFound, "Error", "Page not found.", "")
	}
}

func pagePathMatches(path string, u *url.URL) bool {
	base, query, _ := strings.Cut(path, "?")
	if base != u.Path {
		return false
	}
	if query == "" {
		return true
	}
	want, _ := url.ParseQuery(query)
	for k := range want {
		if u.Query().Get(k) != want.Get(k) {
			return false
		}
	}
	return true
}

func (c *Console) frameset() string {
	return "<html><head><title>NPort Web Console</title></head>\n<frameset cols=\"210,*\" border=\"0\">\n" +
		"<frame name=\"navpane\" src=\"/navtree.htm\" scrolling=\"auto\">\n<frame name=\"workpane\" src=\"/sysinfo.htm\">\n</frameset></html>\n"
}

func (c *Console) home() string {
	return c.head("Main Menu") + "<div id=\"sidebar\">\n" + c.menu("pageview") + "</div>\n" +
		"<div id=\"content\"><iframe name=\"pageview\" src=\"/sysinfo.htm\" width=\"800\" height=\"600\"></iframe></div>\n" + foot
}

// menu is the link tree; folders are plain text, pages are links.
func (c *Console) menu(target string) string {
	link := func(href, text string) string {
		return fmt.Sprintf("<li><a href=\"%s\" target=\"%s\">%s</a></li>\n", href, target, html.EscapeString(text))
	}
	folder := func(name, inner string) string {
		return "<li><span class=\"folder\">" + html.EscapeString(name) + "</span>\n<ul>\n" + inner + "</ul></li>\n"
	}
	var portsHTML string
	for i := 1; i <= ports(c.cfg.Model); i++ {
		n := strconv.Itoa(i)
		portsHTML += folder("Port "+n, link("/port_mode.htm?sp="+n, "Operation Modes"))
	}
	return "<ul class=\"tree\">\n" +
		link("/sysinfo.htm", "Overview") +
		folder("Basic Settings", link("/cfg_console.htm", "Console Settings")+link("/cfg_time.htm", "Time Settings")) +
		folder("Serial Port Settings", portsHTML) +
		link("/sec_acl.htm", "Accessible IP List") +
		link("/log_events.htm", "System Log Settings") +
		link("/log_remote.htm", "Remote Log Server") +
		folder("Administration", link("/adm_snmp.htm", "SNMP Agent")+
			folder("Account Management", link("/adm_users.htm", "User Account")+link("/adm_pwpolicy.htm", "Password & Login Policy")+link("/adm_notice.htm", "Notification Message"))) +
		folder("Monitor", link("/mon_syslog.htm", "System Log")) +
		link("/sys_restart.htm", "Save/Restart") +
		fmt.Sprintf("<li><a href=\"%s\" target=\"_top\">Logout</a></li>\n", c.logoutPath()) +
		"</ul>\n"
}

func (c *Console) overview() string {
	var b strings.Builder
	b.WriteString(c.head("Overview"))
	b.WriteString("<table class=\"cfg\">\n")
	for _, r := range [][2]string{{"Model Name", "modelname"}, {"MAC Address", "mac"}, {"Serial No.", "serialno"}, {"Firmware Version", "ver"}, {"IP Address", "ipaddr"}, {"System Uptime", "uptime"}} {
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">%s</td><td id=\"%s\"></td></tr>\n", r[0], r[1])
	}
	b.WriteString("</table>\n<script>\n")
	for _, kv := range [][2]string{{"modelname", c.held["model"]}, {"mac", c.held["mac"]}, {"serialno", c.held["serial"]}, {"ver", c.held["firmware"]}, {"ipaddr", "192.168.127.254"}, {"uptime", "0 days, 00h:12m:09s"}} {
		fmt.Fprintf(&b, "set(%s,%s);\n", jsString(kv[0]), jsString(kv[1]))
	}
	b.WriteString("</script>\n" + foot)
	return b.String()
}

func (c *Console) usersPage(s *session) string {
	var b strings.Builder
	b.WriteString(c.head("User Account"))
	b.WriteString(c.formOpen("f_users", "userTable", s, nil))
	b.WriteString("<div class=\"toolbar\"><input type=\"submit\" name=\"op\" value=\"Add\"> <input type=\"submit\" name=\"op\" value=\"Edit\"> " +
		"<input type=\"submit\" name=\"op\" value=\"Delete\"> <input type=\"submit\" name=\"op\" value=\"Save/Restart\"></div>\n")
	b.WriteString("<table class=\"grid\">\n<tr><th></th><th>Active</th><th>Account Name</th><th>User Level</th></tr>\n")
	for i, a := range c.accounts {
		chk := ""
		if a.active {
			chk = " checked"
		}
		fmt.Fprintf(&b, "<tr><td><input type=\"radio\" name=\"acsel\" value=\"%d\"></td><td><input type=\"checkbox\" disabled%s></td><td>%s</td><td>%s</td></tr>\n",
			i+1, chk, html.EscapeString(a.name), a.level)
	}
	b.WriteString("</table>\n</form>\n" + foot)
	return b.String()
}

// userForm is the Add page (row 0) or the Edit Account page of a row.
func (c *Console) userForm(s *session, row int) string {
	var b strings.Builder
	lvl := func(name, cur string) string {
		out := "<select name=\"" + name + "\">"
		for _, o := range levelOpts() {
			sel := ""
			if o.canon == cur {
				sel = " selected"
			}
			out += "<option value=\"" + o.wire + "\"" + sel + ">" + o.canon + "</option>"
		}
		return out + "</select>"
	}
	pw := func(name string) string {
		return "<input type=\"password\" name=\"" + name + "\" size=\"20\" maxlength=\"16\"> (4-16 characters)"
	}
	if row == 0 {
		b.WriteString(c.head("Add Account"))
		b.WriteString(c.formOpen("f_useradd", "userAdd", s, nil))
		b.WriteString("<table class=\"cfg\">\n")
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">Account Name</td><td><script>inputText(\"ua_name\", 16, \"\");</script></td></tr>\n")
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">Password</td><td>%s</td></tr>\n<tr><td class=\"lbl\">Confirm Password</td><td>%s</td></tr>\n", pw("ua_pw1"), pw("ua_pw2"))
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">User Level</td><td>%s</td></tr>\n", lvl("ua_lvl", "Read Only"))
	} else {
		a := c.accounts[row-1]
		b.WriteString(c.head("Edit Account"))
		b.WriteString(c.formOpen("f_useredit", "userEdit", s, [][2]string{{"row", strconv.Itoa(row)}}))
		chk := ""
		if a.active {
			chk = " checked"
		}
		b.WriteString("<table class=\"cfg\">\n")
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">Active</td><td><input type=\"checkbox\" name=\"ue_act\" value=\"yes\"%s></td></tr>\n", chk)
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">Account Name</td><td><script>inputText(\"ue_name\", 16, %s);</script></td></tr>\n", jsString(a.name))
		b.WriteString("<tr><td class=\"lbl\">Change Password</td><td><input type=\"checkbox\" name=\"ue_chg\" value=\"yes\"></td></tr>\n")
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">Password</td><td>%s</td></tr>\n<tr><td class=\"lbl\">Confirm Password</td><td>%s</td></tr>\n", pw("ue_pw1"), pw("ue_pw2"))
		fmt.Fprintf(&b, "<tr><td class=\"lbl\">User Level</td><td>%s</td></tr>\n", lvl("ue_lvl", a.level))
	}
	b.WriteString("</table>\n<input type=\"submit\" name=\"Submit\" value=\"Submit\">\n</form>\n" + foot)
	return b.String()
}

func (c *Console) syslogPage() string {
	var b strings.Builder
	b.WriteString(c.head("System Log"))
	b.WriteString("<pre id=\"logtext\">\n")
	for _, l := range c.syslog {
		b.WriteString(html.EscapeString(l) + "\n")
	}
	b.WriteString("</pre>\n<input type=\"button\" value=\"Select all\"> <input type=\"button\" value=\"Clear log\"> <input type=\"button\" value=\"Refresh\"> <input type=\"button\" value=\"Download\">\n" + foot)
	return b.String()
}

func (c *Console) submit(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	if c.cfg.Generation == GSec && subtle.ConstantTimeCompare([]byte(q.Get("csrf_token")), []byte(s.csrf)) != 1 {
		c.reply(w, http.StatusForbidden, "Error", "Request rejected: the page token is not valid. Reload the page.", "")
		return
	}
	fn := q.Get("setfunc")
	switch fn {
	case "saveRestart":
		c.restart()
		c.reply(w, http.StatusOK, "Save/Restart", "The unit is restarting with the stored configuration.", "/")
		return
	case "userTable":
		c.userTable(w, r, s)
		return
	case "userAdd", "userEdit":
		if err := c.userChange(fn, q, s); err != nil {
			c.reply(w, http.StatusOK, "User Account", "Not saved: "+err.Error(), "/adm_users.htm")
			return
		}
		c.reply(w, http.StatusOK, "User Account", c.confirmText(), "/adm_users.htm")
		return
	}
	for _, pg := range buildPages(c.cfg) {
		if pg.setfunc != fn {
			continue
		}
		match := true
		for _, h := range pg.hidden {
			if q.Get(h[0]) != h[1] {
				match = false
			}
		}
		if !match {
			continue
		}
		if err := c.applyPage(pg, q); err != nil {
			c.reply(w, http.StatusOK, pg.title, "Not saved: "+err.Error(), pg.path)
			return
		}
		c.reply(w, http.StatusOK, pg.title, c.confirmText(), pg.path)
		return
	}
	c.reply(w, http.StatusBadRequest, "Error", "Unknown request.", "")
}

func (c *Console) userTable(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	row, err := strconv.Atoi(q.Get("acsel"))
	if err != nil || row < 1 || row > len(c.accounts) {
		row = 0
	}
	switch q.Get("op") {
	case "Add":
		http.Redirect(w, r, "/adm_user_add.htm", http.StatusFound)
	case "Save/Restart":
		http.Redirect(w, r, "/sys_restart.htm", http.StatusFound)
	case "Edit", "Delete":
		if row == 0 {
			c.reply(w, http.StatusOK, "User Account", "Select an account row first.", "/adm_users.htm")
			return
		}
		if q.Get("op") == "Edit" {
			http.Redirect(w, r, "/adm_user_edit.htm?row="+strconv.Itoa(row), http.StatusFound)
			return
		}
		a := c.accounts[row-1]
		if a.name == s.user {
			c.reply(w, http.StatusOK, "User Account", "Not saved: the account in use cannot be deleted.", "/adm_users.htm")
			return
		}
		rest := append(append([]*account(nil), c.accounts[:row-1]...), c.accounts[row:]...)
		if !hasAdmin(rest) {
			c.reply(w, http.StatusOK, "User Account", "Not saved: at least one active Read Write account must remain.", "/adm_users.htm")
			return
		}
		c.accounts = rest
		c.logEvent("Config", s.user+": Account Deleted "+a.name)
		c.reply(w, http.StatusOK, "User Account", c.confirmText(), "/adm_users.htm")
	default:
		c.reply(w, http.StatusBadRequest, "User Account", "Unknown request.", "/adm_users.htm")
	}
}

func hasAdmin(accts []*account) bool {
	for _, a := range accts {
		if a.active && a.level == "Read Write" {
			return true
		}
	}
	return false
}

func validName(n string) bool {
	if len(n) < 1 || len(n) > 16 {
		return false
	}
	for _, r := range n {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' {
			return false
		}
	}
	return true
}

// passwordOK applies the length range and the held password policy.
func (c *Console) passwordOK(pw string) error {
	minLen, _ := strconv.Atoi(c.held["pw_min_len"])
	if len(pw) < minLen || len(pw) < 4 || len(pw) > 16 {
		return fmt.Errorf("the password must be %d to 16 characters", max(minLen, 4))
	}
	if c.held["pw_complexity"] != "enable" {
		return nil
	}
	var digit, upper, lower, special bool
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		default:
			special = true
		}
	}
	switch {
	case c.held["pw_digit"] == "on" && !digit:
		return fmt.Errorf("the password needs at least one digit")
	case c.held["pw_mixed"] == "on" && !(upper && lower):
		return fmt.Errorf("the password needs upper and lower case letters")
	case c.held["pw_special"] == "on" && !special:
		return fmt.Errorf("the password needs a special character")
	}
	return nil
}

func (c *Console) userChange(fn string, q url.Values, s *session) error {
	level := func(wire string) (string, error) {
		for _, o := range levelOpts() {
			if o.wire == wire {
				return o.canon, nil
			}
		}
		return "", fmt.Errorf("user level: %q is not one of the choices", wire)
	}
	if fn == "userAdd" {
		name := q.Get("ua_name")
		if !validName(name) {
			return fmt.Errorf("account name: 1 to 16 printable characters, no spaces")
		}
		if c.account(name) != nil {
			return fmt.Errorf("account name: %q already exists", name)
		}
		if q.Get("ua_pw1") != q.Get("ua_pw2") {
			return fmt.Errorf("password and confirm password differ")
		}
		if err := c.passwordOK(q.Get("ua_pw1")); err != nil {
			return err
		}
		lv, err := level(q.Get("ua_lvl"))
		if err != nil {
			return err
		}
		c.accounts = append(c.accounts, &account{name: name, password: q.Get("ua_pw1"), level: lv, active: true, factory: q.Get("ua_pw1") == "moxa"})
		c.logEvent("Config", s.user+": Account Added "+name)
		return nil
	}
	row, err := strconv.Atoi(q.Get("row"))
	if err != nil || row < 1 || row > len(c.accounts) {
		return fmt.Errorf("no such account row")
	}
	a := c.accounts[row-1]
	name := q.Get("ue_name")
	if !q.Has("ue_name") || !q.Has("ue_lvl") {
		return fmt.Errorf("the request misses Account Name or User Level")
	}
	if !validName(name) {
		return fmt.Errorf("account name: 1 to 16 printable characters, no spaces")
	}
	if other := c.account(name); other != nil && other != a {
		return fmt.Errorf("account name: %q already exists", name)
	}
	lv, err := level(q.Get("ue_lvl"))
	if err != nil {
		return err
	}
	next := *a
	next.name, next.level, next.active = name, lv, q.Has("ue_act")
	if q.Has("ue_chg") {
		if q.Get("ue_pw1") != q.Get("ue_pw2") {
			return fmt.Errorf("password and confirm password differ")
		}
		if err := c.passwordOK(q.Get("ue_pw1")); err != nil {
			return err
		}
		next.password = q.Get("ue_pw1")
		next.factory = next.password == "moxa"
	}
	rest := make([]*account, len(c.accounts))
	copy(rest, c.accounts)
	rest[row-1] = &next
	if !hasAdmin(rest) {
		return fmt.Errorf("at least one active Read Write account must remain")
	}
	if a.name == s.user && next.name != a.name {
		s.user = next.name
	}
	*a = next
	if q.Has("ue_chg") {
		c.logEvent("Config", s.user+": Password Changed "+a.name)
	} else {
		c.logEvent("Config", s.user+": Account Changed "+a.name)
	}
	return nil
}

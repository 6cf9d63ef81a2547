package nport

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	cookieName   = "ChallID"
	maxBody      = 64 << 10
	challengeTTL = 2 * time.Minute
	savedMsg     = "Settings saved. Click Save/Restart to make them effective."
)

// session is one logged-in web user.
type session struct {
	user  string
	last  time.Time
	token string
}

// serveHTTP runs the web console on ln, over TLS when tc is not nil.
func (d *Device) serveHTTP(ln net.Listener, tc *tls.Config) {
	srv := &http.Server{
		Handler:           d,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
		ErrorLog:          log.New(io.Discard, "", 0),                               // handshake failures are expected (TLS 1.0 probes)
	}
	var l net.Listener = filterListener{ln, d}
	if tc != nil {
		l = tls.NewListener(l, tc)
	}
	d.mu.Lock()
	d.servers = append(d.servers, srv)
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		srv.Serve(l)
	}()
}

func randHex(n int, upper bool) string {
	b := make([]byte, n)
	rand.Read(b)
	s := hex.EncodeToString(b)
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// serverHeader is the console's Server header: MoxaHttp/2.2 on GA
// (nmap's service probes); the G-sec version number is an inference.
func (d *Device) serverHeader() string {
	if d.cfg.Generation == GenSec {
		return "MoxaHttp/3.0"
	}
	return "MoxaHttp/2.2"
}

// ServeHTTP is the web console.
func (d *Device) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		// a real unit answers HTTP/1.1 whatever the request said (nmap's
		// probes send HTTP/1.0 and match "HTTP/1.1 200"); net/http writes
		// the status line with the request's version
		r.Proto, r.ProtoMinor = "HTTP/1.1", 1
		w.Header().Set("Connection", "close")
	}
	w.Header().Set("Server", d.serverHeader())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if r.URL.Path == "/" {
		if r.Method == http.MethodPost {
			d.login(w, r)
			return
		}
		d.loginPage(w, "")
		return
	}
	user, token, ok := d.sessionFor(r)
	if !ok {
		if _, err := r.Cookie(cookieName); err == nil && d.cfg.Generation == GenSec {
			// a cookie the console no longer knows
			fmt.Fprint(w, "<html><head><title>NPort Web Console</title></head><body><h2>Session Expired</h2>\n<p><a href=\"/\" target=\"_top\">Login again</a></p></body></html>\n")
			return
		}
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	switch r.URL.Path {
	case "/menu.htm":
		d.menu(w)
	case "/main.htm":
		d.overview(w, user)
	case "/home.htm":
		d.home(w)
	case "/failedlog.htm":
		d.failedLogPage(w, token)
	case "/nag.htm":
		d.nagPage(w, token)
	case "/action.htm":
		d.action(w, r, user, token)
	case "/syslog.htm":
		d.systemLog(w)
	case "/logout.htm", "/LogoutAct.htm":
		d.logout(w, r)
	case "/SaveRestart.htm", "/savRst.htm":
		d.saveRestartPage(w, r, user, token)
	case "/upgrade.htm":
		d.upgradePage(w, r, token)
	case "/ChPassword.htm":
		if d.cfg.Generation != GenGA {
			http.NotFound(w, r)
			return
		}
		d.chPassword(w, r, user)
	case "/accounts.htm":
		d.accountsPage(w, token, "")
	case "/account.htm":
		d.accountToolbar(w, r, user, token)
	case "/account_edit.htm", "/account_add.htm", "/account_delete.htm":
		d.accountForm(w, r, user, token)
	case "/Set.htm":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		p, ok := pageBySetfunc(r.Form.Get("setfunc"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		d.settingsPage(w, r, p, user, token)
	default:
		p, ok := pageByPath(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		d.settingsPage(w, r, p, user, token)
	}
}

// sessionFor returns the session's user and token, refreshing its idle timer.
func (d *Device) sessionFor(r *http.Request) (user, token string, ok bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sessions[c.Value]
	if s == nil {
		return "", "", false
	}
	now := d.cfg.Now()
	if now.Sub(s.last) > time.Duration(d.effective.Console.AutoLogoutMin)*time.Minute {
		delete(d.sessions, c.Value)
		return "", "", false
	}
	s.last = now
	return s.user, s.token, true
}

func (d *Device) loginPage(w http.ResponseWriter, msg string) {
	ch := randHex(8, true)
	if d.cfg.Generation == GenSec {
		ch = randHex(32, false) // at least 32 hex digits on this firmware
	}
	d.mu.Lock()
	now := d.cfg.Now()
	for k, exp := range d.challenge {
		if now.After(exp) {
			delete(d.challenge, k)
		}
	}
	if len(d.challenge) < 1024 {
		d.challenge[ch] = now.Add(challengeTTL)
	}
	banner := d.effective.LoginMessage
	d.mu.Unlock()
	var b strings.Builder
	b.WriteString("<HTML><HEAD><TITLE>NPort Web Console</TITLE></HEAD><body>\n<h2>NPort Web Console</h2>\n")
	if banner != "" {
		fmt.Fprintf(&b, "<p class=\"message\">%s</p>\n", html.EscapeString(banner))
	}
	if msg != "" {
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", msg)
	}
	if d.cfg.Generation == GenSec {
		// the page script hashes the answer into EncPasswd/EncUser and
		// disables the visible inputs before the submit
		fmt.Fprintf(&b, `<form method="post" action="/" name="login" onsubmit="return doLogin(this)">
<table>
<tr><td>Username</td><td><input type="text" name="Username" id="Username" maxlength="16"></td></tr>
<tr><td>Password</td><td><input type="password" name="Password" id="Password" maxlength="16"></td></tr>
</table>
<input type="hidden" name="EncPasswd" value="">
<input type="hidden" name="EncUser" value="">
<input type="hidden" name="FakeChallenge" value="%s">
<input type="submit" name="Submit" value="Login">
</form>
</body></html>
`, ch)
	} else {
		fmt.Fprintf(&b, `<form method="post" action="/" name="login">
<table>
<tr><td>Username</td><td><input type="text" name="Username" id="Username" maxlength="16"></td></tr>
<tr><td>Password</td><td><input type="password" name="Password" id="Password" maxlength="16"></td></tr>
</table>
<INPUT type=hidden name=MD5Password value="">
<INPUT type=hidden name=FakeChallenge value=%s>
<input type="image" name="Submit" src="/login.gif" alt="Login">
</form>
</body></html>
`, ch)
	}
	fmt.Fprint(w, b.String())
}

// challengeResponse is the GA login answer: hex(MD5(challenge)[i] ^ pw[i]).
func challengeResponse(challenge, pw string) string {
	sum := md5.Sum([]byte(challenge))
	n := min(len(pw), 16)
	out := make([]byte, n)
	for i := range n {
		out[i] = sum[i] ^ pw[i]
	}
	return hex.EncodeToString(out)
}

// checkLogin applies the effective accounts and lockout policy. It returns
// "" on success, else the reason shown on the page. Locking is done here.
func (d *Device) checkLogin(user string, verify func(pw string) bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	pol := d.effective.Policy
	fs := d.failures[user]
	if pol.Lockout && fs != nil && now.Before(fs.lockedUntil) {
		mins := int(math.Ceil(fs.lockedUntil.Sub(now).Minutes()))
		return fmt.Sprintf("This account has been locked. Please try again after %d minutes.", mins)
	}
	i := d.effective.account(user)
	if i >= 0 && d.effective.Accounts[i].Active && verify(d.effective.Accounts[i].Password) {
		delete(d.failures, user)
		return ""
	}
	if i >= 0 {
		if fs == nil {
			fs = &failState{}
			d.failures[user] = fs
		}
		fs.count++
		if pol.Lockout && fs.count >= pol.Threshold {
			fs.lockedUntil = now.Add(time.Duration(pol.LockoutMinutes) * time.Minute)
			fs.count = 0
		}
	}
	return "Login failed. " + html.EscapeString(d.effective.FailureMessage)
}

func (d *Device) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	user := r.PostFormValue("Username")
	got := strings.ToLower(r.PostFormValue("MD5Password"))
	ch := r.PostFormValue("FakeChallenge")
	sec := d.cfg.Generation == GenSec
	if sec {
		user = secUser(ch, r.PostFormValue("EncUser"))
		got = strings.ToLower(r.PostFormValue("EncPasswd"))
	}
	d.mu.Lock()
	exp, known := d.challenge[ch]
	delete(d.challenge, ch)
	validCh := known && !d.cfg.Now().After(exp)
	d.mu.Unlock()
	who := printableName(user)
	var msg string
	if !validCh {
		msg = "Login failed. The login page has expired; please try again."
	} else {
		msg = d.checkLogin(user, func(pw string) bool {
			want := challengeResponse(ch, pw)
			if sec {
				want = secPasswd(user, pw, ch)
			}
			return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
		})
	}
	if msg != "" {
		d.log("Config", fmt.Sprintf("%s: Local Login Fail %s", who, r.RemoteAddr))
		d.recordFailure(who, r.RemoteAddr)
		d.loginPage(w, msg)
		return
	}
	d.mu.Lock()
	now := d.cfg.Now()
	idle := time.Duration(d.effective.Console.AutoLogoutMin) * time.Minute
	for k, s := range d.sessions {
		if now.Sub(s.last) > idle {
			delete(d.sessions, k)
		}
	}
	full := len(d.sessions) >= d.effective.Console.MaxLoginUsers
	id := randHex(16, false)
	if !full {
		d.sessions[id] = &session{user: user, last: now, token: randHex(8, false)}
	}
	d.mu.Unlock()
	if full {
		d.loginPage(w, "The maximum number of login users has been reached.")
		return
	}
	d.log("Config", fmt.Sprintf("%s: Local Login Success %s", who, r.RemoteAddr))
	if !d.cfg.NoSessionCookie {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	}
	if sec {
		// the security firmware answers the login with a redirect, through
		// its interstitials
		http.Redirect(w, r, d.afterLogin(user, false), http.StatusFound)
		return
	}
	d.home(w)
}

// home is the console's frameset. The frame names differ by generation;
// clients find the menu by its links.
func (d *Device) home(w http.ResponseWriter) {
	menu, main := "contents", "main"
	if d.cfg.Generation == GenSec {
		menu, main = "leftFrame", "mainFrame"
	}
	fmt.Fprintf(w, `<html><head><title>NPort Web Console</title></head>
<frameset cols="200,*"><frame name="%s" src="/menu.htm"><frame name="%s" src="/main.htm"></frameset>
</html>
`, menu, main)
}

// printableName bounds and cleans a user name for the log.
func printableName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d *Device) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.mu.Lock()
		delete(d.sessions, c.Value)
		d.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusTemporaryRedirect) // GA answers 307

}

func (d *Device) menu(w http.ResponseWriter) {
	var b strings.Builder
	b.WriteString("<html><head><title>Menu</title></head><body><ul>\n")
	link := func(href, text string) {
		fmt.Fprintf(&b, "<li><a href=\"%s\" target=\"main\">%s</a></li>\n", href, text)
	}
	link("/main.htm", "Overview")
	link("/basic.htm", "Basic Settings")
	link("/network.htm", "Network Settings")
	link("/console.htm", "Console Settings")
	for n := 1; n <= d.cfg.SerialPorts; n++ {
		if d.cfg.Generation == GenSec {
			// the guide's path: Port N is a folder holding Operation Modes
			fmt.Fprintf(&b, "<li>Port %d<ul>\n", n)
			link(fmt.Sprintf("/opmode.htm?Port=%d", n), "Operation Modes")
			b.WriteString("</ul></li>\n")
		} else {
			link(fmt.Sprintf("/opmode.htm?Port=%d", n), fmt.Sprintf("Port %d", n))
		}
	}
	link("/snmp.htm", "SNMP Agent")
	link("/logserver.htm", "Remote Log Server")
	link("/accounts.htm", "User Account")
	link("/policy.htm", "Password &amp; Login Policy")
	link("/notice.htm", "Notification Message")
	link("/accessip.htm", "Accessible IP List")
	link("/logsettings.htm", "System Log Settings")
	link("/syslog.htm", "System Log")
	link("/upgrade.htm", "Upgrade Firmware")
	if d.cfg.Generation == GenSec {
		link("/savRst.htm", "Save/Restart")
	} else {
		link("/SaveRestart.htm", "Save/Restart")
	}
	link("/LogoutAct.htm", "Logout")
	b.WriteString("</ul></body></html>\n")
	fmt.Fprint(w, b.String())
}

func (d *Device) overview(w http.ResponseWriter, user string) {
	d.mu.Lock()
	name := d.saved.ServerName
	i := d.effective.account(user)
	def := user == "admin" && i >= 0 && d.effective.Accounts[i].Password == "moxa"
	d.mu.Unlock()
	var b strings.Builder
	b.WriteString("<html><head><title>Overview</title></head><body><h2>Overview</h2>\n")
	if def {
		b.WriteString("<p class=\"warning\">Please change the default password</p>\n")
	}
	b.WriteString("<table>\n")
	mac := strings.ToUpper(net.HardwareAddr(d.mac[:]).String())
	up := uptime(d.cfg.Now().Sub(d.started))
	if d.cfg.Generation == GenSec {
		// the values are written by the page script (set("modelname", ...))
		for _, r := range [][2]string{{"Model Name", "modelname"}, {"MAC Address", "mac"}, {"Serial No.", "serialno"},
			{"Firmware Version", "ver"}, {"Server Name", "servername"}, {"System Uptime", "uptime"}} {
			fmt.Fprintf(&b, "<tr><td>%s</td><td><span id=\"%s\"></span></td></tr>\n", r[0], r[1])
		}
		b.WriteString("</table>\n<script type=\"text/javascript\">\n")
		for _, kv := range [][2]string{{"modelname", d.cfg.Model}, {"mac", mac}, {"serialno", d.cfg.Serial},
			{"ver", d.cfg.Firmware}, {"servername", name}, {"uptime", up}} {
			fmt.Fprintf(&b, "set(\"%s\",\"%s\");\n", kv[0], jsEscape(kv[1]))
		}
		b.WriteString("</script></body></html>\n")
	} else {
		row := func(k, v string) { fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>\n", k, html.EscapeString(v)) }
		row("Model name", d.cfg.Model)
		row("MAC address", mac)
		row("Serial No.", d.cfg.Serial)
		row("Firmware version", d.cfg.Firmware)
		row("Server name", name)
		row("System uptime", up)
		b.WriteString("</table></body></html>\n")
	}
	fmt.Fprint(w, b.String())
}

func uptime(t time.Duration) string {
	if t < 0 {
		t = 0
	}
	s := int(t.Seconds())
	return fmt.Sprintf("%d days, %02dh:%02dm:%02ds", s/86400, s/3600%24, s/60%60, s%60)
}

func (d *Device) systemLog(w http.ResponseWriter) {
	lines := d.Log()
	var b strings.Builder
	b.WriteString("<html><head><title>System Log</title></head><body><h2>System Log</h2>\n<textarea readonly rows=\"30\" cols=\"100\" name=\"logtext\">")
	for _, l := range lines {
		b.WriteString(html.EscapeString(l))
		b.WriteString("\n")
	}
	b.WriteString("</textarea></body></html>\n")
	fmt.Fprint(w, b.String())
}

// dropSubmit reports whether this submit must be dropped; if so it closes
// the connection without a reply.
func (d *Device) dropSubmit(w http.ResponseWriter) bool {
	d.mu.Lock()
	drop := d.dropN > 0
	if drop {
		d.dropN--
	}
	d.mu.Unlock()
	if !drop {
		return false
	}
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
			return true
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without a reply
}

// checkSubmit validates the anti-CSRF token and the user's level. It
// returns an error message for the page, or "".
func (d *Device) checkSubmit(r *http.Request, user, token string) string {
	if subtle.ConstantTimeCompare([]byte(r.FormValue(d.tokenName())), []byte(token)) != 1 {
		return "Invalid or missing " + d.tokenName() + "; reload the page and try again."
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if i := d.effective.account(user); i < 0 || !d.effective.Accounts[i].ReadWrite {
		return "Read Only users cannot change settings."
	}
	return ""
}

func (d *Device) saveRestartPage(w http.ResponseWriter, r *http.Request, user, token string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.Form.Get("Submit") != "" {
		if msg := d.checkSubmit(r, user, token); msg != "" {
			d.renderSaveRestart(w, token, msg)
			return
		}
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return
		}
		d.bg.Add(1)
		d.restartPending = true
		d.mu.Unlock()
		// The state file shows the restart done before the device
		// answers (see persist): a kill from here on resumes restarted.
		if err := d.persist(); err != nil {
			d.mu.Lock()
			d.restartPending = false
			d.mu.Unlock()
			d.bg.Done()
			stateError(w, err)
			return
		}
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "<html><head><title>Save/Restart</title></head><body><h2>Now Save/Restart OK!</h2></body></html>\n")
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go func() {
			defer d.bg.Done()
			d.saveRestart()
		}()
		return
	}
	d.renderSaveRestart(w, token, "")
}

func (d *Device) renderSaveRestart(w http.ResponseWriter, token, msg string) {
	var b strings.Builder
	b.WriteString("<html><head><title>Save/Restart</title></head><body><h2>Save/Restart</h2>\n")
	if msg != "" {
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", html.EscapeString(msg))
	}
	action, name := "/SaveRestart.htm", "saverestart"
	if d.cfg.Generation == GenSec {
		action, name = "/savRst.htm", "savRst"
	}
	fmt.Fprintf(&b, `<p>Click Save/Restart to make the saved settings effective. The device restarts.</p>
<form name="%s" method="get" action="%s">
<input type="hidden" name="%s" value="%s">
<input type="submit" name="Submit" value="Save/Restart">
</form></body></html>
`, name, action, d.tokenName(), token)
	fmt.Fprint(w, b.String())
}

func (d *Device) upgradePage(w http.ResponseWriter, r *http.Request, token string) {
	msg := ""
	if r.Method == http.MethodPost {
		msg = "<div class=\"error\">Firmware upgrade is not available in the simulator</div>\n"
	}
	fmt.Fprintf(w, `<html><head><title>Firmware Upgrade</title></head><body><h2>Firmware Upgrade</h2>
%s<form method="post" action="/upgrade.htm" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="%s">
<table><tr><td>Select firmware file</td><td><input type="file" name="fwfile"></td></tr></table>
<input type="submit" name="Submit" value="Submit">
</form></body></html>
`, msg, token)
}

package second

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GAAnswer is the GA login's MD5Password for a challenge and a password:
// hex of MD5(challenge text) XORed with the password bytes, one output byte
// per password character.
func GAAnswer(challenge, password string) string {
	sum := md5.Sum([]byte(challenge))
	out := make([]byte, len(password))
	for i := 0; i < len(password); i++ {
		out[i] = sum[i%len(sum)] ^ password[i]
	}
	return hex.EncodeToString(out)
}

// GSecAnswer is the security firmware's (EncPasswd, EncUser) pair:
// EncPasswd = hex SHA-256(user + password + challenge); EncUser = hex of
// SHA-256(challenge text) with its first len(user) bytes XORed with the user
// name's bytes.
func GSecAnswer(challenge, user, password string) (encPasswd, encUser string) {
	p := sha256.Sum256([]byte(user + password + challenge))
	u := sha256.Sum256([]byte(challenge))
	for i := 0; i < len(user) && i < len(u); i++ {
		u[i] ^= user[i]
	}
	return hex.EncodeToString(p[:]), hex.EncodeToString(u[:])
}

// decodeEncUser recovers the user name from EncUser: the bytes before the
// first position where the XOR leaves SHA-256(challenge) unchanged.
func decodeEncUser(challenge, encUser string) (string, bool) {
	enc, err := hex.DecodeString(encUser)
	if err != nil || len(enc) != sha256.Size {
		return "", false
	}
	h := sha256.Sum256([]byte(challenge))
	var name []byte
	for i := range enc {
		b := enc[i] ^ h[i]
		if b == 0 {
			break
		}
		name = append(name, b)
	}
	return string(name), len(name) > 0
}

func (c *Console) cookieName() string {
	if c.cfg.Generation == GA {
		return "ConsoleTicket"
	}
	return "wsid"
}

func (c *Console) logoutPath() string {
	if c.cfg.Generation == GA {
		return "/LogoutAct.htm"
	}
	return "/signout.htm"
}

func (c *Console) issueChallenge() string {
	var ch string
	if c.cfg.Generation == GA {
		ch = strings.ToUpper(randomHex(8))
	} else {
		ch = randomHex(32)
	}
	c.challenges = append(c.challenges, ch)
	if len(c.challenges) > 16 {
		c.challenges = c.challenges[len(c.challenges)-16:]
	}
	return ch
}

// takeChallenge consumes a challenge this console issued; each works once.
func (c *Console) takeChallenge(ch string) bool {
	for i, x := range c.challenges {
		if x == ch && ch != "" {
			c.challenges = append(c.challenges[:i], c.challenges[i+1:]...)
			return true
		}
	}
	return false
}

func (c *Console) loginPage(w http.ResponseWriter, notice string) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Cache-Control", "no-cache")
	var b strings.Builder
	b.WriteString("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>NPort Web Console</title></head><body>\n")
	if notice != "" {
		fmt.Fprintf(&b, "<div class=\"notice\">%s</div>\n", html.EscapeString(notice))
	}
	switch {
	case c.cfg.Fault == FaultUnknownConsole:
		fmt.Fprintf(&b, "<form name=\"pinform\" method=\"post\" action=\"/auth.cgi\">\n<input type=\"hidden\" name=\"Nonce\" value=\"%s\">\n"+
			"Device PIN <input type=\"password\" name=\"AuthCode\" size=\"8\">\n<input type=\"submit\" value=\"Enter\">\n</form>\n", randomHex(12))
	case c.cfg.Generation == GA:
		ch := c.issueChallenge()
		fmt.Fprintf(&b, "<form name=\"loginform\" method=\"post\" action=\"/\" onsubmit=\"return SetPass();\">\n"+
			"<input type=\"hidden\" name=\"FakeChallenge\" value=\"%s\">\n<input type=\"hidden\" name=\"MD5Password\" value=\"\">\n"+
			"<table><tr><td>Username</td><td><input type=\"text\" name=\"Username\" size=\"20\" maxlength=\"16\"></td></tr>\n"+
			"<tr><td>Password</td><td><input type=\"password\" name=\"Password\" size=\"20\" maxlength=\"16\"></td></tr></table>\n"+
			"<input type=\"image\" name=\"Submit\" src=\"/login.gif\" alt=\"Login\">\n</form>\n"+
			"<script>function SetPass(){ var f=document.loginform; f.MD5Password.value=xorMD5(f.FakeChallenge.value, f.Password.value); f.Password.value=\"\"; return true; }</script>\n", ch)
	default:
		ch := c.issueChallenge()
		if m := c.held["login_message"]; m != "" {
			fmt.Fprintf(&b, "<div class=\"banner\">%s</div>\n", html.EscapeString(m))
		}
		fmt.Fprintf(&b, "<form id=\"loginForm\" name=\"loginForm\" method=\"post\" action=\"/\">\n"+
			"<input type=\"hidden\" name=\"FakeChallenge\" value=\"%s\">\n<input type=\"hidden\" name=\"EncUser\" value=\"\">\n<input type=\"hidden\" name=\"EncPasswd\" value=\"\">\n"+
			"<table><tr><td>Username</td><td><input type=\"text\" id=\"acct\" name=\"Username\" size=\"20\" maxlength=\"16\"></td></tr>\n"+
			"<tr><td>Password</td><td><input type=\"password\" id=\"pass\" name=\"Password\" size=\"20\" maxlength=\"16\"></td></tr></table>\n"+
			"<input type=\"button\" value=\"Login\" onclick=\"doLogin();\">\n</form>\n"+
			"<script>function doLogin(){ var f=document.loginForm; f.EncPasswd.value=sha256hex(f.Username.value+f.Password.value+f.FakeChallenge.value); "+
			"f.EncUser.value=xorUser(sha256bytes(f.FakeChallenge.value), f.Username.value); f.Username.disabled=true; f.Password.disabled=true; f.submit(); }</script>\n", ch)
	}
	b.WriteString("</body></html>\n")
	_, _ = w.Write([]byte(b.String()))
}

func (c *Console) recordFailure(user string, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c.failures = append(c.failures, failure{when: time.Now().UTC().Format("2006-01-02 15:04:05"), user: user, from: host})
	if len(c.failures) > 64 {
		c.failures = c.failures[len(c.failures)-64:]
	}
	c.logEvent("Config", user+": Local Login Fail "+r.RemoteAddr)
	if c.effective["lockout"] == "enable" {
		c.failCount[user]++
		if n, _ := strconv.Atoi(c.effective["lockout_threshold"]); c.failCount[user] >= n {
			m, _ := strconv.Atoi(c.effective["lockout_minutes"])
			c.lockedTill[user] = time.Now().Add(time.Duration(m) * time.Minute)
			c.failCount[user] = 0
		}
	}
}

func (c *Console) refusedText() string {
	if c.cfg.Generation == GA {
		return "Login failed. Check the user name and the password."
	}
	return "Authentication failed. " + c.held["login_fail_message"]
}

func (c *Console) lockedText() string {
	return "This account is locked after too many failed logins. Try again in " + c.effective["lockout_minutes"] + " min."
}

func (c *Console) fullText(limit int) string {
	if c.cfg.Generation == GA {
		return "Already login."
	}
	return fmt.Sprintf("Login refused: all %d web sessions are in use. Log out elsewhere or wait for the auto logout.", limit)
}

func (c *Console) purgeSessions() {
	idle, _ := strconv.Atoi(c.effective["auto_logout"])
	for k, s := range c.sessions {
		if time.Since(s.lastSeen) > time.Duration(idle)*time.Minute {
			delete(c.sessions, k)
		}
	}
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.loginPage(w, "Bad request.")
		return
	}
	f := r.PostForm
	if f.Get("Password") != "" {
		c.held["cleartext_password_seen"] = "yes"
	}
	ch := f.Get("FakeChallenge")
	if c.cfg.Fault == FaultUnknownConsole || !c.takeChallenge(ch) {
		c.loginPage(w, c.refusedText())
		return
	}
	var user string
	var ok bool
	if c.cfg.Generation == GA {
		user = f.Get("Username")
		if a := c.account(user); a != nil && a.active {
			ok = subtle.ConstantTimeCompare([]byte(strings.ToLower(f.Get("MD5Password"))), []byte(GAAnswer(ch, a.password))) == 1
		}
	} else {
		var named bool
		user, named = decodeEncUser(ch, strings.ToLower(f.Get("EncUser")))
		if a := c.account(user); named && a != nil && a.active {
			want, _ := GSecAnswer(ch, a.name, a.password)
			ok = subtle.ConstantTimeCompare([]byte(strings.ToLower(f.Get("EncPasswd"))), []byte(want)) == 1
		}
	}
	switch {
	case c.cfg.Fault == FaultLockout || time.Now().Before(c.lockedTill[user]):
		c.loginPage(w, c.lockedText())
		return
	case c.cfg.Fault == FaultRefuse || !ok:
		c.recordFailure(user, r)
		c.loginPage(w, c.refusedText())
		return
	}
	c.failCount[user] = 0
	c.purgeSessions()
	limit := 1
	if c.cfg.Generation == GSec {
		limit, _ = strconv.Atoi(c.effective["max_users"])
	}
	if c.cfg.Fault == FaultFull || len(c.sessions) >= limit {
		c.loginPage(w, c.fullText(limit))
		return
	}
	token := randomHex(16)
	s := &session{user: user, csrf: randomHex(16), lastSeen: time.Now()}
	c.sessions[token] = s
	c.logEvent("Config", user+": Local Login Success "+r.RemoteAddr)
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(), Value: token, Path: "/", HttpOnly: true})
	switch {
	case c.cfg.Fault == FaultStrangeInterstitial:
		s.pending = "/terms_ack.htm"
	case c.cfg.Generation == GSec && len(c.failures) > 0:
		s.pending = "/fail_history.htm"
	case c.cfg.Generation == GSec && c.account(user).factory:
		s.pending = "/pw_advice.htm"
	}
	if c.cfg.Generation == GA {
		if s.pending != "" {
			c.writeHTML(w, c.interstitial(s))
			return
		}
		c.writeHTML(w, c.frameset())
		return
	}
	target := s.pending
	if target == "" {
		target = "/home.htm"
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// session returns the request's live session, or nil and whether a cookie
// was presented at all.
func (c *Console) session(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil, false
	}
	c.purgeSessions()
	s := c.sessions[ck.Value]
	if s != nil {
		s.lastSeen = time.Now()
	}
	return s, true
}

func (c *Console) interstitial(s *session) string {
	var b strings.Builder
	switch s.pending {
	case "/fail_history.htm":
		b.WriteString(c.head("Login Failure Record"))
		b.WriteString("<p>These login attempts failed since the record was last cleared.</p>\n<table class=\"grid\">\n<tr><th>No</th><th>Time</th><th>Account</th><th>Source IP</th></tr>\n")
		for i, f := range c.failures {
			fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", i+1, f.when, html.EscapeString(f.user), f.from)
		}
		b.WriteString("</table>\n<form name=\"failrec\" method=\"get\" action=\"/action.htm\">\n<input type=\"hidden\" name=\"setfunc\" value=\"clearWebLogAction\">\n")
		fmt.Fprintf(&b, "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n", s.csrf)
		b.WriteString("<input type=\"submit\" name=\"clearLog\" value=\"Clear failure record and continue\">\n<input type=\"submit\" name=\"continue\" value=\"Continue\">\n</form>\n")
	case "/pw_advice.htm":
		b.WriteString(c.head("Default Password"))
		b.WriteString("<p>This account still uses the factory password. Moxa advises replacing it under Administration &gt; Account Management &gt; User Account.</p>\n")
		b.WriteString("<form name=\"pwadvice\" method=\"get\" action=\"/action.htm\">\n<input type=\"hidden\" name=\"setfunc\" value=\"pwAdviceAction\">\n")
		fmt.Fprintf(&b, "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n", s.csrf)
		b.WriteString("<input type=\"submit\" name=\"Skip\" value=\"Skip\">\n</form>\n")
	default: // the strange interstitial
		b.WriteString(c.head("Service Agreement"))
		b.WriteString("<p>Read and accept the service agreement to continue.</p>\n<form name=\"terms\" method=\"get\" action=\"/action.htm\">\n<input type=\"hidden\" name=\"setfunc\" value=\"termsAckAction\">\n")
		if c.cfg.Generation == GSec {
			fmt.Fprintf(&b, "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n", s.csrf)
		}
		b.WriteString("<input type=\"submit\" name=\"agree\" value=\"I Agree\">\n</form>\n")
	}
	b.WriteString(foot)
	return b.String()
}

// interstitialAction answers a button of the interstitial the session is on.
func (c *Console) interstitialAction(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	if c.cfg.Generation == GSec && subtle.ConstantTimeCompare([]byte(q.Get("csrf_token")), []byte(s.csrf)) != 1 {
		c.reply(w, http.StatusForbidden, "Error", "Request rejected: the page token is not valid. Reload the page.", "/")
		return
	}
	fn := q.Get("setfunc")
	switch {
	case s.pending == "/fail_history.htm" && fn == "clearWebLogAction" && q.Has("clearLog"):
		c.failures = nil
		c.logEvent("Config", s.user+": Clear Event Log")
	case s.pending == "/fail_history.htm" && fn == "clearWebLogAction" && q.Has("continue"):
	case s.pending == "/pw_advice.htm" && fn == "pwAdviceAction" && q.Has("Skip"):
	case s.pending == "/terms_ack.htm" && fn == "termsAckAction" && q.Has("agree"):
	default:
		c.reply(w, http.StatusBadRequest, "Error", "Unexpected request for this page.", "/")
		return
	}
	s.pending = ""
	if fn == "clearWebLogAction" && c.account(s.user) != nil && c.account(s.user).factory {
		s.pending = "/pw_advice.htm"
	}
	switch {
	case s.pending != "":
		http.Redirect(w, r, s.pending, http.StatusFound)
	case c.cfg.Generation == GA:
		c.writeHTML(w, c.frameset())
	default:
		http.Redirect(w, r, "/home.htm", http.StatusFound)
	}
}

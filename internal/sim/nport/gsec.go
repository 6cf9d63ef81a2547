package nport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// secUser recovers the user name from a G-sec EncUser: the 32 bytes of
// SHA-256(challenge) with the first len(user) bytes XORed with the name.
func secUser(challenge, encUser string) string {
	b, err := hex.DecodeString(encUser)
	sum := sha256.Sum256([]byte(challenge))
	if err != nil || len(b) != len(sum) {
		return ""
	}
	var name []byte
	for i := range b {
		c := b[i] ^ sum[i]
		if c == 0 {
			break
		}
		name = append(name, c)
	}
	return string(name)
}

// secPasswd is the G-sec password answer: hex SHA-256(user+password+challenge).
func secPasswd(user, pw, challenge string) string {
	sum := sha256.Sum256([]byte(user + pw + challenge))
	return hex.EncodeToString(sum[:])
}

// failRecord is one failed web login the device keeps until it is cleared.
type failRecord struct{ when, user, from string }

// recordFailure keeps a failed web login for the failed-login record page.
func (d *Device) recordFailure(user, from string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.fails) >= 64 {
		d.fails = d.fails[1:]
	}
	d.fails = append(d.fails, failRecord{when: d.cfg.Now().Format("2006-01-02 15:04:05"), user: user, from: from})
}

// afterLogin is where a G-sec login goes next: the failed-login record
// when there are failures the user has not seen, then the default
// password nag when admin still has "moxa", then home.
func (d *Device) afterLogin(user string, failSeen bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !failSeen && len(d.fails) > d.failsSeen {
		return "/failedlog.htm"
	}
	if i := d.effective.account(user); user == "admin" && i >= 0 && d.effective.Accounts[i].Password == "moxa" {
		return "/nag.htm"
	}
	return "/home.htm"
}

// failedLogPage lists the failed logins, with the choice to clear the
// record or to continue.
func (d *Device) failedLogPage(w http.ResponseWriter, token string) {
	d.mu.Lock()
	fails := append([]failRecord(nil), d.fails...)
	d.mu.Unlock()
	var b strings.Builder
	b.WriteString("<html><head><title>Login Failure Record</title></head><body><h2>Login Failure Record</h2>\n")
	b.WriteString("<p>The following failed login attempts were recorded.</p>\n<table>\n<tr><th>Time</th><th>Account</th><th>From</th></tr>\n")
	for _, f := range fails {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", html.EscapeString(f.when), html.EscapeString(f.user), html.EscapeString(f.from))
	}
	fmt.Fprintf(&b, `</table>
<form name="weblog" method="get" action="/action.htm">
<input type="hidden" name="setfunc" value="clearWebLogAction">
<input type="hidden" name="csrf_token" value="%s">
<input type="submit" name="clearLog" value="Clear failure record and continue">
<input type="submit" name="continue" value="Continue">
</form></body></html>
`, token)
	fmt.Fprint(w, b.String())
}

// nagPage reminds the user to change the default password.
func (d *Device) nagPage(w http.ResponseWriter, token string) {
	fmt.Fprintf(w, `<html><head><title>Change Password</title></head><body><h2>Change Password</h2>
<p>You are using the default password. Please change it to protect this device.</p>
<form name="nag" method="get" action="/action.htm">
<input type="hidden" name="setfunc" value="skipDefaultPwd">
<input type="hidden" name="csrf_token" value="%s">
<input type="submit" name="skip" value="Skip">
<input type="submit" name="chpwd" value="Change Password">
</form></body></html>
`, token)
}

// action answers the interstitials' buttons (GET, with csrf_token).
func (d *Device) action(w http.ResponseWriter, r *http.Request, user, token string) {
	q := r.URL.Query()
	if q.Get("csrf_token") != token {
		http.Error(w, "Invalid or missing csrf_token", http.StatusForbidden)
		return
	}
	switch q.Get("setfunc") {
	case "clearWebLogAction":
		d.mu.Lock()
		if q.Get("clearLog") != "" {
			d.fails = nil
			d.logLocked("Config", printableName(user)+": Clear Event Log")
		}
		d.failsSeen = len(d.fails)
		d.mu.Unlock()
		http.Redirect(w, r, d.afterLogin(user, true), http.StatusFound)
	case "skipDefaultPwd":
		if q.Get("chpwd") != "" {
			http.Redirect(w, r, "/accounts.htm", http.StatusFound)
			return
		}
		http.Redirect(w, r, "/home.htm", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// FailedLogins returns the failed-login record the console keeps (G-sec).
func (d *Device) FailedLogins() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.fails)
}

// accountToolbar is the G-sec User Account toolbar: a row is selected
// (selAcc), then Add, Edit or Delete acts on it.
func (d *Device) accountToolbar(w http.ResponseWriter, r *http.Request, user, token string) {
	q := r.URL.Query()
	name := q.Get("selAcc")
	switch {
	case q.Get("add") != "":
		d.renderAccount(w, true, "", token, "")
	case q.Get("edit") != "":
		if d.Saved().account(name) < 0 {
			d.accountsPage(w, token, "Select an account first")
			return
		}
		d.renderAccount(w, false, name, token, "")
	case q.Get("delete") != "":
		if d.dropSubmit(w) {
			return
		}
		msg := d.checkSubmit(r, user, token)
		if msg == "" {
			d.mu.Lock()
			s := d.saved.clone()
			var logMsg string
			if msg, logMsg = deleteAccount(&s, name); msg == "" {
				d.saved = s
				d.logLocked("Config", printableName(user)+": "+logMsg)
			}
			d.mu.Unlock()
		}
		if msg == "" && !d.saveState(w) {
			return
		}
		d.accountsPage(w, token, msg)
	default:
		http.Redirect(w, r, "/accounts.htm", http.StatusFound)
	}
}

// accountEditURL is the edit form's action for name.
func accountEditURL(name string) string {
	return "/account_edit.htm?" + url.Values{"name": {name}}.Encode()
}

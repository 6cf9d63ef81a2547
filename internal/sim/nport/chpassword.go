package nport

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// chPassword is the GA console's own-password page, ChPassword.htm, as
// public code run against real units drives it (NSLS-II/ipchange): a
// POST whose visible inputs (old_passwd, passwd, conf_passwd) the page
// script empties, with pwd = hex MD5(old password) and newpwd = MD5(old
// password) with its first bytes XORed with the new password, all 16
// bytes as hex. The new password is saved; it takes effect at
// Save/Restart. Public code sends no anti-CSRF token here, and the old
// password's hash is the check.
func (d *Device) chPassword(w http.ResponseWriter, r *http.Request, user string) {
	if r.Method != http.MethodPost {
		d.renderChPassword(w, "", "")
		return
	}
	if d.dropSubmit(w) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	msg := ""
	if f.Get("old_passwd") != "" || f.Get("passwd") != "" || f.Get("conf_passwd") != "" {
		msg = "The password fields must be sent empty (the page script encodes them)."
	}
	d.mu.Lock()
	s := d.saved.clone()
	i := s.account(user)
	if msg == "" && i < 0 {
		msg = "No such account"
	}
	var pw string
	if msg == "" {
		old := s.Accounts[i].Password
		sum := md5.Sum([]byte(old))
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(f.Get("pwd")))) != 1 {
			msg = "Old password is incorrect"
		} else if pw, msg = decodeNewPassword(sum, f.Get("newpwd")); msg == "" {
			msg = d.effective.Policy.checkPassword(pw)
		}
	}
	if msg == "" {
		s.Accounts[i].Password = pw
		d.saved = s
		d.logLocked("Config", printableName(user)+": Password Changed")
	}
	d.mu.Unlock()
	if msg != "" {
		d.renderChPassword(w, msg, "")
		return
	}
	if !d.saveState(w) {
		return
	}
	d.renderChPassword(w, "", savedMsg)
}

// decodeNewPassword undoes the newpwd encoding: the new password is the
// bytes of newpwd XOR key up to the first zero (the filled bytes equal
// the key). It returns a message for the page when newpwd is malformed.
func decodeNewPassword(key [16]byte, newpwd string) (string, string) {
	b, err := hex.DecodeString(newpwd)
	if err != nil || len(b) != len(key) {
		return "", "The new password is not encoded as this page's script does."
	}
	n := 0
	for n < len(b) && b[n]^key[n] != 0 {
		n++
	}
	out := make([]byte, n)
	for i := range n {
		out[i] = b[i] ^ key[i]
	}
	for i := n; i < len(b); i++ {
		if b[i] != key[i] { // past the password every byte is the key's
			return "", "The new password is not encoded as this page's script does."
		}
	}
	return string(out), ""
}

func (d *Device) renderChPassword(w http.ResponseWriter, errMsg, okMsg string) {
	var b strings.Builder
	b.WriteString("<html><head><title>Change Password</title></head><body><h2>Change Password</h2>\n")
	if errMsg != "" {
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", html.EscapeString(errMsg))
	}
	if okMsg != "" {
		fmt.Fprintf(&b, "<div class=\"ok\">%s</div>\n", html.EscapeString(okMsg))
	}
	b.WriteString(`<form name="chpw" method="post" action="/ChPassword.htm" onsubmit="return SetPwd(this)">
<table>
<tr><td>Old password</td><td><input type="password" name="old_passwd" maxlength="16"></td></tr>
<tr><td>New password</td><td><input type="password" name="passwd" maxlength="16"></td></tr>
<tr><td>Confirm password</td><td><input type="password" name="conf_passwd" maxlength="16"></td></tr>
</table>
<input type="hidden" name="pwd" value="">
<input type="hidden" name="newpwd" value="">
<input type="submit" name="Submit" value="Submit">
</form></body></html>
`)
	fmt.Fprint(w, b.String())
}

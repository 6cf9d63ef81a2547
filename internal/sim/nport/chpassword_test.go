package nport

import (
	"crypto/md5"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// ipchangeNewPwd is the newpwd of NSLS-II/ipchange's change_passwd: MD5
// of the old password, its first bytes XORed with the new password's
// ASCII codes, all 16 bytes as hex.
func ipchangeNewPwd(old, nw string) string {
	sum := md5.Sum([]byte(old))
	for i := 0; i < len(nw); i++ {
		sum[i] ^= nw[i]
	}
	return hex.EncodeToString(sum[:])
}

// TestGAChPasswordAsIpchangeSendsIt posts ChPassword.htm the way public
// code run against real GA units does, then Save/Restart: the new
// password logs in, the old one is refused; a wrong old hash is refused.
func TestGAChPasswordAsIpchangeSendsIt(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	if body := w.login("admin", "moxa"); strings.Contains(body, "Login failed") {
		t.Fatal("factory login refused")
	}
	if page := w.get("/ChPassword.htm"); !strings.Contains(page, `name="newpwd"`) || !strings.Contains(page, `method="post"`) {
		t.Fatalf("ChPassword page: %s", page)
	}
	oldHash := md5.Sum([]byte("moxa"))
	f := url.Values{"old_passwd": {""}, "passwd": {""}, "conf_passwd": {""}, "pwd": {hex.EncodeToString(oldHash[:])},
		"newpwd": {ipchangeNewPwd("moxa", "Fresh#Pass9")}, "Submit": {"Submit"}}
	bad := url.Values{}
	for k, v := range f {
		bad[k] = v
	}
	bad.Set("pwd", hex.EncodeToString(md5.New().Sum(nil)))
	if body, err := w.post("/ChPassword.htm", bad); err != nil || errorDiv(body) != "Old password is incorrect" {
		t.Fatalf("wrong old hash: %v %q", err, errorDiv(body))
	}
	body, err := w.post("/ChPassword.htm", f)
	if err != nil || !strings.Contains(body, savedMsg) {
		t.Fatalf("change: %v %q", err, errorDiv(body))
	}
	if s := d.Saved(); s.Accounts[0].Password != "Fresh#Pass9" {
		t.Fatalf("saved %q", s.Accounts[0].Password)
	}
	w.saveRestart(d)
	if body := newWeb(t, d, SvcHTTP, nil).login("admin", "moxa"); !strings.Contains(body, "Login failed") {
		t.Fatal("the old password still logs in after the restart")
	}
	if body := newWeb(t, d, SvcHTTP, nil).login("admin", "Fresh#Pass9"); strings.Contains(body, "Login failed") || !strings.Contains(body, "frameset") {
		t.Fatalf("the new password does not log in: %s", body)
	}
}

// TestNoSessionCookie: the console answers a good login without a cookie.
func TestNoSessionCookie(t *testing.T) {
	for _, nc := range []bool{false, true} {
		d := start(t, Config{NoSessionCookie: nc})
		w := newWeb(t, d, SvcHTTP, nil)
		w.login("admin", "moxa")
		u, _ := url.Parse(w.base)
		if got := len(w.c.Jar.Cookies(u)) > 0; got == nc {
			t.Fatalf("NoSessionCookie %v: cookie set %v", nc, got)
		}
	}
}

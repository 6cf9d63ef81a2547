package second

import (
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ---- a small browser for the tests ----

type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, hc: &http.Client{
		Jar: jar, Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}},
	}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, v url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(v.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var challengeRE = regexp.MustCompile(`name="FakeChallenge" value="([0-9A-Fa-f]+)"`)

func challenge(t *testing.T, page string) string {
	t.Helper()
	m := challengeRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no FakeChallenge in login page:\n%s", page)
	}
	return m[1]
}

// login fills in the login form the way the page's script would.
func (b *browser) login(gen Generation, user, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/")
	ch := challenge(b.t, page)
	v := url.Values{"FakeChallenge": {ch}}
	if gen == GA {
		v.Set("Username", user)
		v.Set("Password", "")
		v.Set("MD5Password", GAAnswer(ch, password))
		v.Set("Submit.x", "17")
		v.Set("Submit.y", "9")
	} else {
		p, u := GSecAnswer(ch, user, password)
		v.Set("EncPasswd", p)
		v.Set("EncUser", u)
	}
	return b.post("/", v)
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	radioRE  = regexp.MustCompile(`<input type="radio" name="([^"]+)" value="([^"]*)" checked>`)
	checkRE  = regexp.MustCompile(`<input type="checkbox" name="([^"]+)" value="([^"]*)" checked>`)
	selectRE = regexp.MustCompile(`<select name="([^"]+)">(.*?)</select>`)
	optSelRE = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	textRE   = regexp.MustCompile(`inputText(?:Ex)?\("([^"]+)", \d+, "([^"]*)"`)
	passRE   = regexp.MustCompile(`<input type="password" name="([^"]+)"`)
	actionRE = regexp.MustCompile(`<form name="[^"]*" method="get" action="([^"]+)">`)
)

// form collects what a browser would submit for the page's form.
func form(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	a := actionRE.FindStringSubmatch(page)
	if a == nil {
		t.Fatalf("no GET form in page:\n%s", page)
	}
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	for _, m := range radioRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	for _, m := range checkRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	for _, m := range selectRE.FindAllStringSubmatch(page, -1) {
		if o := optSelRE.FindStringSubmatch(m[2]); o != nil {
			v.Set(m[1], o[1])
		}
	}
	for _, m := range textRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	for _, m := range passRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], "")
	}
	return a[1], v
}

func start(t *testing.T, cfg Config) *Console {
	t.Helper()
	c, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

// gsecHome logs in on G-sec and passes the interstitials by their
// non-destructive buttons.
func gsecHome(t *testing.T, b *browser, user, pw string) string {
	t.Helper()
	resp, body := b.login(GSec, user, pw)
	for i := 0; i < 3 && resp.Request.URL.Path != "/home.htm"; i++ {
		action, v := form(t, body)
		switch v.Get("setfunc") {
		case "clearWebLogAction":
			v.Set("continue", "Continue")
		case "pwAdviceAction":
			v.Set("Skip", "Skip")
		default:
			t.Fatalf("unexpected interstitial %s:\n%s", resp.Request.URL, body)
		}
		resp, body = b.get(action + "?" + v.Encode())
	}
	if resp.Request.URL.Path != "/home.htm" {
		t.Fatalf("did not reach home: %s\n%s", resp.Request.URL, body)
	}
	return body
}

// ---- answers ----

func TestGAAnswerIsMD5XOR(t *testing.T) {
	sum := md5.Sum([]byte("0A1B2C3D"))
	got, err := hex.DecodeString(GAAnswer("0A1B2C3D", "moxa"))
	if err != nil || len(got) != 4 {
		t.Fatalf("answer %x, %v: want 4 bytes", got, err)
	}
	for i, ch := range []byte("moxa") {
		if got[i]^sum[i] != ch {
			t.Fatalf("byte %d: %x XOR %x is not %q", i, got[i], sum[i], ch)
		}
	}
}

func TestGSecAnswerRoundTrip(t *testing.T) {
	ch := strings.Repeat("ab12", 16)
	p, u := GSecAnswer(ch, "admin", "moxa")
	if len(p) != 64 || len(u) != 64 {
		t.Fatalf("lengths %d/%d, want 64 hex each", len(p), len(u))
	}
	if name, ok := decodeEncUser(ch, u); !ok || name != "admin" {
		t.Fatalf("decoded %q %v", name, ok)
	}
	p2, _ := GSecAnswer(ch, "admin", "moxb")
	if p2 == p {
		t.Fatal("password does not enter EncPasswd")
	}
}

// ---- GA ----

func TestGALoginFramesetAndIdentity_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA})
	b := newBrowser(t, c.URL())
	resp, page := b.get("/")
	if resp.Header.Get("Server") != "MoxaHttp/2.2" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("server %q proto %q", resp.Header.Get("Server"), resp.Proto)
	}
	mustContain(t, page, "<title>NPort Web Console</title>", `name="Username"`, `name="Password"`, `name="MD5Password"`, `type="hidden" name="FakeChallenge"`)

	_, body := b.login(GA, "admin", "moxa")
	mustContain(t, body, `<frame name="navpane" src="/navtree.htm"`, `<frame name="workpane"`)
	if b.cookie("ConsoleTicket") == "" {
		t.Fatal("no session cookie after a good login")
	}
	_, nav := b.get("/navtree.htm")
	mustContain(t, nav, `href="/sysinfo.htm"`, ">Console Settings<", ">Operation Modes<", ">User Account<", `href="/LogoutAct.htm"`)
	_, ov := b.get("/sysinfo.htm")
	mustContain(t, ov, `set("modelname","NPort 5150A");`, `set("mac","00:90:E8:5A:0C:21");`, `set("serialno","4711");`, `set("ver","1.4 Build 17030709");`, ">Model Name<")
	if strings.Contains(ov, "NPort 5150A</td>") {
		t.Fatal("identity must be written by script, not static")
	}
}

func TestGAWrongPasswordRefusedWithoutCookie_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA})
	b := newBrowser(t, c.URL())
	_, body := b.login(GA, "admin", "wrong")
	if b.cookie("ConsoleTicket") != "" {
		t.Fatal("cookie set for a wrong password")
	}
	mustContain(t, body, "FakeChallenge", "Login failed")
	// A challenge works once: replaying the same one is refused.
	_, page := b.get("/")
	ch := challenge(t, page)
	v := url.Values{"FakeChallenge": {ch}, "Username": {"admin"}, "Password": {""}, "MD5Password": {GAAnswer(ch, "moxa")}}
	b.post("/", v)
	b2 := newBrowser(t, c.URL())
	b2.post("/", v)
	if b2.cookie("ConsoleTicket") != "" {
		t.Fatal("a replayed challenge was accepted")
	}
}

func TestGASecondSessionAlreadyLoginAndLogout307_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA})
	a := newBrowser(t, c.URL())
	a.login(GA, "admin", "moxa")
	b := newBrowser(t, c.URL())
	_, body := b.login(GA, "admin", "moxa")
	mustContain(t, body, "Already login.")
	if b.cookie("ConsoleTicket") != "" {
		t.Fatal("second session got a cookie")
	}
	a.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := a.get("/LogoutAct.htm")
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("logout status %d, want 307", resp.StatusCode)
	}
	b.login(GA, "admin", "moxa")
	if b.cookie("ConsoleTicket") == "" {
		t.Fatal("login after logout failed")
	}
}

func TestGASubmitByGETChangesHeldState_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA})
	b := newBrowser(t, c.URL())
	b.login(GA, "admin", "moxa")
	_, page := b.get("/cfg_console.htm")
	mustContain(t, page, ">Telnet console<", `inputText("c_maxu", 1, "6")`)
	action, v := form(t, page)
	if action != "/setup.htm" || v.Get("setfunc") != "consoleCfg" || v.Has("csrf_token") {
		t.Fatalf("form action %q values %v", action, v)
	}
	v.Set("c_tn", "0")
	v.Set("c_maxu", "3")
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "Stored. The unit applies it after Save/Restart.")
	s := c.Settings()
	if s["telnet"] != "disable" || s["max_users"] != "3" || s["pending"] != "yes" {
		t.Fatalf("settings after submit: telnet=%q max_users=%q pending=%q", s["telnet"], s["max_users"], s["pending"])
	}
	_, again := b.get("/cfg_console.htm")
	mustContain(t, again, `name="c_tn" value="0" checked`, `inputText("c_maxu", 1, "3")`)
	if s["cleartext_password_seen"] != "" {
		t.Fatal("the GA login sent no clear password, but the console saw one")
	}
}

// ---- G-sec ----

func TestGSecLoginPageAndNag_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	_, page := b.get("/")
	mustContain(t, page, `name="EncPasswd"`, `name="EncUser"`, `name="Username"`, `name="Password"`)
	if ch := challenge(t, page); len(ch) < 32 {
		t.Fatalf("challenge %d hex, want >= 32", len(ch))
	}
	resp, body := b.login(GSec, "admin", "moxa")
	if resp.Request.URL.Path != "/pw_advice.htm" {
		t.Fatalf("after login at %s, want the default-password page", resp.Request.URL)
	}
	mustContain(t, body, `name="Skip"`, "factory password")
	// Every other page sends the session back to the nag until it is answered.
	r2, _ := b.get("/sysinfo.htm")
	if r2.Request.URL.Path != "/pw_advice.htm" {
		t.Fatalf("page before Skip served at %s", r2.Request.URL)
	}
	home := gsecHome(t, newBrowserLogout(t, b, c), "admin", "moxa")
	mustContain(t, home, `<iframe name="pageview" src="/sysinfo.htm"`, `href="/adm_users.htm" target="pageview"`, `href="/signout.htm"`)
}

// newBrowserLogout logs b out and returns it for a fresh login.
func newBrowserLogout(t *testing.T, b *browser, c *Console) *browser {
	t.Helper()
	b.get("/signout.htm")
	if c.Settings()["sessions"] != "0" {
		t.Fatalf("sessions after logout: %s", c.Settings()["sessions"])
	}
	return b
}

func TestGSecFailedLoginRecordInterstitial_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec, FailedLogins: 2})
	b := newBrowser(t, c.URL())
	b.login(GSec, "admin", "nope") // a third failure, recorded now
	if c.Settings()["cleartext_password_seen"] != "" {
		t.Fatal("clear password flagged without one")
	}
	resp, body := b.login(GSec, "admin", "moxa")
	if resp.Request.URL.Path != "/fail_history.htm" {
		t.Fatalf("after login at %s, want the failure record", resp.Request.URL)
	}
	mustContain(t, body, `name="setfunc" value="clearWebLogAction"`, `name="csrf_token"`, `name="clearLog"`, `name="continue"`, "192.168.127.250", "127.0.0.1")
	if n := strings.Count(body, "<tr><td>"); n != 3 {
		t.Fatalf("%d failure rows, want 3", n)
	}
	action, v := form(t, body)
	if action != "/action.htm" {
		t.Fatalf("action %q", action)
	}
	// Without the CSRF token the answer is refused and nothing moves.
	bad := url.Values{"setfunc": {"clearWebLogAction"}, "clearLog": {"x"}}
	r403, _ := b.get(action + "?" + bad.Encode())
	if r403.StatusCode != http.StatusForbidden || c.Settings()["failed_logins"] != "3" {
		t.Fatalf("tokenless clear: status %d, failures %s", r403.StatusCode, c.Settings()["failed_logins"])
	}
	v.Set("continue", "Continue")
	resp, _ = b.get(action + "?" + v.Encode())
	if resp.Request.URL.Path != "/pw_advice.htm" || c.Settings()["failed_logins"] != "3" {
		t.Fatalf("continue: at %s, failures %s (must be kept)", resp.Request.URL, c.Settings()["failed_logins"])
	}
	// The record is shown again at the next login; clearLog empties it.
	b.get("/signout.htm")
	_, body = b.login(GSec, "admin", "moxa")
	_, v = form(t, body)
	v.Set("clearLog", "Clear failure record and continue")
	b.get("/action.htm?" + v.Encode())
	if c.Settings()["failed_logins"] != "0" {
		t.Fatal("clearLog did not clear the record")
	}
}

func TestGSecSubmitNeedsCSRFAndGET_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec, HTTPS: true})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/adm_snmp.htm")
	mustContain(t, page, ">Read community string<", `inputTextEx("ag_rcom", 20, "public", 31)`, `name="ag_v1" value="yes" checked`)
	action, v := form(t, page)
	if action != "/cfgsubmit.htm" || v.Get("csrf_token") == "" {
		t.Fatalf("action %q csrf %q", action, v.Get("csrf_token"))
	}
	v.Set("ag_on", "0")
	v.Set("ag_rcom", "s1te-ro")
	v.Del("ag_v1") // unchecked

	noTok := url.Values{}
	for k, x := range v {
		noTok[k] = x
	}
	noTok.Del("csrf_token")
	if r, _ := b.get(action + "?" + noTok.Encode()); r.StatusCode != http.StatusForbidden {
		t.Fatalf("no token: status %d", r.StatusCode)
	}
	if r, _ := b.post(action, v); r.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to a GET form: status %d", r.StatusCode)
	}
	missing := url.Values{}
	for k, x := range v {
		missing[k] = x
	}
	missing.Del("ag_roa")
	_, body := b.get(action + "?" + missing.Encode())
	mustContain(t, body, "Not saved:", "Read only authentication mode")
	if c.Settings()["snmp"] != "enable" {
		t.Fatal("a rejected submit changed state")
	}
	_, body = b.get(action + "?" + v.Encode())
	mustContain(t, body, "Change recorded; it takes effect after Save/Restart.")
	s := c.Settings()
	if s["snmp"] != "disable" || s["snmp_read_community"] != "s1te-ro" || s["snmp_v1"] != "off" || s["snmp_v2"] != "on" {
		t.Fatalf("snmp=%q rcom=%q v1=%q v2=%q", s["snmp"], s["snmp_read_community"], s["snmp_v1"], s["snmp_v2"])
	}
}

func TestGSecSaveRestartAppliesConsoleEnables_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec, HTTPS: true})
	b := newBrowser(t, c.HTTPSURL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/cfg_console.htm")
	action, v := form(t, page)
	v.Set("c_web", "0")
	b.get(action + "?" + v.Encode())
	// Still served over HTTP until Save/Restart.
	if r, _ := newBrowser(t, c.URL()).get("/"); r.StatusCode != http.StatusOK {
		t.Fatalf("http before restart: %d", r.StatusCode)
	}
	_, page = b.get("/sys_restart.htm")
	action, v = form(t, page)
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "The unit is restarting with the stored configuration.")
	s := c.Settings()
	if s["restarts"] != "1" || s["pending"] != "no" || s["sessions"] != "0" {
		t.Fatalf("restarts=%s pending=%s sessions=%s", s["restarts"], s["pending"], s["sessions"])
	}
	if _, err := newBrowser(t, c.URL()).hc.Get(c.URL() + "/"); err == nil {
		t.Fatal("HTTP still answers after it was disabled and the unit restarted")
	}
	r, body := b.get("/sysinfo.htm")
	if !strings.Contains(body, "Session Expired") || r.TLS == nil || r.TLS.Version != tls.VersionTLS12 {
		t.Fatalf("after restart: tls %v, page:\n%s", r.TLS, body)
	}
	if alg := r.TLS.PeerCertificates[0].PublicKeyAlgorithm; alg != x509.RSA {
		t.Fatalf("certificate key %v, want RSA", alg)
	}
	// TLS 1.0/1.1 are refused while their row says Disable.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(c.HTTPSURL() + "/"); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestGSecUserAccountRowEditChangesPassword_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/adm_users.htm")
	mustContain(t, page, `name="acsel" value="1"`, `value="Add"`, `value="Edit"`, `value="Delete"`, ">admin<", ">Read Write<")
	action, v := form(t, page)
	v.Set("op", "Edit")
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "Select an account row first.")
	v.Set("acsel", "1")
	resp, edit := b.get(action + "?" + v.Encode())
	if resp.Request.URL.Path != "/adm_user_edit.htm" {
		t.Fatalf("edit at %s", resp.Request.URL)
	}
	mustContain(t, edit, ">Change Password<", ">Confirm Password<", `inputText("ue_name", 16, "admin")`)
	action, v = form(t, edit)
	v.Set("ue_chg", "yes")
	v.Set("ue_pw1", "Str0ng-pass!")
	v.Set("ue_pw2", "Str0ng-pass!x")
	_, body = b.get(action + "?" + v.Encode())
	mustContain(t, body, "Not saved:")
	v.Set("ue_pw2", "Str0ng-pass!")
	b.get(action + "?" + v.Encode())
	if !c.PasswordIs("admin", "Str0ng-pass!") || c.Settings()["account.1.factory_password"] != "no" {
		t.Fatal("password not changed")
	}
	b.get("/signout.htm")
	resp, _ = b.login(GSec, "admin", "Str0ng-pass!")
	if resp.Request.URL.Path != "/home.htm" {
		t.Fatalf("with a non-factory password, login lands at %s, want home", resp.Request.URL)
	}
}

func TestGSecUserAddAndDelete_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/adm_user_add.htm")
	action, v := form(t, page)
	v.Set("ua_name", "tech1")
	v.Set("ua_pw1", "abcd1234")
	v.Set("ua_pw2", "abcd1234")
	v.Set("ua_lvl", "rw")
	b.get(action + "?" + v.Encode())
	if s := c.Settings(); s["account.2.name"] != "tech1" || s["account.2.level"] != "Read Write" {
		t.Fatalf("added account: %q %q", s["account.2.name"], s["account.2.level"])
	}
	_, page = b.get("/adm_users.htm")
	action, v = form(t, page)
	v.Set("op", "Delete")
	v.Set("acsel", "1")
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "the account in use cannot be deleted")
	v.Set("acsel", "2")
	b.get(action + "?" + v.Encode())
	if _, ok := c.Settings()["account.2.name"]; ok {
		t.Fatal("account not deleted")
	}
}

func TestGSecLockoutPolicyAfterRestart_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/adm_pwpolicy.htm")
	mustContain(t, page, ">Account login failure lockout<", ">Retry failure threshold<", ">Lockout Time<")
	action, v := form(t, page)
	v.Set("pp_lock", "1")
	v.Set("pp_try", "2")
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "Change recorded")
	_, page = b.get("/sys_restart.htm")
	action, v = form(t, page)
	b.get(action + "?" + v.Encode())
	b.login(GSec, "admin", "x1")
	b.login(GSec, "admin", "x2")
	_, body = b.login(GSec, "admin", "moxa")
	mustContain(t, body, "locked")
	if c.Settings()["sessions"] != "0" {
		t.Fatal("a locked account logged in")
	}
}

func TestAccessibleIPListDropsOtherHosts_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA})
	b := newBrowser(t, c.URL())
	b.login(GA, "admin", "moxa")
	_, page := b.get("/sec_acl.htm")
	mustContain(t, page, ">Activate the rule<", ">IP Address<", ">Netmask<")
	action, v := form(t, page)
	v.Set("acl_on", "yes")
	v.Set("r1_on", "yes")
	_, body := b.get(action + "?" + v.Encode())
	mustContain(t, body, "Not saved:", "rule 1")
	v.Set("r1_ip", "10.0.0.0")
	v.Set("r1_nm", "255.0.0.0")
	b.get(action + "?" + v.Encode())
	if s := c.Settings(); s["acl"] != "on" || s["acl.1.ip"] != "10.0.0.0" {
		t.Fatalf("acl=%q ip=%q", s["acl"], s["acl.1.ip"])
	}
	_, page = b.get("/sys_restart.htm")
	action, v = form(t, page)
	b.get(action + "?" + v.Encode())
	if _, err := newBrowser(t, c.URL()).hc.Get(c.URL() + "/"); err == nil {
		t.Fatal("a host outside the list was served")
	}
}

func TestSerialPortFoldersAndTimeServerRow_Simulator(t *testing.T) {
	small := start(t, Config{Generation: GA, Model: "NPort 5250A"})
	b := newBrowser(t, small.URL())
	b.login(GA, "admin", "moxa")
	_, nav := b.get("/navtree.htm")
	mustContain(t, nav, ">Port 1<", ">Port 2<", `href="/port_mode.htm?sp=2"`)
	_, tpage := b.get("/cfg_time.htm")
	if strings.Contains(tpage, "Time server") {
		t.Fatal("5200A series shows a Time server row")
	}
	_, pm := b.get("/port_mode.htm?sp=2")
	mustContain(t, pm, ">Operation mode<", `<option value="rc" selected>Real COM</option>`, ">Disable<")
	action, v := form(t, pm)
	v.Set("pm_mode", "off")
	b.get(action + "?" + v.Encode())
	if s := small.Settings(); s["port.2.mode"] != "Disable" || s["port.1.mode"] != "Real COM" {
		t.Fatalf("port modes %q %q", s["port.1.mode"], s["port.2.mode"])
	}
	big := start(t, Config{Generation: GA, Model: "NPort 5450"})
	b2 := newBrowser(t, big.URL())
	b2.login(GA, "admin", "moxa")
	_, tpage = b2.get("/cfg_time.htm")
	mustContain(t, tpage, ">Time server<")
}

func TestFactoryDefaults(t *testing.T) {
	c := start(t, Config{Generation: GSec, HTTPS: true})
	s := c.Settings()
	want := map[string]string{"http": "enable", "https": "enable", "telnet": "enable", "snmp": "enable", "snmp_read_community": "public",
		"lockout": "disable", "acl": "off", "max_users": "6", "auto_logout": "5", "syslog_server": "", "port.1.mode": "Real COM",
		"account.1.name": "admin", "account.1.factory_password": "yes", "moxa_service": "enable"}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %q, want %q", k, s[k], v)
		}
	}
}

// ---- faults ----

func TestFaultLoginsAnswerClearly_Simulator(t *testing.T) {
	cases := []struct {
		gen   Generation
		fault string
		want  string
	}{
		{GA, FaultRefuse, "Login failed"},
		{GSec, FaultRefuse, "Authentication failed."},
		{GA, FaultLockout, "locked"},
		{GSec, FaultLockout, "locked"},
		{GA, FaultFull, "Already login."},
		{GSec, FaultFull, "all 6 web sessions are in use"},
	}
	for _, tc := range cases {
		t.Run(string(tc.gen)+"-"+tc.fault, func(t *testing.T) {
			c := start(t, Config{Generation: tc.gen, Fault: tc.fault})
			b := newBrowser(t, c.URL())
			_, body := b.login(tc.gen, "admin", "moxa")
			mustContain(t, body, tc.want, "FakeChallenge")
			if c.Settings()["sessions"] != "0" {
				t.Fatal("a session was opened")
			}
		})
	}
}

func TestFaultStrangeInterstitial_Simulator(t *testing.T) {
	for _, gen := range []Generation{GA, GSec} {
		c := start(t, Config{Generation: gen, Fault: FaultStrangeInterstitial})
		b := newBrowser(t, c.URL())
		_, body := b.login(gen, "admin", "moxa")
		mustContain(t, body, `value="termsAckAction"`, "I Agree")
		r, _ := b.get("/sysinfo.htm")
		if r.Request.URL.Path != "/terms_ack.htm" {
			t.Fatalf("%s: page served past the interstitial at %s", gen, r.Request.URL)
		}
	}
}

func TestFaultMissingControl_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec, Fault: FaultMissingControl})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	_, page := b.get("/cfg_console.htm")
	if strings.Contains(page, "Telnet console") || !strings.Contains(page, "HTTP console") {
		t.Fatalf("console page:\n%s", page)
	}
}

func TestFaultUnknownConsole_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GA, Fault: FaultUnknownConsole})
	b := newBrowser(t, c.URL())
	resp, page := b.get("/")
	if strings.Contains(page, "FakeChallenge") || strings.Contains(page, "EncPasswd") || resp.Header.Get("Server") == "MoxaHttp/2.2" {
		t.Fatalf("unknown console looks known: %s\n%s", resp.Header.Get("Server"), page)
	}
	mustContain(t, page, "AuthCode")
}

func TestSessionExpiredText_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	gsecHome(t, b, "admin", "moxa")
	c.mu.Lock()
	c.sessions = map[string]*session{}
	c.mu.Unlock()
	_, body := b.get("/sysinfo.htm")
	mustContain(t, body, "Session Expired")
}

func TestStartRejectsUnknownConfig(t *testing.T) {
	if _, err := Start(Config{Generation: "g1"}); err == nil {
		t.Fatal("unknown generation accepted")
	}
	if _, err := Start(Config{Fault: "boom"}); err == nil {
		t.Fatal("unknown fault accepted")
	}
}

func TestClearPasswordInLoginIsFlagged_Simulator(t *testing.T) {
	c := start(t, Config{Generation: GSec})
	b := newBrowser(t, c.URL())
	_, page := b.get("/")
	ch := challenge(t, page)
	p, u := GSecAnswer(ch, "admin", "moxa")
	b.post("/", url.Values{"FakeChallenge": {ch}, "EncPasswd": {p}, "EncUser": {u}, "Username": {"admin"}, "Password": {"moxa"}})
	if c.Settings()["cleartext_password_seen"] != "yes" {
		t.Fatal("a login carrying the clear password was not flagged")
	}
}

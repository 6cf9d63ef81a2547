package nport

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is an injectable clock for lockout tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, cfg Config) *Device {
	t.Helper()
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = 50 * time.Millisecond
	}
	d, err := Start(cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// web is a browser-like client of the web console.
type web struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newWeb(t *testing.T, d *Device, svc string, tc *tls.Config) *web {
	jar, _ := cookiejar.New(nil)
	if tc == nil {
		tc = &tls.Config{InsecureSkipVerify: true}
	}
	tr := &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	scheme := "http"
	if svc == SvcHTTPS {
		scheme = "https"
	}
	return &web{t: t, base: scheme + "://" + d.Addr(svc), c: &http.Client{Jar: jar, Transport: tr, Timeout: 5 * time.Second}}
}

func (w *web) get(path string) string {
	w.t.Helper()
	resp, err := w.c.Get(w.base + path)
	if err != nil {
		w.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (w *web) post(path string, f url.Values) (string, error) {
	resp, err := w.c.PostForm(w.base+path, f)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

var (
	reChallenge = regexp.MustCompile(`(?i)name="?FakeChallenge"? value="?([0-9A-F]+)"?`)
	reToken     = regexp.MustCompile(`name="(?:token_text|csrf_token)" value="([0-9a-f]+)"`)
	reSetfunc   = regexp.MustCompile(`name="setfunc" value="([^"]+)"`)
)

func (w *web) login(user, pw string) string {
	w.t.Helper()
	page := w.get("/")
	m := reChallenge.FindStringSubmatch(page)
	if m == nil {
		w.t.Fatalf("no FakeChallenge on login page: %s", page)
	}
	body, err := w.post("/", url.Values{"Username": {user}, "Password": {""},
		"MD5Password": {challengeResponse(m[1], pw)}, "FakeChallenge": {m[1]}})
	if err != nil {
		w.t.Fatalf("login: %v", err)
	}
	return body
}

// submit posts form f to a settings page with the page's token.
func (w *web) submit(path string, f url.Values) (string, error) {
	w.t.Helper()
	page := w.get(path)
	m := reToken.FindStringSubmatch(page)
	if m == nil {
		w.t.Fatalf("no token on %s", path)
	}
	f.Set("token_text", m[1])
	f.Set("Submit", "Submit")
	if sf := reSetfunc.FindStringSubmatch(page); sf != nil {
		f.Set("setfunc", sf[1])
	}
	return w.post(path, f)
}

func (w *web) mustSubmit(path string, f url.Values) string {
	w.t.Helper()
	body, err := w.submit(path, f)
	if err != nil {
		w.t.Fatalf("submit %s: %v", path, err)
	}
	if !strings.Contains(body, savedMsg) && !strings.Contains(body, "Settings OK!") {
		w.t.Fatalf("submit %s refused: %s", path, errorDiv(body))
	}
	return body
}

func errorDiv(body string) string {
	m := regexp.MustCompile(`<div class="error">([^<]*)</div>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (w *web) saveRestart(d *Device) {
	w.t.Helper()
	n := d.Restarts()
	body, err := w.submit("/SaveRestart.htm", url.Values{})
	if err != nil || !strings.Contains(body, "Now Save/Restart OK!") {
		w.t.Fatalf("save/restart: %v %s", err, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.Restarts() == n || !strings.Contains(strings.Join(d.Log(), "\n"), "System Warm Start") {
		if time.Now().After(deadline) {
			w.t.Fatal("restart did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tcpOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestFactoryDefaultsOnPages(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	resp, err := w.c.Get(w.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Server"); got != "MoxaHttp/2.2" {
		t.Errorf("Server header = %q", got)
	}
	if body := w.login("admin", "moxa"); !strings.Contains(body, `<frame name="main" src="/main.htm">`) {
		t.Fatalf("login did not return the frameset: %s", body)
	}
	ov := w.get("/main.htm")
	for _, want := range []string{"<td>Model name</td><td>NPort 5150A</td>", "<td>MAC address</td><td>00:90:E8:5C:11:2A</td>",
		"<td>Serial No.</td><td>6621</td>", "<td>Firmware version</td><td>1.6 Build 21051010</td>", "Please change the default password"} {
		if !strings.Contains(ov, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	menu := w.get("/menu.htm")
	for _, l := range []string{"Overview", "Basic Settings", "Network Settings", "Console Settings", "Port 1", "SNMP Agent",
		"Remote Log Server", "User Account", "Password &amp; Login Policy", "Notification Message", "Accessible IP List",
		"System Log Settings", "System Log", "Upgrade Firmware", "Save/Restart", "Logout"} {
		if !strings.Contains(menu, ">"+l+"</a>") {
			t.Errorf("menu lacks %q", l)
		}
	}
	con := w.get("/console.htm")
	for _, want := range []string{
		`<td>HTTP console</td><td><input type="radio" name="c_http" value="1" id="c_http_1" checked>`,
		`<td>Telnet console</td><td><input type="radio" name="c_telnet" value="1" id="c_telnet_1"><label for="c_telnet_1">Enable</label> <input type="radio" name="c_telnet" value="0" id="c_telnet_0" checked>`,
		`<td>TLS v1.0/v1.1 for HTTPS console</td><td><input type="radio" name="c_tls10" value="1" id="c_tls10_1" checked>`,
	} {
		if !strings.Contains(con, want) {
			t.Errorf("console page lacks %q", want)
		}
	}
	pol := w.get("/policy.htm")
	for _, want := range []string{`<td>Password minimum length</td><td><input type="text" name="pw_minlen" value="4"`,
		`<td>Password lifetime</td><td><input type="text" name="pw_life" value="90"`,
		`name="lk_en" value="0" id="lk_en_0" checked`} {
		if !strings.Contains(pol, want) {
			t.Errorf("policy page lacks %q", want)
		}
	}
	snmp := w.get("/snmp.htm")
	if strings.Contains(snmp, "public") || strings.Contains(snmp, "private") {
		t.Error("SNMP page echoes a community string")
	}
	if !strings.Contains(w.get("/opmode.htm?Port=1"), `<option value="0" selected>Real COM</option>`) {
		t.Error("port 1 is not Real COM")
	}
	if !strings.Contains(w.get("/notice.htm"), "Please contact administration if you have forgotten your password.") {
		t.Error("failure message default missing")
	}
	for _, svc := range []string{SvcHTTPS, SvcMoxaTCP, SvcMoxaTCP2, "realcom-data-1", "realcom-cmd-1"} {
		if !tcpOpen(d.Addr(svc)) {
			t.Errorf("%s not listening by default", svc)
		}
	}
	for _, svc := range []string{SvcTelnet, "tcp-server-1"} {
		if tcpOpen(d.Addr(svc)) {
			t.Errorf("%s listening by default", svc)
		}
	}
	if !strings.Contains(w.get("/syslog.htm"), "admin: Local Login Success 127.0.0.1:") {
		t.Error("login not logged")
	}
	// Not logged in: redirected to the login page.
	anon := newWeb(t, d, SvcHTTP, nil)
	if !strings.Contains(anon.get("/console.htm"), "FakeChallenge") {
		t.Error("unauthenticated request got a settings page")
	}
}

func TestLoginFailureAndLockout(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	d := start(t, Config{Now: clk.Now})
	w := newWeb(t, d, SvcHTTP, nil)
	body := w.login("admin", "wrong")
	if !strings.Contains(body, "Login failed") || !strings.Contains(body, "forgotten your password") {
		t.Fatalf("failed login page: %s", body)
	}
	if !strings.Contains(strings.Join(d.Log(), "\n"), "admin: Local Login Fail 127.0.0.1:") {
		t.Error("failure not logged")
	}
	// A challenge is single use.
	page := w.get("/")
	ch := reChallenge.FindStringSubmatch(page)[1]
	f := url.Values{"Username": {"admin"}, "MD5Password": {challengeResponse(ch, "moxa")}, "FakeChallenge": {ch}}
	if b, _ := w.post("/", f); !strings.Contains(b, "<frameset") {
		t.Fatal("first use of challenge failed")
	}
	if b, _ := w.post("/", f); strings.Contains(b, "<frameset") {
		t.Fatal("challenge reused")
	}

	// Turn lockout on (threshold 3, 10 minutes) and restart.
	w.mustSubmit("/policy.htm", url.Values{"pw_minlen": {"4"}, "pw_life": {"90"}, "lk_en": {"1"}, "lk_thr": {"3"}, "lk_time": {"10"}})
	if d.Effective().Policy.Lockout {
		t.Fatal("policy effective before restart")
	}
	w.saveRestart(d)
	w2 := newWeb(t, d, SvcHTTP, nil)
	for i := range 3 {
		if b := w2.login("admin", "bad"); !strings.Contains(b, "Login failed") {
			t.Fatalf("attempt %d: %s", i, b)
		}
	}
	if b := w2.login("admin", "moxa"); !strings.Contains(b, "locked") || strings.Contains(b, "<frameset") {
		t.Fatalf("right password during lockout: %s", b)
	}
	clk.Add(9 * time.Minute)
	if b := w2.login("admin", "moxa"); !strings.Contains(b, "Please try again after 1 minutes") {
		t.Fatalf("still locked expected: %s", b)
	}
	clk.Add(2 * time.Minute)
	if b := w2.login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Fatalf("login after lockout expired: %s", b)
	}
	// A success resets the counter: two failures do not lock.
	w3 := newWeb(t, d, SvcHTTP, nil)
	w3.login("admin", "bad")
	w3.login("admin", "bad")
	if b := w3.login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Fatalf("login after two failures: %s", b)
	}
}

func TestRestartAppliesConsoleAndTLS(t *testing.T) {
	d := start(t, Config{})
	tls10 := func() error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", d.Addr(SvcHTTPS),
			&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
		if err == nil {
			c.Close()
		}
		return err
	}
	tls11 := func() error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", d.Addr(SvcHTTPS),
			&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := tls10(); err != nil {
		t.Fatalf("TLS 1.0 by default: %v", err)
	}
	if err := tls11(); err != nil {
		t.Fatalf("TLS 1.1 by default: %v", err)
	}
	w := newWeb(t, d, SvcHTTPS, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/console.htm", url.Values{"c_http": {"0"}, "c_tls10": {"0"}, "c_moxa": {"0"}, "c_telnet": {"1"}})
	if !tcpOpen(d.Addr(SvcHTTP)) || tls10() != nil {
		t.Fatal("change took effect before Save/Restart")
	}
	if s := d.Saved(); s.Console.HTTP || s.Console.LegacyTLS || !s.Console.Telnet {
		t.Fatalf("saved console = %+v", s.Console)
	}
	w.saveRestart(d)
	if tcpOpen(d.Addr(SvcHTTP)) {
		t.Error("HTTP still listening after restart")
	}
	if tcpOpen(d.Addr(SvcMoxaTCP)) {
		t.Error("Moxa TCP 4900 still listening after restart")
	}
	if !tcpOpen(d.Addr(SvcTelnet)) {
		t.Error("telnet not listening after restart")
	}
	if err := tls10(); err == nil {
		t.Error("TLS 1.0 handshake succeeded with legacy TLS off")
	}
	if err := tls11(); err == nil {
		t.Error("TLS 1.1 handshake succeeded with legacy TLS off")
	}
	c, err := tls.Dial("tcp", d.Addr(SvcHTTPS), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 after restart: %v", err)
	}
	cert := c.ConnectionState().PeerCertificates[0]
	c.Close()
	if cert.Subject.CommonName != "NPort 5150A" || len(cert.IPAddresses) != 1 || cert.IPAddresses[0].String() != "127.0.0.1" {
		t.Errorf("certificate CN %q SAN %v", cert.Subject.CommonName, cert.IPAddresses)
	}
	if d.Restarts() != 1 {
		t.Errorf("restarts = %d", d.Restarts())
	}
	// The old session died with the restart.
	if !strings.Contains(w.get("/main.htm"), "FakeChallenge") {
		t.Error("session survived the restart")
	}
	if b := w.login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Error("login after restart failed")
	}
}

func TestAccessListRefusesOtherHosts(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	if b, _ := w.submit("/accessip.htm", url.Values{"acl_en": {"1"}, "acl_act_1": {"1"}, "acl_ip_1": {"127.0.0.1"}, "acl_mask_1": {"255.255.0.255"}}); errorDiv(b) != "Invalid netmask in rule 1" {
		t.Fatalf("bad netmask: error %q", errorDiv(b))
	}
	w.mustSubmit("/accessip.htm", url.Values{"acl_en": {"1"}, "acl_act_1": {"1"}, "acl_ip_1": {"127.0.0.1"}, "acl_mask_1": {"255.255.255.255"}})
	w.saveRestart(d)

	other := &net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := other.Dial("tcp", d.Addr(SvcHTTP))
	if err != nil {
		t.Fatalf("dial from 127.0.0.2: %v", err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	n, _ := io.Copy(io.Discard, c)
	c.Close()
	if n != 0 {
		t.Errorf("refused host got %d bytes", n)
	}
	// UDP from 127.0.0.2 is dropped, from 127.0.0.1 answered.
	if r := udpAsk(t, "127.0.0.2", d.Addr(SvcMoxaUDP), discovery()); r != nil {
		t.Errorf("UDP from refused host answered: % x", r)
	}
	if r := udpAsk(t, "127.0.0.1", d.Addr(SvcMoxaUDP), discovery()); r == nil {
		t.Error("UDP from allowed host not answered")
	}
	w2 := newWeb(t, d, SvcHTTP, nil)
	if b := w2.login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Error("allowed host cannot log in")
	}
}

func TestLastAdminAndPasswordPolicy(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	del := func(name string) string {
		path := "/account_edit.htm?name=" + name
		tok := reToken.FindStringSubmatch(w.get(path))[1]
		b, err := w.post("/account_delete.htm?name="+name, url.Values{"token_text": {tok}, "Delete": {"Delete"}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := del("admin"); errorDiv(b) != lastAdminMsg {
		t.Fatalf("deleting the last admin: %q", errorDiv(b))
	}
	if b, _ := w.submit("/account_edit.htm?name=admin", url.Values{"acc_level": {"1"}, "acc_active": {"1"}}); !strings.Contains(errorDiv(b), "last administrator") {
		t.Fatalf("downgrading the last admin: %q", errorDiv(b))
	}
	// Policy: minimum 10 with all complexity rules, effective after restart.
	w.mustSubmit("/policy.htm", url.Values{"pw_minlen": {"10"}, "pw_cplx": {"1"}, "pw_digit": {"1"}, "pw_mixed": {"1"}, "pw_special": {"1"}})
	add := func(pw string) string {
		b, err := w.submit("/account_add.htm", url.Values{"acc_name": {"bob"}, "acc_pw": {pw}, "acc_pw2": {pw}, "acc_level": {"0"}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := add("weak"); errorDiv(b) != "" { // old policy still effective
		t.Fatalf("weak password refused before restart: %q", errorDiv(b))
	}
	if b := del("bob"); errorDiv(b) != "" {
		t.Fatalf("delete bob: %q", errorDiv(b))
	}
	w.saveRestart(d)
	w.login("admin", "moxa")
	if b := add("weakpassword"); !strings.Contains(errorDiv(b), "digit") {
		t.Fatalf("weak password: %q", errorDiv(b))
	}
	if b := add("Sh0rt!"); !strings.Contains(errorDiv(b), "at least 10") {
		t.Fatalf("short password: %q", errorDiv(b))
	}
	if b := add("G00d!Password"); errorDiv(b) != "" {
		t.Fatalf("good password refused: %q", errorDiv(b))
	}
	if i := d.Saved().account("bob"); i < 0 || !d.Saved().Accounts[i].ReadWrite {
		t.Fatal("bob not saved as Read Write")
	}
	if d.Effective().account("bob") >= 0 {
		t.Fatal("account effective before restart")
	}
	// With a second admin the first can be deleted.
	if b := del("admin"); errorDiv(b) != "" {
		t.Fatalf("delete admin with bob present: %q", errorDiv(b))
	}
	if b := w.get("/accounts.htm"); strings.Contains(b, ">admin</a>") || !strings.Contains(b, ">bob</a>") {
		t.Fatalf("accounts page: %s", b)
	}
}

func TestTokenRequiredAndDropNextSubmits(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	b, err := w.post("/basic.htm", url.Values{"srvname": {"evil"}, "token_text": {"nope"}, "setfunc": {"Basic"}})
	if err != nil || !strings.Contains(errorDiv(b), "token_text") || d.Saved().ServerName == "evil" {
		t.Fatalf("submit without token: err %v, error %q", err, errorDiv(b))
	}
	d.DropNextSubmits(1)
	if _, err := w.submit("/basic.htm", url.Values{"srvname": {"dropped"}}); err == nil {
		t.Fatal("dropped submit got a reply")
	}
	if d.Saved().ServerName == "dropped" {
		t.Fatal("dropped submit was saved")
	}
	w.mustSubmit("/basic.htm", url.Values{"srvname": {"line-7"}})
	if d.Saved().ServerName != "line-7" || d.Effective().ServerName == "line-7" {
		t.Fatal("server name not saved, or effective before restart")
	}
}

func discovery() []byte { return []byte{0x01, 0, 0, 8, 0, 0, 0, 0} }

func udpAsk(t *testing.T, from, to string, req []byte) []byte {
	t.Helper()
	c, err := net.ListenPacket("udp4", from+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp4", to)
	c.WriteTo(req, dst)
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func request(fn byte, id []byte, txn uint32) []byte {
	r := make([]byte, 8, 20)
	r[0] = fn
	binary.BigEndian.PutUint32(r[4:], txn)
	r = append(r, id...)
	binary.BigEndian.PutUint16(r[2:], uint16(len(r)))
	return r
}

func TestMoxaUDP(t *testing.T) {
	d := start(t, Config{Vulnerable: true, Serial: "587", FirmwareCode: 0x02100000})
	addr := d.Addr(SvcMoxaUDP)
	r := udpAsk(t, "127.0.0.1", addr, discovery())
	want := []byte{0x81, 0, 0, 0x18, 0, 0, 0, 0, 0x50, 0x51, 0x00, 0x80, 0x5A, 0x51, 0x00, 0x90, 0xE8, 0x5C, 0x11, 0x2A, 127, 0, 0, 1}
	if !bytes.Equal(r, want) {
		t.Fatalf("discovery reply\n got % x\nwant % x", r, want)
	}
	id := r[8:20]
	r = udpAsk(t, "127.0.0.1", addr, request(0x16, id, 0x01020304))
	if len(r) != 40 || r[0] != 0x96 || r[1] != 0 || binary.BigEndian.Uint16(r[2:]) != 40 || !bytes.Equal(r[4:8], []byte{1, 2, 3, 4}) {
		t.Fatalf("0x16 header: % x", r)
	}
	if !bytes.Equal(r[20:24], []byte{0x00, 0x00, 0x10, 0x02}) || !bytes.Equal(r[28:30], []byte{0x4b, 0x02}) {
		t.Fatalf("0x16 firmware/serial: % x", r)
	}
	r = udpAsk(t, "127.0.0.1", addr, request(0x28, id, 0))
	if len(r) != 184 || r[0] != 0xA8 || string(bytes.TrimRight(r[24:64], "\x00")) != "public" {
		t.Fatalf("0x28 (vulnerable): % x", r)
	}
	r = udpAsk(t, "127.0.0.1", addr, request(0x10, id, 0))
	if len(r) != 60 || string(bytes.TrimRight(r[20:60], "\x00")) != "NP5150A_587" {
		t.Fatalf("0x10: % x", r)
	}
	r = udpAsk(t, "127.0.0.1", addr, request(0x22, id, 0))
	if !bytes.Equal(r[20:], []byte{255, 255, 255, 0}) {
		t.Fatalf("0x22: % x", r)
	}
	r = udpAsk(t, "127.0.0.1", addr, request(0x51, id, 0))
	if len(r) != 216 || r[0] != 0xD1 {
		t.Fatalf("0x51: len %d", len(r))
	}
	// Wrong device ID and unknown function: status 0x04.
	bad := append([]byte(nil), id...)
	bad[11] ^= 1
	if r = udpAsk(t, "127.0.0.1", addr, request(0x10, bad, 0)); len(r) < 2 || r[0] != 0x90 || r[1] != 0x04 {
		t.Fatalf("wrong ID: % x", r)
	}
	if r = udpAsk(t, "127.0.0.1", addr, request(0x7e, id, 0)); len(r) < 2 || r[0] != 0xFE || r[1] != 0x04 {
		t.Fatalf("unknown function: % x", r)
	}
	// Wrong length field and short datagrams are ignored.
	if r = udpAsk(t, "127.0.0.1", addr, []byte{0x01, 0, 0, 9, 0, 0, 0, 0}); r != nil {
		t.Fatalf("wrong length answered: % x", r)
	}
	if r = udpAsk(t, "127.0.0.1", addr, []byte{0x01, 0, 0, 4}); r != nil {
		t.Fatalf("short datagram answered: % x", r)
	}

	// Fixed firmware: 0x28 leaks nothing.
	d2 := start(t, Config{})
	r = udpAsk(t, "127.0.0.1", d2.Addr(SvcMoxaUDP), request(0x28, id, 0))
	if len(r) != 184 || !bytes.Equal(r[24:64], make([]byte, 40)) {
		t.Fatalf("0x28 (fixed): % x", r)
	}
}

func TestTelnetConsole(t *testing.T) {
	d := start(t, Config{Telnet: true})
	c, err := net.DialTimeout("tcp", d.Addr(SvcTelnet), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	readUntil := func(s string) string {
		var got []byte
		buf := make([]byte, 512)
		for !bytes.Contains(got, []byte(s)) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %q: %v; got %q", s, err, got)
			}
			got = append(got, buf[:n]...)
		}
		return string(got)
	}
	first := readUntil("Please keyin your username:")
	// WILL ECHO, WILL SGA, WILL BINARY, DO ECHO, DO BINARY, as a real unit
	if !strings.HasPrefix(first, "\xff\xfb\x01\xff\xfb\x03\xff\xfb\x00\xff\xfd\x01\xff\xfd\x00") {
		t.Errorf("not the real unit's options: %q", first[:15])
	}
	// lines end CR NUL LF
	for _, want := range []string{strings.Repeat("-", 77) + "\r\x00\n", "Model name       : NPort 5150A\r\x00\n", "MAC address      : 00:90:E8:5C:11:2A\r\x00\n",
		"Serial No.       : 6621\r\x00\n", "Firmware version : 1.6 Build 21051010\r\x00\n", "System uptime    : "} {
		if !strings.Contains(first, want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	c.Write([]byte("\xff\xfd\x01\xff\xfd\x03admin\r\n"))
	readUntil("Please keyin your password:")
	c.Write([]byte("nope\r\n"))
	readUntil("Please keyin your username:")
	c.Write([]byte("admin\r\n"))
	readUntil("Please keyin your password:")
	c.Write([]byte("moxa\r\n"))
	readUntil("Key in your selection:")
	c.Write([]byte("v\r\n"))
	if v := readUntil("Key in your selection:"); !strings.Contains(v, "Telnet console   : Enable") {
		t.Errorf("view settings: %q", v)
	}
	c.Write([]byte("q\r\n"))
	readUntil("Bye.")
	log := strings.Join(d.Log(), "\n")
	if !strings.Contains(log, "admin: Telnet Login Fail") || !strings.Contains(log, "admin: Telnet Login Success") {
		t.Errorf("telnet logins not logged: %s", log)
	}
}

func TestHardenAndSyslog(t *testing.T) {
	sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	d := start(t, Config{SyslogPort: sink.LocalAddr().(*net.UDPAddr).Port})
	d.Harden(HardenOptions{AdminUser: "ops", AdminPassword: "Op3rat0r!Passwd#"})
	e := d.Effective()
	if e.Console.HTTP || !e.Console.HTTPS || e.Console.LegacyTLS || e.Console.MoxaService || e.SNMP.Enabled ||
		!e.AccessList.Enabled || e.Policy.MinLength != 16 || e.Syslog.Server != "127.0.0.1" {
		t.Fatalf("not hardened: %+v", e)
	}
	if tcpOpen(d.Addr(SvcHTTP)) || tcpOpen(d.Addr(SvcMoxaTCP)) || !tcpOpen(d.Addr(SvcHTTPS)) || !tcpOpen(d.Addr("realcom-data-1")) {
		t.Fatal("listeners do not follow the hardened settings")
	}
	w := newWeb(t, d, SvcHTTPS, nil)
	if b := w.login("ops", "Op3rat0r!Passwd#"); !strings.Contains(b, "<frameset") {
		t.Fatal("hardened admin cannot log in")
	}
	sink.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1024)
	for {
		n, _, err := sink.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no syslog datagram: %v", err)
		}
		if m := string(buf[:n]); strings.Contains(m, "ops: Local Login Success") {
			if !strings.HasPrefix(m, "<128>") { // facility local use 0 (16) * 8 + severity Emergency (0)
				t.Errorf("syslog line: %q", m)
			}
			break
		}
	}
	if strings.Contains(w.get("/main.htm"), "Please change the default password") {
		t.Error("default password warning for a non-default account")
	}
}

func TestAccountLevelsAndSessions(t *testing.T) {
	d := start(t, Config{})
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	for _, a := range []struct{ name, level string }{{"viewer", "1"}, {"idle", "0"}} {
		if b, _ := w.submit("/account_add.htm", url.Values{"acc_name": {a.name}, "acc_pw": {"pass" + a.name}, "acc_pw2": {"pass" + a.name}, "acc_level": {a.level}}); errorDiv(b) != "" {
			t.Fatalf("add %s: %q", a.name, errorDiv(b))
		}
	}
	if b, _ := w.submit("/account_add.htm", url.Values{"acc_name": {"viewer"}, "acc_pw": {"abcd"}, "acc_pw2": {"abcd"}}); !strings.Contains(errorDiv(b), "already exists") {
		t.Fatalf("duplicate name: %q", errorDiv(b))
	}
	if b, _ := w.submit("/account_add.htm", url.Values{"acc_name": {"x"}, "acc_pw": {"abcd"}, "acc_pw2": {"abce"}}); !strings.Contains(errorDiv(b), "do not match") {
		t.Fatalf("mismatched confirm: %q", errorDiv(b))
	}
	// Deactivate "idle" (admin remains).
	if b, _ := w.submit("/account_edit.htm?name=idle", url.Values{"acc_level": {"0"}}); errorDiv(b) != "" {
		t.Fatalf("deactivate idle: %q", errorDiv(b))
	}
	w.saveRestart(d)
	if b := newWeb(t, d, SvcHTTP, nil).login("idle", "passidle"); strings.Contains(b, "<frameset") {
		t.Error("inactive account logged in")
	}
	ro := newWeb(t, d, SvcHTTP, nil)
	if b := ro.login("viewer", "passviewer"); !strings.Contains(b, "<frameset") {
		t.Fatal("read-only account cannot log in")
	}
	if b, _ := ro.submit("/basic.htm", url.Values{"srvname": {"x"}}); !strings.Contains(errorDiv(b), "Read Only") {
		t.Errorf("read-only submit: %q", errorDiv(b))
	}
	// At most Maximum Login Users sessions (6 by default). The restart ended
	// the admin session, so only the read-only one is open.
	for i := range 5 {
		if b := newWeb(t, d, SvcHTTP, nil).login("admin", "moxa"); !strings.Contains(b, "<frameset") {
			t.Fatalf("session %d refused", i+2)
		}
	}
	if b := newWeb(t, d, SvcHTTP, nil).login("admin", "moxa"); !strings.Contains(b, "maximum number of login users") {
		t.Error("seventh session accepted")
	}
	ro.get("/logout.htm")
	if b := newWeb(t, d, SvcHTTP, nil).login("admin", "moxa"); !strings.Contains(b, "<frameset") {
		t.Error("session not freed by logout")
	}
}

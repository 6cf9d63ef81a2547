package nport

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transport"
)

func fixture(t *testing.T, name string) *page {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://127.0.0.1:8443/" + name)
	p, err := parsePage(context.Background(), u, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(pairs [][2]string) string {
	var s []string
	for _, p := range pairs {
		s = append(s, p[0]+"="+p[1])
	}
	return strings.Join(s, "&")
}

func TestConsoleFixtureReadAndPost(t *testing.T) {
	p := fixture(t, "console.htm")
	f, err := settingsForm(p, "console")
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := consolePage().read(f, &st); err != nil {
		t.Fatal(err)
	}
	want := Console{HTTP: true, HTTPS: true, Serial: true, MoxaService: true}
	if st.Console != want {
		t.Fatalf("read %+v", st.Console)
	}
	to := st
	to.Console.HTTP, to.Console.MoxaService = false, false
	if err := consolePage().set(f, to); err != nil {
		t.Fatal(err)
	}
	// every field goes back, in document order, only ours changed
	got := encode(f.pairs(quirks.Submit))
	exp := "token_text=a1b2c3&c_http=0&c_https=1&c_tls10=0&c_telnet=0&c_serial=1&c_moxa=0&c_maxusers=6&c_autologout=5&c_resetprot=0&Submit=Submit"
	if got != exp {
		t.Fatalf("posted\n %s\nwant\n %s", got, exp)
	}
}

func TestAccessListFixture(t *testing.T) {
	p := fixture(t, "accessip.htm")
	f, _ := settingsForm(p, "acl")
	var st State
	if err := accessPage().read(f, &st); err != nil || len(st.AccessList.Rules) != 1 {
		t.Fatalf("rules %+v (%v)", st.AccessList.Rules, err)
	}
	r := st.AccessList.Rules[0]
	if !st.AccessList.Enabled || !r.Active || r.IP != netip.MustParseAddr("192.168.127.0") || r.Netmask != netip.MustParseAddr("255.255.255.0") {
		t.Fatalf("read %+v", st.AccessList)
	}
	// writing needs all 16 rows: a short list is an error, not a silent partial post
	if err := accessPage().set(f, st); err == nil {
		t.Fatal("wrote a list of 2 rows as if it had 16")
	}
	// the device's error message is cleaned of escapes
	if len(p.Errors) != 1 || printable.String(p.Errors[0]) != "Bad <mask>[31m" {
		t.Fatalf("errors %q", p.Errors)
	}
}

func TestLoginFormAndTranscript(t *testing.T) {
	body := `<form method="post" action="/"><input name="Username"><input type="password" name="Password">
<input type="hidden" name="MD5Password" value=""><input type="hidden" name="FakeChallenge" value="0A1B2C3D"></form>`
	u, _ := url.Parse("http://127.0.0.1/")
	p, _ := parsePage(context.Background(), u, []byte(body))
	prof, f, err := detect(p, "MoxaHttp/2.2")
	if err != nil || prof.Name != "GA" {
		t.Fatalf("detect: %v %v", prof, err)
	}
	pairs, err := prof.loginPairs(f, "admin", "moxa")
	if err != nil {
		t.Fatal(err)
	}
	// MD5("0A1B2C3D") XOR "moxa", computed independently of challengeResponse
	sum := md5sum("0A1B2C3D")
	want := hex.EncodeToString([]byte{sum[0] ^ 'm', sum[1] ^ 'o', sum[2] ^ 'x', sum[3] ^ 'a'})
	if got := encode(pairs); got != "Username=admin&Password=&MD5Password="+want+"&FakeChallenge=0A1B2C3D&Submit.x=0&Submit.y=0" {
		t.Fatalf("login pairs %s", got)
	}
	if len(challengeResponse("x", strings.Repeat("p", 20))) != 32 {
		t.Fatal("password not cut at 16 bytes")
	}
	// the transcript masks the hash and keeps the user
	var tr bytes.Buffer
	hc := transport.NewHTTPClient(transport.HTTPOptions{Transcript: &tr})
	defer hc.Close()
	hc.PostFormPairs(context.Background(), "http://127.0.0.1:1/", pairs) // refused: still recorded
	if strings.Contains(tr.String(), want) || !strings.Contains(tr.String(), "Username=admin") {
		t.Fatalf("transcript %q", tr.String())
	}
}

func TestParseBannerStripsEscapes(t *testing.T) {
	text := "\x1b[2J\x1b[1;1HModel name       : NPort \x1b[31m5150A\x1b[0m\r\n" +
		"MAC address      : 00:90:E8:5C:11:2A\r\n\x00Firmware version : 1.6 Build 21051010\x07\r\n\r\nPlease keyin your username:"
	m, fw := parseBanner(text)
	if m != "NPort 5150A" || fw != "1.6 Build 21051010" {
		t.Fatalf("%q %q", m, fw)
	}
}

func TestDSCI(t *testing.T) {
	b, _ := hex.DecodeString("810000180000000000555555" + "1a51" + "0090e8aaaaaa" + "c0a87ffe")
	f, err := parseDiscovery(b)
	if err != nil || f.Model != "NPort 5110A" || f.IP != "192.168.127.254" || f.MAC != "00:90:e8:aa:aa:aa" {
		t.Fatalf("%+v %v", f, err)
	}
	// a longer reply is accepted, as public tools accept it
	long := append(append([]byte(nil), b...), 0, 0, 0, 0, 0, 0)
	long[3] = byte(len(long))
	if g, err := parseDiscovery(long); err != nil || g.IP != f.IP {
		t.Fatalf("30-byte reply: %+v %v", g, err)
	}
	if _, err := parseDiscovery(b[:20]); err == nil {
		t.Fatal("a 20-byte reply accepted")
	}
	// every model of the reference's table is known
	for hw, model := range map[uint16]string{0x0504: "NPort 5410", 0x0534: "NPort 5430", 0x1534: "NPort 5430I", 0x0312: "NPort 5230",
		0x0322: "NPort 5210", 0x0332: "NPort 5232", 0x1332: "NPort 5232I", 0x5618: "NPort 5610-8", 0x5613: "NPort 5610-16",
		0x5638: "NPort 5630-8", 0x5633: "NPort 5630-16", 0x5700: "NPort 5610-8-DT", 0x5702: "NPort 5650-8-DT",
		0x5703: "NPort 5650I-8-DT", 0x5710: "NPort 5610-8-DTL", 0x5110: "NPort 5110", 0x511A: "NPort 5110A"} {
		if got := hwidModel(hw); got != model {
			t.Errorf("HWID %#04x: %q, want %q", hw, got, model)
		}
	}
	b[1] = 4
	if _, err := parseDiscovery(b); err == nil {
		t.Fatal("status 4 accepted")
	}
	for code, want := range map[uint32]string{0x01060000: "1.6", 0x02100000: "2.10", 0x01030400: "1.3.4"} {
		if got := firmwareCode(code); got != want {
			t.Errorf("firmwareCode(%#x) = %q, want %q", code, got, want)
		}
	}
	req := dsciRequest(fnDetails, f.id)
	if len(req) != 20 || req[0] != 0x16 || req[3] != 20 {
		t.Fatalf("request % x", req)
	}
}

func TestAdvisories(t *testing.T) {
	find := func(as []Advisory, id string) (Advisory, bool) {
		for _, a := range as {
			if a.ID == id {
				return a, true
			}
		}
		return Advisory{}, false
	}
	as := Advisories("NPort 5150A", "1.6 Build 21051010")
	if a, ok := find(as, "CVE-2023-4929"); !ok || !a.Affected {
		t.Fatal("CVE-2023-4929 must always be listed as affected")
	}
	if a, ok := find(as, "CVE-2016-9361"); !ok || a.Affected || a.FixedIn != "1.4" {
		t.Fatalf("5150A 1.6 vs Update A: %+v", a)
	}
	if a, ok := find(as, "guide-2.1"); !ok || a.Affected {
		t.Fatalf("guide minimum: %+v", a)
	}
	old := Advisories("NPort 5150A", "1.3 Build 1")
	if a, _ := find(old, "CVE-2016-9361"); !a.Affected {
		t.Fatal("1.3 is below the 1.4 fix")
	}
	if a, _ := find(Advisories("NPort 5110", "2.10 Build 1"), "CVE-2016-9361"); a.Affected {
		t.Fatal("2.10 is not below 2.7 (numeric, not string, comparison)")
	}
	if a, ok := find(Advisories("NPort 5110", "2.10 Build 1"), "CVE-2022-2043"); !ok || !a.Affected {
		t.Fatal("5110 2.10 is the CVE-2022-2043 version")
	}
	if _, ok := find(Advisories("NPort 5410", "3.14"), "CVE-2022-2043"); ok {
		t.Fatal("CVE-2022-2043 listed for another series")
	}
	if s := series("NP5610-16"); s != "5600" {
		t.Fatalf("series(NP5610-16) = %q", s)
	}
}

func md5sum(s string) [16]byte { return md5.Sum([]byte(s)) }

func TestAdvisoryString(t *testing.T) {
	a := Advisory{ID: "CVE-1", Summary: "s", FixedIn: "1.4", Affected: true}
	if got := a.String(); got != "CVE-1: s (affected: fixed in 1.4)" {
		t.Fatal(got)
	}
	a.Affected = false
	if got := a.String(); got != "CVE-1: s (not affected: fixed in 1.4)" {
		t.Fatal(got)
	}
}

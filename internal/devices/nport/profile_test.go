package nport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func loginPage(t *testing.T, body string) *page {
	t.Helper()
	u, _ := url.Parse("https://127.0.0.1/")
	p, err := parsePage(context.Background(), u, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGSecLoginAnswer(t *testing.T) {
	ch := strings.Repeat("0123456789abcdef", 4)
	p := loginPage(t, `<form method="post" action="/"><input type="text" name="Username"><input type="password" name="Password">
<input type="hidden" name="EncPasswd" value=""><input type="hidden" name="EncUser" value="">
<input type="hidden" name="FakeChallenge" value="`+ch+`"><input type="submit" value="Login"></form>`)
	prof, f, err := detect(p, "")
	if err != nil || prof.Name != "G-sec" {
		t.Fatalf("detect: %v %v", prof, err)
	}
	pairs, err := prof.loginPairs(f, "admin", "moxa")
	if err != nil {
		t.Fatal(err)
	}
	// computed here from the evidence page's description, not with the driver's helpers
	pw := sha256.Sum256([]byte("admin" + "moxa" + ch))
	us := sha256.Sum256([]byte(ch))
	for i, c := range []byte("admin") {
		us[i] ^= c
	}
	want := "EncPasswd=" + hex.EncodeToString(pw[:]) + "&EncUser=" + hex.EncodeToString(us[:]) + "&FakeChallenge=" + ch
	if got := encode(pairs); got != want {
		t.Fatalf("login pairs\n %s\nwant\n %s", got, want)
	}
	if strings.Contains(encode(pairs), "moxa") {
		t.Fatal("the password crossed the wire")
	}
}

func TestUnknownConsoleAndG1(t *testing.T) {
	p := loginPage(t, `<html><head><title>Other Box</title></head><form method="post"><input name="user"><input type="password" name="pass"></form></html>`)
	_, _, err := detect(p, "lighttpd")
	var uc *UnknownConsoleError
	if !errors.As(err, &uc) || !strings.Contains(err.Error(), "commission capture") || !strings.Contains(err.Error(), "Other Box") ||
		!strings.Contains(err.Error(), "lighttpd") || !strings.Contains(err.Error(), "pass") {
		t.Fatalf("unknown console: %v", err)
	}
	g1 := loginPage(t, `<html><head><script>set("FakeChallenge","0A1B2C3D4E");</script></head><body>
<form action="/home.htm"><input type="password" name="Password"><input type="hidden" name="token_text"></form></body></html>`)
	prof, _, err := detect(g1, "MoxaHttp/1.0")
	if !errors.Is(err, ErrUnsupportedFirmware) || prof.Name != "G1" || !strings.Contains(err.Error(), "floor") {
		t.Fatalf("G1: %v %v", prof, err)
	}
}

func TestUnknownInterstitialChangesNothing(t *testing.T) {
	s := &session{prof: &Profiles[0]}
	p := loginPage(t, `<html><head><title>Accept the licence</title></head><form method="get" action="/lic.htm"><input type="submit" name="ok" value="I agree"></form></html>`)
	_, err := s.interstitial(context.Background(), p)
	var ie *InterstitialError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "Accept the licence") || !strings.Contains(err.Error(), "I agree") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("unknown interstitial: %v", err)
	}
}

func TestRefusalWords(t *testing.T) {
	s := &session{prof: &Profiles[1]}
	login := `<form><input type="hidden" name="FakeChallenge" value="x"></form>`
	for text, want := range map[string]error{
		"Login failed.": ErrWrongPassword,
		"Login failed. This account has been locked.":        ErrLockedOut,
		"The maximum number of login users has been reached": ErrTooManySessions,
		"Login failed. The login page has expired":           errExpired,
	} {
		p := loginPage(t, "<p>"+text+"</p>"+login)
		if err := s.refusal(p); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", text, err, want)
		}
	}
	if err := s.refusal(loginPage(t, "<h4>Already login.</h4>")); !errors.Is(err, ErrTooManySessions) {
		t.Errorf("Already login.: %v", err)
	}
	if err := s.refusal(loginPage(t, "<p>Welcome</p>")); err != nil {
		t.Errorf("a console page is no refusal: %v", err)
	}
}

func TestSessionGone(t *testing.T) {
	s := &session{prof: &Profiles[0]}
	if !s.sessionGone(loginPage(t, `<h2>Session Expired</h2><a href="/">Login again</a>`)) {
		t.Error("a Session Expired page")
	}
	if !s.sessionGone(loginPage(t, `<form><input type="hidden" name="FakeChallenge" value="1"></form>`)) {
		t.Error("the login page")
	}
	if s.sessionGone(loginPage(t, `<form><table><tr><td>Password lifetime</td><td><input name="x" value="90"></td></tr></table></form><p>expired passwords must change</p>`)) {
		t.Error("a settings page that mentions expiry")
	}
}

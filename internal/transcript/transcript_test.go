package transcript

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMaskingAndRoundTrip(t *testing.T) {
	r := NewRecorder()
	r.Secret("s3cr3t-token", "pw!", "ab") // "ab" is too short to mask
	r.Add(Exchange{Kind: "http",
		Request: &Request{Method: "GET", URL: "/Set.htm?csrf_token=s3cr3t-token&x=ab", Header: map[string][]string{"Cookie": {"sid=abcdef"}}},
		Response: &Response{Status: 200, Header: map[string][]string{"Set-Cookie": {"sid=abcdef; Path=/; HttpOnly"}},
			Body: `<input name="csrf_token" value="s3cr3t-token"> pw!`}})
	r.Add(Exchange{Kind: "http", Request: &Request{Method: "POST", URL: "/", Body: MaskPairs([][2]string{{"EncPasswd", "deadbeef"}, {"EncUser", ""}, {"user", "admin"}}, func(k string) bool { return strings.HasPrefix(k, "Enc") })},
		Response: &Response{Status: 200}})
	r.Note("generation: GA")
	dir := filepath.Join(t.TempDir(), "cap")
	if err := r.Write(dir, Manifest{Family: "test", Target: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(dir, Manifest{}); err == nil {
		t.Fatal("wrote over a transcript")
	}
	var all strings.Builder
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		all.Write(b)
	}
	for _, secret := range []string{"s3cr3t-token", "pw!", "abcdef", "deadbeef"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%q reached the transcript", secret)
		}
	}
	if !strings.Contains(all.String(), "x=ab") || !strings.Contains(all.String(), "user=admin") || !strings.Contains(all.String(), "Path=/") {
		t.Error("ordinary values were masked")
	}
	man, ex, err := Read(dir)
	if err != nil || man.Format != Format || len(ex) != 2 || man.Notes[0] != "generation: GA" || man.Exchanges[0] != "001-http.json" {
		t.Fatalf("read back %+v %d %v", man, len(ex), err)
	}
}

func TestReplayMatchesWithMaskedWildcards(t *testing.T) {
	ex := []Exchange{
		{Kind: "http", Request: &Request{Method: "GET", URL: "/"}, Response: &Response{Status: 200, Body: "login"}},
		{Kind: "http", Request: &Request{Method: "POST", URL: "/", Body: "EncPasswd=" + Masked + "&user=admin"},
			Response: &Response{Status: 200, Body: "home", FinalURL: "/home.htm"}},
		{Kind: "http", Request: &Request{Method: "GET", URL: "/Set.htm?a=1&csrf=" + Masked}, Response: &Response{Status: 200, Body: "ok"}},
		{Kind: "udp", Datagram: &Datagram{Service: "moxa-udp", Request: "01"}},
	}
	rp := NewReplay(ex)
	srv := httptest.NewServer(rp)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, b := get("/"); c != 200 || b != "login" {
		t.Fatalf("GET / %d %q", c, b)
	}
	resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("EncPasswd=anything&user=admin"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "home" || resp.Request.URL.Path != "/home.htm" {
		t.Fatalf("login: %q at %s", b, resp.Request.URL.Path)
	}
	if c, _ := get("/Set.htm?a=1&csrf=xyz"); c != 200 {
		t.Fatalf("masked query value not a wildcard: %d", c)
	}
	if c, _ := get("/Set.htm?a=2&csrf=xyz"); c != 599 {
		t.Fatalf("a different value matched: %d", c)
	}
	if m := rp.Mismatches(); len(m) != 1 || !strings.Contains(m[0], "a=2") {
		t.Fatalf("mismatches %q", m)
	}
	if u := rp.Unused(); len(u) != 0 {
		t.Fatalf("unused %q", u)
	}
}

func TestReplayMatchesJSONBodies(t *testing.T) {
	ex := []Exchange{
		{Kind: "http", Request: &Request{Method: "POST", URL: "/api/v1/auth", Body: `{"acceptEULA":true,"name":"admin","password":"` + Masked + `"}`},
			Response: &Response{Status: 200, Body: `{"data":{"token":"` + Masked + `"}}`}},
		{Kind: "http", Request: &Request{Method: "PUT", URL: "/api/v1/x", Body: `{"a":[1,{"b":"c"}],"n":2.50,"k":"` + Masked + `"}`},
			Response: &Response{Status: 204}},
	}
	rp := NewReplay(ex)
	srv := httptest.NewServer(rp)
	defer srv.Close()
	send := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/auth", `{"name": "admin", "password": "real one", "acceptEULA": true}`, 200}, // other order, spacing, masked value
		{"POST", "/api/v1/auth", `{"name":"root","password":"x","acceptEULA":true}`, 599},              // a different user
		{"POST", "/api/v1/auth", `{"name":"admin","password":"x"}`, 599},                               // a key missing
		{"POST", "/api/v1/auth", `{"name":"admin","password":"x","acceptEULA":true,"extra":1}`, 599},   // a key more
		{"POST", "/api/v1/auth", `{"name":"admin","password":"x","acceptEULA":"true"}`, 599},           // another type
		{"PUT", "/api/v1/x", `{"k":{"any":"shape"},"n":2.5,"a":[1,{"b":"c"}]}`, 204},                   // masked matches any type; 2.50 = 2.5
		{"PUT", "/api/v1/x", `{"k":1,"n":2.5,"a":[{"b":"c"},1]}`, 599},                                 // array order counts
		{"PUT", "/api/v1/x", `{"k":1,"n":2.5,"a":[1,{"b":"c"}]} trailing`, 599},
	} {
		if got := send(c.method, c.path, c.body); got != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.method, c.path, c.body, got, c.want)
		}
	}
	if m := rp.Mismatches(); len(m) != 6 {
		t.Errorf("mismatches %q, want 6", m)
	}
}

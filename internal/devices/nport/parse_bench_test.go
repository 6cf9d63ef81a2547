package nport

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// bigPage is a settings page of about 2 MiB: a table of 49,000 rows, each
// with a label, a checkbox and a script-written text field.
func bigPage(rows int) []byte {
	var b strings.Builder
	b.WriteString("<html><head><title>Big</title></head><body><form method=\"get\" action=\"/Set.htm\">\n<table>\n<tr><th>No</th><th>Active</th><th>Value</th></tr>\n")
	for i := range rows {
		fmt.Fprintf(&b, "<tr><td>%d</td><td><input type=checkbox name=a%d></td><td>x</td></tr>\n", i, i)
	}
	b.WriteString("</table><input type=\"submit\" name=\"Submit\" value=\"Submit\"></form></body></html>\n")
	return []byte(b.String())
}

func BenchmarkParse2MiBPage(b *testing.B) {
	body := bigPage(49000)
	if len(body) < 2<<20 {
		b.Fatalf("page of %d bytes, want at least 2 MiB", len(body))
	}
	u, _ := url.Parse("http://127.0.0.1/big.htm")
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p, err := parsePage(ctx, u, body)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Tables) != 1 || len(p.Tables[0]) != 49001 || len(p.Forms[0].Controls) != 49001 {
			b.Fatalf("tables %d", len(p.Tables))
		}
	}
}

func TestParseBigPageKeepsRowsAndColumns(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1/big.htm")
	p, err := parsePage(context.Background(), u, bigPage(2000))
	if err != nil {
		t.Fatal(err)
	}
	f := p.Forms[0]
	c, ok := f.checkbox(f.cell("1999", "Active"), "")
	if !ok || c.Name != "a1999" {
		t.Fatalf("row 1999 / Active: %+v", c)
	}
}

func TestParseStopsOnCancel(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1/big.htm")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := parsePage(ctx, u, bigPage(49000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled parse: %v", err)
	}
	// cancelled during the walk, not only before it: a context that ends
	// after the first check
	late := &countingCtx{Context: context.Background(), after: 2}
	if _, err := parsePage(late, u, bigPage(49000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("parse cancelled mid-walk: %v", err)
	}
}

// countingCtx reports Canceled from its after-th Err call on.
type countingCtx struct {
	context.Context
	n, after int
}

func (c *countingCtx) Err() error {
	if c.n++; c.n >= c.after {
		return context.Canceled
	}
	return nil
}

func TestScriptWrittenFieldsAndValues(t *testing.T) {
	body := `<html><head><title>Basic Settings</title></head><body>
<form method="get" action="/Set.htm"><input type="hidden" name="setfunc" value="Basic">
<table><tr><td>Server name</td><td><script>inputText("srv", 40, "line \"7\"\x3cb");</script></td></tr>
<tr><td>Time zone</td><td><select name="tz"><option value="0" selected>(GMT)</option></select></td></tr></table>
<input type="submit" name="Submit" value="Submit"></form>
<table><tr><td>Model Name</td><td><span id="modelname"></span></td></tr></table>
<script>// set("ignored","x")
set("modelname","NPort 5150A"); set('mac', '00:90:E8:00:00:01');</script></body></html>`
	u, _ := url.Parse("http://127.0.0.1/basic.htm")
	p, err := parsePage(context.Background(), u, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	f, err := settingsForm(p, "basic")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.text("Server name")
	if err != nil || v != `line "7"<b` {
		t.Fatalf("script field: %q %v", v, err)
	}
	if p.Scripted["modelname"] != "NPort 5150A" || p.Scripted["mac"] != "00:90:E8:00:00:01" || p.Scripted["ignored"] != "" {
		t.Fatalf("scripted %v", p.Scripted)
	}
	got := encode(f.pairs("Submit"))
	if got != `setfunc=Basic&srv=line "7"<b&tz=0&Submit=Submit` {
		t.Fatalf("pairs %s", got)
	}
	if f.method() != "GET" {
		t.Fatal("the form says GET")
	}
}

// BenchmarkParseConsolePages parses every page a Read fetches from the
// simulator: a factory GA unit, a G-sec unit and a G-sec unit whose System
// Log holds 256 lines (one op is all of them).
func BenchmarkParseConsolePages(b *testing.B) {
	pages := consolePages(b)
	u, _ := url.Parse("http://127.0.0.1/page.htm")
	ctx := context.Background()
	n := 0
	for _, p := range pages {
		n += len(p.body)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, p := range pages {
			if _, err := parsePage(ctx, u, p.body); err != nil {
				b.Fatal(err)
			}
		}
	}
}

package nport

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/transcript"
)

// dumpPage writes every field of p, unexported ones included, with each
// control named by the order it is first met, so that two pages dump the
// same only if they hold the same values and share their controls the
// same way (a form's control is the very one of its table cell).
func dumpPage(p *page) string {
	var b strings.Builder
	ids := map[*control]int{}
	ctrl := func(c *control) {
		if c == nil {
			b.WriteString("nil\n")
			return
		}
		if n, ok := ids[c]; ok {
			fmt.Fprintf(&b, "ctrl#%d\n", n)
			return
		}
		ids[c] = len(ids)
		fmt.Fprintf(&b, "ctrl#%d %q %q %q checked=%v disabled=%v text=%q row=%q col=%q scripted=%v id=%q options=%d\n",
			ids[c], c.Name, c.Type, c.Value, c.Checked, c.Disabled, c.Text, c.Row, c.Col, c.Scripted, c.id, len(c.Options))
		for _, o := range c.Options {
			fmt.Fprintf(&b, "  option %q %q %v\n", o.Value, o.Text, o.Selected)
		}
		if c.Options == nil {
			b.WriteString("  options nil\n")
		}
	}
	fmt.Fprintf(&b, "url %v\ntitle %q\n", p.URL, p.Title)
	fmt.Fprintf(&b, "forms %d nil=%v\n", len(p.Forms), p.Forms == nil)
	for _, f := range p.Forms {
		fmt.Fprintf(&b, "form %q %q %q controls %d nil=%v\n", f.Name, f.Action, f.Method, len(f.Controls), f.Controls == nil)
		for _, c := range f.Controls {
			ctrl(c)
		}
	}
	fmt.Fprintf(&b, "links %q nil=%v\n", p.Links, p.Links == nil)
	keys := func(m map[string]string) {
		fmt.Fprintf(&b, "nil=%v", m == nil)
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(&b, " %q=%q", k, m[k])
		}
		b.WriteByte('\n')
	}
	b.WriteString("frames ")
	keys(p.Frames)
	fmt.Fprintf(&b, "tables %d nil=%v\n", len(p.Tables), p.Tables == nil)
	for ti, t := range p.Tables {
		fmt.Fprintf(&b, "table %d rows %d nil=%v\n", ti, len(t), t == nil)
		for ri, r := range t {
			fmt.Fprintf(&b, " row %d cells %d nil=%v\n", ri, len(r), r == nil)
			for _, c := range r {
				fmt.Fprintf(&b, "  cell %q links %q nil=%v ids %q nil=%v controls %d nil=%v\n", c.Text, c.Links, c.Links == nil,
					c.ids, c.ids == nil, len(c.Controls), c.Controls == nil)
				for _, cc := range c.Controls {
					ctrl(cc)
				}
			}
		}
	}
	fmt.Fprintf(&b, "errors %q nil=%v\ntext %q\nblocks %q nil=%v\noutside %q\nscripted ", p.Errors, p.Errors == nil, p.Text, p.Blocks, p.Blocks == nil, p.Outside)
	keys(p.Scripted)
	return b.String()
}

// samePage fails t when the new parser's page for body differs from the
// old parser's in any field.
func samePage(t testing.TB, name string, body []byte) {
	t.Helper()
	u, _ := url.Parse("http://127.0.0.1/" + name)
	want, werr := oldParsePage(context.Background(), u, body)
	got, gerr := parsePage(context.Background(), u, body)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s: error %v, old parser %v", name, gerr, werr)
	}
	if werr != nil {
		return
	}
	g, w := dumpPage(got), dumpPage(want)
	if g != w {
		t.Fatalf("%s: the page differs from the old parser's:\n%s", name, firstDiff(g, w))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the page differs from the old parser's (DeepEqual)", name)
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, g, w)
		}
	}
	return "(same lines)"
}

// tricky are pages made to reach the parser's corners: nested tables,
// links and labels across cells, options with and without values, raw
// text elements, unclosed elements, case, entities, NULs, bad UTF-8 and
// Unicode blanks split across tags.
var tricky = []string{
	``,
	`plain text only`,
	`<title> A  Title: </title><p class="error">Bad</p><div class="x ERROR y">two
 lines</div>`,
	`<table><tr><td id=a>outer <table><tr><th>H1</th><th>H2</th></tr><tr><td>r1</td><td><input type=radio name=r value=1>One <b>bold</b></td></tr></table> after</td><td>2nd</td></tr></table>`,
	`<table><tr><td><a href="/x">link <td>in next</a> cell</td></tr><tr><th>A</th><th>B</th></tr><tr><td>k</td><td><input name=t id=t1><label for=t1>Label T</label></td></tr></table>`,
	`<form name=f action="/s" method=" post "><select name=s id=s1><option>One<option value=2 selected>Two <b>x</b></option><option value="">E</select>
<input type=CHECKBOX name=c checked>Check me<br><input type=checkbox name=d value=v disabled> <span>Dee</span></td>
<textarea name=ta id=tt>
 raw <b>text</b></textarea><pre>  keep
  this </pre><button>Go</button><button type=button>No</button><button type=SUBMIT value=v>V</button></form>`,
	`<TABLE><TR><TD>Up<TD>Case<TR><TD>Row 2</TABLE><IFRAME name=f src=/f.htm></IFRAME><frame name=g src=/g.htm>`,
	`<table><tr><td>x</td><td><span id=modelname></span></td></tr><tr><td id=mac></td></tr></table><script>set("modelname","NPort\t 5150A"); set('mac','00:90');inputText("srv", 4, "v");</script>`,
	"<p>a\x00b</p><div>\xe2</div>\x80\xa8<b>\xc2</b>\xa0end &amp; &lt;b&gt; &nbsp; &#x2028; caf\xc3\xa9",
	`<table><tr><td>open <a href=/a>never closed`,
	`<head><title>t</title><style>p{}</style></head><body>out <form>in</form> out2 <select><option>x</select>after</body>`,
	`<table><tr><td>a</td></tr></table></table></tr></td><td>stray</td><tr><td>x</td></tr>`,
	`<label for=x>L1</label><label for=x>L2</label><input id=x name=n><input type=radio id=x name=r>radio text`,
	`<table><caption>c</caption><tr><th>Name</th><th>Val</th></tr><tr><td>Row:</td><td><input name=a><input type=checkbox name=b>cb<input type=radio name=c>rd</td><td><input name=z></td></tr></table>`,
	`<a href=1>one<a href=2>two</a></a><a name=noref>x</a><option value=1>outside</option>`,
	`<div class=error><p>nested <span class=error>inner</span> tail</p></div>`,
	`<table><tr><td><select name=s><option>a<table><tr><td>in select</td></tr></table></select></td></tr></table>`,
	`<input type=radio name=r>r1<input type=radio name=r>r2<div>x</div> more<table><tr><td>t</td></tr></table>`,
	`<script>`,
	`<textarea>`,
	`<input type="t&eacute;XT" name="&amp;n" value='a&quot;b'><input type=İ name=x>`,
	`<form><table><tr><td>In form</td><td><input name=f1></td></tr></table></form><table><tr><td>Out</td></tr></table>`,
	`<br/><input/><td/><tr/><table/>text<a href=x/>`,
}

func TestParseSameAsOldTricky(t *testing.T) {
	for i, s := range tricky {
		samePage(t, fmt.Sprintf("tricky%d.htm", i), []byte(s))
	}
}

func TestParseSameAsOldFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.htm")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		samePage(t, filepath.Base(f), b)
	}
	samePage(t, "big.htm", bigPage(3000))
}

// transcriptPages returns the page bodies of every checked-in capture.
func transcriptPages(t testing.TB) map[string][]byte {
	dirs, _ := filepath.Glob("testdata/capture/*/manifest.json")
	out := map[string][]byte{}
	for _, m := range dirs {
		_, ex, err := transcript.Read(filepath.Dir(m))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ex {
			if e.Kind == "http" && e.Response != nil && e.Response.Body != "" {
				out[fmt.Sprintf("%s/%03d%s", filepath.Base(filepath.Dir(m)), e.Seq, e.Request.URL)] = []byte(e.Response.Body)
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d pages in the transcripts", len(out))
	}
	return out
}

func TestParseSameAsOldTranscripts(t *testing.T) {
	for name, b := range transcriptPages(t) {
		samePage(t, name, b)
	}
}

var (
	simPagesOnce sync.Once
	simPagesSet  []simPage
)

type simPage struct {
	name string
	body []byte
}

// consolePages returns every page a Read of the simulator fetches, for a
// factory GA and a G-sec unit, and for a G-sec unit whose System Log is
// full (256 rows): fetched once per process over loopback.
func consolePages(tb testing.TB) []simPage {
	simPagesOnce.Do(func() {
		for _, g := range simnport.Generations() {
			simPagesSet = append(simPagesSet, readPages(tb, g, false)...)
		}
		simPagesSet = append(simPagesSet, readPages(tb, simnport.GenSec, true)...)
	})
	if len(simPagesSet) < 20 {
		tb.Fatalf("only %d console pages", len(simPagesSet))
	}
	return simPagesSet
}

func readPages(tb testing.TB, g simnport.Generation, fullLog bool) []simPage {
	dev, drv := startSim(tb, simnport.Config{Generation: g}, "admin", "moxa")
	ctx := context.Background()
	if fullLog {
		// each login is a line of the System Log
		for len(dev.Log()) < 256 {
			if err := drv.Close(ctx); err != nil {
				tb.Fatal(err)
			}
			if _, err := drv.Read(ctx); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := drv.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	rec := transcript.NewRecorder()
	drv.o.Recorder = rec
	if _, err := drv.Read(ctx); err != nil {
		tb.Fatal(err)
	}
	drv.o.Recorder = nil
	// the pages are kept; the simulator and driver end now, not to run
	// beside a benchmark
	if err := drv.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	dev.Close()
	var out []simPage
	for _, e := range rec.Exchanges() {
		if e.Kind == "http" && e.Request.Method == http.MethodGet && e.Response != nil && e.Response.Body != "" {
			out = append(out, simPage{fmt.Sprintf("%s/%v/%s", g, fullLog, e.Request.URL), []byte(e.Response.Body)})
		}
	}
	return out
}

func TestParseSameAsOldConsolePages_Simulator(t *testing.T) {
	full := false
	for _, p := range consolePages(t) {
		samePage(t, p.name, p.body)
		full = full || strings.Count(string(p.body), "Local Login Success") >= 250
	}
	if !full {
		t.Fatal("no System Log page of 256 lines was read")
	}
}

// FuzzParseSameAsOld compares the two parsers on any input.
func FuzzParseSameAsOld(f *testing.F) {
	for _, s := range append(tricky, attrTricky...) {
		f.Add([]byte(s))
	}
	for _, name := range []string{"console.htm", "accessip.htm"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		samePage(t, "fuzz.htm", b)
	})
}

func TestNormTextIsNorm(t *testing.T) {
	for _, s := range append(tricky, "", " ", ":", " a :", "a\u00a0 b:", "\u2028x\u3000", "x\xe2\x80", "\x85a\u0085", "a:: ", "é \t:", strings.Repeat("w \n", 100)) {
		if got, want := normText(s), norm(s); got != want {
			t.Errorf("normText(%q) = %q, norm %q", s, got, want)
		}
	}
}

// FuzzNormText checks the one-pass normText against norm.
func FuzzNormText(f *testing.F) {
	f.Add(" a\u00a0 b :")
	f.Add("x\xe2\x80\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normText(s), norm(s); got != want {
			t.Fatalf("normText(%q) = %q, norm %q", s, got, want)
		}
	})
}

// attrTricky are tags whose attributes the raw reader must split as the
// tokenizer does.
var attrTricky = []string{
	`<input type=checkbox name=a1 checked>x`,
	`<input TYPE="Radio" NAME='n' Value = v1 CHECKED/>y`,
	`<input =type=text name=x =y=z value=a/b/>`,
	`<input name="a" name="b" value="1" VALUE="2">`,
	`<input name=a&amp;b value="x&lt;y" id='i&#34;d'>`,
	"<input name=\"a\r\nb\" value=\"c\rd\" id=e\x00f>",
	`<input name = "sp aced"   value  =  'q'  / id=z>`,
	`<a href=/x/ >l</a><a href="/y"/>m</a><a href=>n</a><a href='>'>o</a>`,
	`<form method=Post action= name =f><input name=/ value=/></form>`,
	`<td id=a id=b><span id="c" ID=d>t</span></td>`,
	`<input name=a value=b`,
	`<textarea name=t id=i disabled>` + strings.Repeat("long text ", 900) + `</textarea>`,
}

func TestParseSameAsOldAttributes(t *testing.T) {
	for i, s := range attrTricky {
		samePage(t, fmt.Sprintf("attr%d.htm", i), []byte(s))
		samePage(t, fmt.Sprintf("attr%d-table.htm", i), []byte("<table><tr><td>"+s+"</td></tr></table>"))
	}
}

// BenchmarkOldParseConsolePages is BenchmarkParseConsolePages with the
// old parser, for comparison in one process.
func BenchmarkOldParseConsolePages(b *testing.B) {
	pages := consolePages(b)
	u, _ := url.Parse("http://127.0.0.1/page.htm")
	ctx := context.Background()
	for b.Loop() {
		for _, p := range pages {
			if _, err := oldParsePage(ctx, u, p.body); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOldParse2MiBPage is BenchmarkParse2MiBPage with the old parser.
func BenchmarkOldParse2MiBPage(b *testing.B) {
	body := bigPage(49000)
	u, _ := url.Parse("http://127.0.0.1/big.htm")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := oldParsePage(context.Background(), u, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizeConsolePages is the tokenizer alone on the pages of
// BenchmarkParseConsolePages: the floor of the parser's time.
func BenchmarkTokenizeConsolePages(b *testing.B) {
	pages := consolePages(b)
	for b.Loop() {
		for _, p := range pages {
			z := html.NewTokenizer(bytes.NewReader(p.body))
			for z.Next() != html.ErrorToken {
			}
		}
	}
}

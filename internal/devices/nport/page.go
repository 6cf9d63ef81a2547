package nport

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// control is one form control as a browser sees it.
type control struct {
	Name, Type, Value string // Type: text, password, hidden, radio, checkbox, select, textarea, submit, ...
	Checked, Disabled bool
	Options           []option
	Text              string // a radio's or checkbox's label text
	Row               string // the first cell of the control's table row
	Col               string // the header of the control's column, if the table has one
	Scripted          bool   // written by a page script call, not static markup
	id                string
}

type option struct {
	Value, Text string
	Selected    bool
}

// form is one HTML form.
type form struct {
	Name, Action, Method string
	Controls             []*control
}

// link is an <a href> with its visible text.
type link struct{ Text, Href string }

// cell is one table cell: its text, links and controls.
type cell struct {
	Text     string
	Links    []link
	Controls []*control
	ids      []string // ids of elements inside the cell, for script-set values
}

// page is a parsed console page.
type page struct {
	URL    *url.URL
	Title  string
	Forms  []*form
	Links  []link
	Frames map[string]string // frame name -> src
	Tables [][][]cell        // table -> rows -> cells (innermost tables only see their own cells)
	Errors []string          // texts of the device's error markers
	Text   string            // all visible text, whitespace collapsed
	Blocks []string          // contents of <pre> and <textarea>, raw
	// Outside is the visible text outside the forms and the title: where
	// a login page says why it came back.
	Outside string
	// Scripted holds the values page scripts set by element id
	// (set("modelname","...") and its kin).
	Scripted map[string]string
}

// norm collapses whitespace and trims a trailing colon.
func norm(s string) string {
	if simple(s) {
		return strings.TrimSpace(strings.TrimSuffix(s, ":"))
	}
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimSpace(strings.TrimSuffix(s, ":"))
}

// simple reports ASCII text with no space but single inner blanks, which
// norm need not rebuild.
func simple(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c < ' ' || c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ') {
			return false
		}
	}
	return true
}

// jsCall is one function call found in a script: its name and its
// literal arguments (strings unquoted, other tokens as written).
type jsCall struct {
	name string
	args []string
}

// scanCalls finds name(arg, ...) calls in src in one pass. It is no
// JavaScript parser: it reads identifiers, string and number literals,
// enough for the calls firmware pages make.
func scanCalls(src string) []jsCall {
	var out []jsCall
	i := 0
	isID := func(c byte) bool {
		return c == '_' || c == '$' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			_, i = jsString(src, i)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			if e := strings.Index(src[i+2:], "*/"); e >= 0 {
				i += e + 4
			} else {
				i = len(src)
			}
		case isID(c):
			s := i
			for i < len(src) && isID(src[i]) {
				i++
			}
			name := src[s:i]
			if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
				name = name[dot+1:]
			}
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
				j++
			}
			if j < len(src) && src[j] == '(' {
				if _, ok := scriptCallTable[name]; ok {
					args, end, ok := jsArgs(src, j+1)
					if ok {
						out = append(out, jsCall{name: name, args: args})
						i = end
					}
				}
			}
		default:
			i++
		}
	}
	return out
}

// jsArgs reads literal arguments up to the closing parenthesis. A nested
// call or expression ends the scan (ok false).
func jsArgs(src string, i int) (args []string, end int, ok bool) {
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == ')':
			return args, i + 1, true
		case c == '"' || c == '\'':
			var s string
			s, i = jsString(src, i)
			args = append(args, s)
		case c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			s := i
			i++
			for i < len(src) && (src[i] == '.' || src[i] == '_' || src[i] >= '0' && src[i] <= '9' || src[i] >= 'a' && src[i] <= 'z' || src[i] >= 'A' && src[i] <= 'Z') {
				i++
			}
			args = append(args, src[s:i])
		default:
			return nil, i, false
		}
	}
	return nil, i, false
}

// jsString reads a quoted literal starting at src[i], handling the
// common escapes; it returns the value and the index after it.
func jsString(src string, i int) (string, int) {
	q := src[i]
	var b strings.Builder
	i++
	for i < len(src) {
		c := src[i]
		switch {
		case c == q:
			return b.String(), i + 1
		case c == '\\' && i+1 < len(src):
			i++
			switch e := src[i]; e {
			case 'x', 'u':
				n := 2
				if e == 'u' {
					n = 4
				}
				if i+n < len(src) {
					if v, err := strconv.ParseUint(src[i+1:i+1+n], 16, 32); err == nil {
						b.WriteRune(rune(v))
						i += n
						break
					}
				}
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
		case c == '\n':
			return b.String(), i
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String(), i
}

func hasClass(list, class string) bool {
	for _, c := range strings.Fields(list) {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// link returns the href of the link whose text is text (sameText).
func (p *page) link(text string) (string, bool) {
	for _, l := range p.Links {
		if sameText(l.Text, text) {
			return l.Href, true
		}
	}
	return "", false
}

// sameText compares two labels as a reader would: case, spacing, a
// trailing colon and "&" against "and" do not matter.
func sameText(a, b string) bool {
	if a == b {
		return true
	}
	if !ascii(a) || !ascii(b) {
		return canonText(a) == canonText(b)
	}
	// ASCII labels (all the console's) are compared word by word, with no
	// copy: the parse of one page makes thousands of these comparisons
	a, b = labelCore(a), labelCore(b)
	for {
		var wa, wb string
		wa, a = nextWord(a)
		wb, b = nextWord(b)
		if wa == "" || wb == "" {
			return wa == wb
		}
		if !strings.EqualFold(wa, wb) {
			return false
		}
	}
}

// canonText is the form sameText compares: norm's, lower case, "&" read
// as "and", single spaces.
func canonText(s string) string {
	s = strings.ToLower(norm(s))
	s = strings.ReplaceAll(s, "&", " and ")
	return strings.Join(strings.Fields(s), " ")
}

// ascii reports whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// labelCore is an ASCII label without its outer spaces and one trailing
// colon (what norm trims).
func labelCore(s string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ":"))
}

// nextWord splits the first word off ASCII s: words are separated by
// spaces, and "&" is the word "and" on its own. It returns "" at the end.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && asciiSpace(s[i]) {
		i++
	}
	s = s[i:]
	if s == "" {
		return "", ""
	}
	if s[0] == '&' {
		return "and", s[1:]
	}
	j := 0
	for j < len(s) && !asciiSpace(s[j]) && s[j] != '&' {
		j++
	}
	return s[:j], s[j:]
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// resolve makes href absolute against the page's URL.
func (p *page) resolve(href string) (string, error) {
	r, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", fmt.Errorf("bad link %q: %w", href, err)
	}
	abs := p.URL.ResolveReference(r)
	if abs.Host != p.URL.Host || abs.Scheme != p.URL.Scheme {
		return "", fmt.Errorf("link leaves the device (%s)", abs.Redacted())
	}
	return abs.String(), nil
}

// formWithSubmit returns the form that has a submit button showing value.
func (p *page) formWithSubmit(value string) (*form, bool) {
	for _, f := range p.Forms {
		for _, c := range f.Controls {
			if (c.Type == "submit" || c.Type == "image") && sameText(c.Value, value) {
				return f, true
			}
		}
	}
	return nil, false
}

// row returns the controls of f in the row labelled label.
func (f *form) row(label string) []*control {
	var out []*control
	for _, c := range f.Controls {
		if sameText(c.Row, label) {
			out = append(out, c)
		}
	}
	return out
}

// cell returns the controls in row label and column col.
func (f *form) cell(row, col string) []*control {
	var out []*control
	for _, c := range f.Controls {
		if sameText(c.Row, row) && sameText(c.Col, col) {
			out = append(out, c)
		}
	}
	return out
}

func first(cs []*control, types ...string) (*control, bool) {
	for _, c := range cs {
		for _, t := range types {
			if c.Type == t {
				return c, true
			}
		}
	}
	return nil, false
}

var textTypes = []string{"text", "password", "textarea", "number", "email", "tel", ""}

// selectedText is the text of a select's chosen option (the first when
// none is marked).
func selectedText(s *control) string {
	for _, o := range s.Options {
		if o.Selected {
			return o.Text
		}
	}
	if len(s.Options) > 0 {
		return s.Options[0].Text
	}
	return ""
}

// choice reads the chosen radio label text or select option text in a row.
func (f *form) choice(label string) (string, error) {
	cs := f.row(label)
	for _, c := range cs {
		if c.Type == "radio" && c.Checked {
			return c.Text, nil
		}
	}
	if s, ok := first(cs, "select"); ok {
		for _, o := range s.Options {
			if o.Selected {
				return o.Text, nil
			}
		}
		if len(s.Options) > 0 {
			return s.Options[0].Text, nil
		}
	}
	if _, ok := first(cs, "radio"); ok {
		return "", nil // no radio checked
	}
	return "", fmt.Errorf("no choice labelled %q", label)
}

// setChoice checks the radio or selects the option whose text is text.
func (f *form) setChoice(label, text string) error {
	cs := f.row(label)
	found := false
	for _, c := range cs {
		if c.Type == "radio" && sameText(c.Text, text) {
			found = true
		}
	}
	if found {
		for _, c := range cs {
			if c.Type == "radio" {
				c.Checked = sameText(c.Text, text)
			}
		}
		return nil
	}
	if s, ok := first(cs, "select"); ok {
		for i := range s.Options {
			if sameText(s.Options[i].Text, text) {
				for j := range s.Options {
					s.Options[j].Selected = i == j
				}
				return nil
			}
		}
		return fmt.Errorf("%q has no option %q", label, text)
	}
	return fmt.Errorf("no choice labelled %q with option %q", label, text)
}

// enabled reads an Enable/Disable row (radios, select or a checkbox).
func (f *form) enabled(label string) (bool, error) {
	if c, ok := first(f.row(label), "checkbox"); ok {
		return c.Checked, nil
	}
	t, err := f.choice(label)
	if err != nil {
		return false, err
	}
	return sameText(t, quirks.Enable) || sameText(t, "Enabled"), nil
}

func (f *form) setEnabled(label string, on bool) error {
	if c, ok := first(f.row(label), "checkbox"); ok {
		c.Checked = on
		return nil
	}
	t := quirks.Disable
	if on {
		t = quirks.Enable
	}
	return f.setChoice(label, t)
}

// text reads the text input of a row.
func (f *form) text(label string) (string, error) {
	c, ok := first(f.row(label), textTypes...)
	if !ok {
		return "", fmt.Errorf("no text field labelled %q", label)
	}
	return c.Value, nil
}

func (f *form) setText(label, v string) error {
	c, ok := first(f.row(label), textTypes...)
	if !ok {
		return fmt.Errorf("no text field labelled %q", label)
	}
	c.Value = v
	return nil
}

// checkbox reads the checkbox of a row whose text is text ("" for any).
func (f *form) checkbox(cs []*control, text string) (*control, bool) {
	for _, c := range cs {
		if c.Type == "checkbox" && (text == "" || sameText(c.Text, text)) {
			return c, true
		}
	}
	return nil, false
}

// pairs encodes the form as a browser does when the submit button showing
// submit is clicked.
func (f *form) pairs(submit string) [][2]string {
	var btn *control
	for _, c := range f.Controls {
		if (c.Type == "submit" || c.Type == "image") && sameText(c.Value, submit) {
			btn = c
			break
		}
	}
	return f.pairsFor(btn)
}

// pairsFor encodes the form as a browser does when btn is clicked: every
// enabled, named control in document order, checked boxes only, the
// selected option of each select, and only the clicked button.
func (f *form) pairsFor(btn *control) [][2]string {
	var out [][2]string
	for _, c := range f.Controls {
		if c.Name == "" || c.Disabled {
			continue
		}
		switch c.Type {
		case "submit", "image":
			if c == btn {
				out = append(out, [2]string{c.Name, c.Value})
			}
		case "button", "reset", "file":
		case "radio", "checkbox":
			if c.Checked {
				out = append(out, [2]string{c.Name, c.Value})
			}
		case "select":
			sel := -1
			for i, o := range c.Options {
				if o.Selected {
					sel = i
				}
			}
			if sel < 0 && len(c.Options) > 0 {
				sel = 0
			}
			if sel >= 0 {
				out = append(out, [2]string{c.Name, c.Options[sel].Value})
			}
		default:
			out = append(out, [2]string{c.Name, c.Value})
		}
	}
	return out
}

// secretNames lists the names of the form's password inputs, for the
// transcript's masking.
func (f *form) secretNames() []string {
	var out []string
	for _, c := range f.Controls {
		if c.Type == "password" && c.Name != "" {
			out = append(out, c.Name)
		}
	}
	return out
}

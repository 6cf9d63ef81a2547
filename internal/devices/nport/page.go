package nport

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// control is one form control as a browser sees it.
type control struct {
	Name, Type, Value string // Type: text, password, hidden, radio, checkbox, select, textarea, submit, ...
	Checked, Disabled bool
	Options           []option
	Text              string // a radio's or checkbox's label text
	Row               string // the first cell of the control's table row
	Col               string // the header of the control's column, if the table has one
	id                string
}

type option struct {
	Value, Text string
	Selected    bool
}

// form is one HTML form.
type form struct {
	Action, Method string
	Controls       []*control
}

// link is an <a href> with its visible text.
type link struct{ Text, Href string }

// cell is one table cell: its text, links and controls.
type cell struct {
	Text     string
	Links    []link
	Controls []*control
}

// page is a parsed console page.
type page struct {
	URL    *url.URL
	Forms  []*form
	Links  []link
	Frames map[string]string // frame name -> src
	Tables [][][]cell        // table -> rows -> cells (innermost tables only see their own cells)
	Errors []string          // texts of the device's error markers
	Text   string            // all visible text, whitespace collapsed
	Blocks []string          // contents of <pre> and <textarea>, raw
}

// norm collapses whitespace and trims a trailing colon.
func norm(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimSpace(strings.TrimSuffix(s, ":"))
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		if n.DataAtom == atom.Script || n.DataAtom == atom.Style || n.DataAtom == atom.Select || n.DataAtom == atom.Textarea {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return norm(b.String())
}

func ancestor(n *html.Node, a atom.Atom) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == a {
			return p
		}
	}
	return nil
}

// cellsOf returns the td/th children of a tr.
func cellsOf(tr *html.Node) []*html.Node {
	var out []*html.Node
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.DataAtom == atom.Td || c.DataAtom == atom.Th {
			out = append(out, c)
		}
	}
	return out
}

// rowsOf returns the rows of a table, not those of nested tables.
func rowsOf(table *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.DataAtom {
			case atom.Tr:
				out = append(out, c)
			case atom.Table:
			default:
				walk(c)
			}
		}
	}
	walk(table)
	return out
}

// headerOf returns the header texts of a table: its first row made of th
// cells.
func headerOf(table *html.Node) []string {
	for _, tr := range rowsOf(table) {
		cs := cellsOf(tr)
		if len(cs) > 0 && cs[0].DataAtom == atom.Th {
			h := make([]string, len(cs))
			for i, c := range cs {
				h[i] = textOf(c)
			}
			return h
		}
	}
	return nil
}

// parsePage parses body as the page at u.
func parsePage(u *url.URL, body []byte) (*page, error) {
	root, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	p := &page{URL: u, Frames: map[string]string{}}
	labels := map[string]string{} // id -> label text
	var cur *form
	var ctrls []*control
	ctrlNode := map[*html.Node]*control{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Form:
				action, _ := attr(n, "action")
				method, _ := attr(n, "method")
				cur = &form{Action: action, Method: strings.ToUpper(method)}
				p.Forms = append(p.Forms, cur)
			case atom.A:
				if href, ok := attr(n, "href"); ok {
					p.Links = append(p.Links, link{Text: textOf(n), Href: href})
				}
			case atom.Frame, atom.Iframe:
				name, _ := attr(n, "name")
				src, _ := attr(n, "src")
				p.Frames[name] = src
			case atom.Label:
				if f, ok := attr(n, "for"); ok {
					labels[f] = textOf(n)
				}
			case atom.Div, atom.Span, atom.P, atom.Font:
				if cls, _ := attr(n, "class"); hasClass(cls, quirks.ErrorClass) {
					p.Errors = append(p.Errors, textOf(n))
				}
			case atom.Pre:
				p.Blocks = append(p.Blocks, rawText(n))
			case atom.Input, atom.Select, atom.Textarea, atom.Button:
				c := newControl(n)
				if c != nil {
					ctrls = append(ctrls, c)
					ctrlNode[n] = c
					if cur != nil {
						cur.Controls = append(cur.Controls, c)
					}
				}
				if n.DataAtom == atom.Textarea {
					p.Blocks = append(p.Blocks, rawText(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	p.Text = textOf(root)
	// labels and table positions
	for n, c := range ctrlNode {
		if t, ok := labels[c.id]; ok && c.id != "" {
			c.Text = t
		} else if c.Type == "radio" || c.Type == "checkbox" {
			c.Text = followingText(n)
		}
		td := ancestor(n, atom.Td)
		if td == nil {
			continue
		}
		tr := td.Parent
		if tr == nil || tr.DataAtom != atom.Tr {
			continue
		}
		cs := cellsOf(tr)
		idx := -1
		for i, x := range cs {
			if x == td {
				idx = i
			}
		}
		if idx > 0 {
			c.Row = textOf(cs[0])
		}
		if table := ancestor(tr, atom.Table); table != nil {
			if h := headerOf(table); idx >= 0 && idx < len(h) {
				c.Col = h[idx]
			}
		}
	}
	// tables
	var tables func(*html.Node)
	tables = func(n *html.Node) {
		if n.DataAtom == atom.Table {
			var rows [][]cell
			for _, tr := range rowsOf(n) {
				var row []cell
				for _, td := range cellsOf(tr) {
					c := cell{Text: textOf(td)}
					var inner func(*html.Node)
					inner = func(x *html.Node) {
						if x.DataAtom == atom.A {
							if href, ok := attr(x, "href"); ok {
								c.Links = append(c.Links, link{Text: textOf(x), Href: href})
							}
						}
						if ctl, ok := ctrlNode[x]; ok {
							c.Controls = append(c.Controls, ctl)
						}
						for y := x.FirstChild; y != nil; y = y.NextSibling {
							inner(y)
						}
					}
					inner(td)
					row = append(row, c)
				}
				rows = append(rows, row)
			}
			p.Tables = append(p.Tables, rows)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			tables(c)
		}
	}
	tables(root)
	_ = ctrls
	return p, nil
}

func hasClass(list, class string) bool {
	for _, c := range strings.Fields(list) {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

func rawText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// followingText is the text right after a control, up to the next element
// that is not inline text.
func followingText(n *html.Node) string {
	var b strings.Builder
	for s := n.NextSibling; s != nil; s = s.NextSibling {
		if s.Type == html.TextNode {
			b.WriteString(s.Data)
			continue
		}
		if s.DataAtom == atom.Input || s.DataAtom == atom.Br || s.DataAtom == atom.Select {
			break
		}
		b.WriteString(textOf(s))
	}
	return norm(b.String())
}

func newControl(n *html.Node) *control {
	c := &control{}
	c.Name, _ = attr(n, "name")
	c.id, _ = attr(n, "id")
	_, c.Disabled = attr(n, "disabled")
	switch n.DataAtom {
	case atom.Input:
		t, _ := attr(n, "type")
		c.Type = strings.ToLower(t)
		if c.Type == "" {
			c.Type = "text"
		}
		v, hasV := attr(n, "value")
		c.Value = v
		if (c.Type == "checkbox" || c.Type == "radio") && !hasV {
			c.Value = "on"
		}
		_, c.Checked = attr(n, "checked")
	case atom.Button:
		t, _ := attr(n, "type")
		if t != "" && !strings.EqualFold(t, "submit") {
			return nil
		}
		c.Type = "submit"
		v, ok := attr(n, "value")
		if !ok {
			v = textOf(n)
		}
		c.Value = v
	case atom.Textarea:
		c.Type = "textarea"
		c.Value = strings.TrimPrefix(rawText(n), "\n")
	case atom.Select:
		c.Type = "select"
		for o := n.FirstChild; o != nil; o = o.NextSibling {
			var opts []*html.Node
			if o.DataAtom == atom.Option {
				opts = append(opts, o)
			} else if o.DataAtom == atom.Optgroup {
				for oo := o.FirstChild; oo != nil; oo = oo.NextSibling {
					if oo.DataAtom == atom.Option {
						opts = append(opts, oo)
					}
				}
			}
			for _, on := range opts {
				txt := textOf(on)
				v, ok := attr(on, "value")
				if !ok {
					v = txt
				}
				_, sel := attr(on, "selected")
				c.Options = append(c.Options, option{Value: v, Text: txt, Selected: sel})
			}
		}
	}
	return c
}

// link returns the href of the link whose text is text.
func (p *page) link(text string) (string, bool) {
	for _, l := range p.Links {
		if l.Text == text {
			return l.Href, true
		}
	}
	return "", false
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
			if c.Type == "submit" && c.Value == value {
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
		if c.Row == label {
			out = append(out, c)
		}
	}
	return out
}

// cell returns the controls in row label and column col.
func (f *form) cell(row, col string) []*control {
	var out []*control
	for _, c := range f.Controls {
		if c.Row == row && c.Col == col {
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
		if c.Type == "radio" && c.Text == text {
			found = true
		}
	}
	if found {
		for _, c := range cs {
			if c.Type == "radio" {
				c.Checked = c.Text == text
			}
		}
		return nil
	}
	if s, ok := first(cs, "select"); ok {
		for i := range s.Options {
			if s.Options[i].Text == text {
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
	return t == quirks.Enable, nil
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
		if c.Type == "checkbox" && (text == "" || c.Text == text) {
			return c, true
		}
	}
	return nil, false
}

// pairs encodes the form as a browser does when submit is clicked: every
// enabled, named control in document order, checked boxes only, the
// selected option of each select, and only the clicked submit button.
func (f *form) pairs(submit string) [][2]string {
	var out [][2]string
	for _, c := range f.Controls {
		if c.Name == "" || c.Disabled {
			continue
		}
		switch c.Type {
		case "submit", "image":
			if c.Value == submit {
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

package nport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseLimit is how many tokens the parser reads between context checks.
const parseLimit = 4096

// The parser writes the visible text of the page once, into parser.all;
// every other text it collects (a cell's, a link's, a label's, the text
// outside the forms) is a range of that buffer, and a finished text is a
// substring of it whenever norm has nothing to rebuild. A strings.Builder
// only ever appends, so a string taken from it stays valid as it grows.

// span is the range [from, to) of parser.all.
type span struct{ from, to int }

// addSpan appends [from, to) to spans, joining it to the last span when
// they touch.
func addSpan(spans []span, from, to int) []span {
	if n := len(spans); n > 0 && spans[n-1].to == from {
		spans[n-1].to = to
		return spans
	}
	return append(spans, span{from, to})
}

// sinkKind says where a text collector's text goes.
type sinkKind uint8

const (
	sinkTitle  sinkKind = iota // the page title
	sinkLink                   // a link: page and cell
	sinkLabel                  // a label for an id
	sinkError                  // a device error marker
	sinkPre                    // a pre block, raw
	sinkButton                 // a button's value
)

// textSink collects the text of one open element: the text written to
// parser.all from its start on.
type textSink struct {
	kind  sinkKind
	depth int // elements opened inside it and not yet closed
	from  int // offset in parser.all where its text starts
	str   string
	cell  *cell    // sinkLink: the cell the link starts in, if any
	ctrl  *control // sinkButton
}

// tableCtx is one open table: its cells, row ends, header and current
// row and cell.
type tableCtx struct {
	order    int     // tables started before it
	cells    []*cell // every cell, row after row
	rowEnds  []int   // index in cells after each closed row
	rowStart int     // index in cells of the current row's first cell
	header   []string
	inRow    bool
	first    string // text of the current row's first cell
	th       bool   // the current row's first cell is a th
	cell     *cell
	text     []span // the current cell's text
	isTh     bool
	idx      int // index of the current cell in its row
}

// parser builds a page from the token stream in one pass: linear in the
// size of the page, with no tree kept.
type parser struct {
	ctx     context.Context
	p       *page
	labels  map[string]string // id -> label text, made when needed
	ctrls   []*control
	cur     *form
	tables  []*tableCtx // open tables, innermost last
	done    []*tableCtx // closed tables
	nTables int
	sinks   []textSink // open text collectors (links, labels, titles, ...)
	all     strings.Builder
	out     []span // the text outside forms, title and head
	// state of the element being read
	sel         *control // open select
	opt         *option  // open option
	optHasValue bool
	optB        strings.Builder // every option's text, one after another
	optFrom     int             // where the open option's text starts in optB
	follow      []*control      // radios and checkboxes waiting for their text
	followFrom  int             // where their text starts in all
	followDep   int
	inForm      int
	inTitle     bool
	inHead      bool
	attrs       attrList // the current tag's attributes (token)
	// the page's strings and small objects, taken from chunks
	arena  strings.Builder
	cellsA []cell
	ctrlsA []control
	ptrsA  []*control
}

// parsePage parses body as the page at u. It runs in time linear in the
// size of body and stops when ctx ends.
func parsePage(ctx context.Context, u *url.URL, body []byte) (*page, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	ps := &parser{ctx: ctx, p: &page{URL: u, Frames: map[string]string{}, Scripted: map[string]string{}}}
	ps.all.Grow(len(body) / 4)
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(len(body) + 4096)
	for n := 0; ; n++ {
		if n%parseLimit == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("parse page: %w", err)
			}
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("parse page: %w", err)
			}
			break
		}
		ps.token(z, tt)
	}
	ps.finish()
	return ps.p, nil
}

// tagAtom is the atom of the current tag token, read from its raw bytes
// as the tokenizer reads the name (TagName copies it for every tag).
func tagAtom(z *html.Tokenizer, tt html.TokenType) atom.Atom {
	raw := z.Raw()
	i := 1
	if tt == html.EndTagToken {
		i = 2
	}
	var buf [32]byte
	n := 0
	for ; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case ' ', '\n', '\r', '\t', '\f', '/', '>':
			return atom.Lookup(buf[:n])
		}
		if n == len(buf) {
			return 0 // longer than any atom
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return atom.Lookup(buf[:n])
}

// wantsAttrs reports whether start (or token) reads the attributes of a
// tag a: the tokenizer copies each one it is asked for.
func (ps *parser) wantsAttrs(a atom.Atom) bool {
	switch a {
	case atom.Form, atom.A, atom.Frame, atom.Iframe, atom.Label, atom.Div, atom.Span, atom.P, atom.Font, atom.H4,
		atom.Select, atom.Option, atom.Input, atom.Button, atom.Td, atom.Th, atom.Textarea:
		return true
	case atom.Script, atom.Style:
		return false
	}
	// any element's id is kept by the cell it is in
	tc := ps.table()
	return tc != nil && tc.cell != nil
}

func (ps *parser) token(z *html.Tokenizer, tt html.TokenType) {
	switch tt {
	case html.TextToken:
		ps.text(z.Text())
	case html.StartTagToken, html.SelfClosingTagToken:
		a := tagAtom(z, tt)
		attrs := ps.attrs[:0] // one list for every tag: start copies what it keeps
		if ps.wantsAttrs(a) {
			var ok bool
			if attrs, ok = rawAttrs(z.Raw(), attrs); !ok {
				attrs = attrs[:0]
				for {
					k, v, more := z.TagAttr()
					if k == nil { // the tokenizer keeps no attribute without a name
						break
					}
					// valid until the next token: start copies what it keeps
					attrs = append(attrs, [2][]byte{k, v})
					if !more {
						break
					}
				}
			}
		}
		ps.attrs = attrs
		switch a {
		case atom.Script, atom.Style, atom.Textarea:
			var c *control
			if a == atom.Textarea {
				// the attributes are read before the next token
				c = ps.newControl()
				c.Name, c.Type, c.id = ps.val("name"), "textarea", ps.val("id")
				c.Disabled = attrs.has("disabled")
			}
			ps.attrs = attrs[:0]
			// the tokenizer reads their content as one raw text token
			var content string
			if tt == html.StartTagToken && z.Next() == html.TextToken {
				content = string(z.Text())
				z.Next() // the end tag
			}
			switch a {
			case atom.Script:
				ps.script(content)
			case atom.Textarea:
				c.Value = strings.TrimPrefix(content, "\n")
				ps.addControl(c)
				ps.p.Blocks = append(ps.p.Blocks, content)
			}
			return
		}
		ps.start(a, attrs, tt == html.SelfClosingTagToken)
	case html.EndTagToken:
		ps.end(tagAtom(z, tt))
	}
}

// rawAttrs appends the attributes of a start tag to attrs, read from the
// raw tag as the tokenizer reads them (readTag), without its copies. It
// reports false, for the tokenizer to read them, when a value holds what
// the tokenizer rewrites (an entity, a CR, a NUL) or the tag is cut.
func rawAttrs(raw []byte, attrs attrList) (attrList, bool) {
	n := len(raw)
	if n < 3 || raw[0] != '<' || raw[n-1] != '>' {
		return attrs, false
	}
	ws := func(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }
	i := 2 // after "<" and the name's first byte
	for i < n {
		c := raw[i]
		i++
		if ws(c) {
			break
		}
		if c == '/' || c == '>' {
			i--
			break
		}
	}
	skip := func() {
		for i < n && ws(raw[i]) {
			i++
		}
	}
	skip()
	for i < n {
		if raw[i] == '>' {
			if i != n-1 {
				return attrs, false
			}
			return attrs, true
		}
		// the name (readTagAttrKey)
		ks := i
	key:
		for i < n {
			c := raw[i]
			i++
			switch c {
			case '=':
				if ks+1 == i {
					continue // a name may start with "="
				}
				i--
				break key
			case ' ', '\n', '\r', '\t', '\f', '/', '>':
				i--
				break key
			}
		}
		k := raw[ks:i]
		// the value (readTagAttrVal)
		var v []byte
		skip()
		if i < n {
			switch c := raw[i]; {
			case c == '/':
				i++
			case c == '=':
				i++
				skip()
				if i < n {
					switch q := raw[i]; q {
					case '>':
					case '\'', '"':
						i++
						vs := i
						for i < n && raw[i] != q {
							i++
						}
						if i == n {
							return attrs, false
						}
						v = raw[vs:i]
						i++
					default:
						vs := i
						for i < n && !ws(raw[i]) && raw[i] != '>' {
							i++
						}
						v = raw[vs:i]
					}
				}
			}
		}
		if bytes.ContainsAny(v, "&\r\x00") {
			return attrs, false
		}
		if len(k) > 0 {
			attrs = append(attrs, [2][]byte{k, v})
		}
		skip()
	}
	return attrs, false
}

// attrList is a tag's attributes in order; the first of a name wins, as
// in a browser.
type attrList [][2][]byte

// raw returns the value of attribute k (lower case), valid until the
// next token. Names are compared as the tokenizer lowers them.
func (l attrList) raw(k string) ([]byte, bool) {
	for _, a := range l {
		if nameIs(a[0], k) {
			return a[1], true
		}
	}
	return nil, false
}

// nameIs reports whether lower(name) is k, lower as the tokenizer's
// (A-Z only).
func nameIs(name []byte, k string) bool {
	if len(name) != len(k) {
		return false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != k[i] {
			return false
		}
	}
	return true
}

func (l attrList) has(k string) bool {
	_, ok := l.raw(k)
	return ok
}

// get returns the value of the current tag's attribute k as a string of
// the page's arena.
func (ps *parser) get(k string) (string, bool) {
	v, ok := ps.attrs.raw(k)
	return ps.str(v), ok
}

func (ps *parser) val(k string) string {
	v, _ := ps.get(k)
	return v
}

// str copies b into the arena: one allocation for many short strings.
func (ps *parser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if ps.arena.Cap()-ps.arena.Len() < len(b) {
		size := min(max(2*ps.arena.Cap(), 512), 64<<10)
		ps.arena = strings.Builder{}
		ps.arena.Grow(max(size, len(b)))
	}
	n := ps.arena.Len()
	ps.arena.Write(b)
	return ps.arena.String()[n:]
}

// lowerStr is strings.ToLower(string(b)), without a copy for the usual
// input types.
func (ps *parser) lowerStr(b []byte) string {
	var buf [16]byte
	if len(b) > len(buf) {
		return strings.ToLower(string(b))
	}
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return strings.ToLower(string(b))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	l := buf[:len(b)]
	for _, t := range inputTypes {
		if string(l) == t {
			return t
		}
	}
	return ps.str(l)
}

var inputTypes = []string{"text", "checkbox", "radio", "hidden", "password", "submit", "image", "button", "reset", "file", "number", "email", "tel"}

// newCell returns a zero cell taken from a chunk.
func (ps *parser) newCell() *cell {
	if len(ps.cellsA) == cap(ps.cellsA) {
		ps.cellsA = make([]cell, 0, min(max(2*cap(ps.cellsA), 8), 512))
	}
	ps.cellsA = ps.cellsA[:len(ps.cellsA)+1]
	return &ps.cellsA[len(ps.cellsA)-1]
}

// newControl returns a zero control taken from a chunk.
func (ps *parser) newControl() *control {
	if len(ps.ctrlsA) == cap(ps.ctrlsA) {
		ps.ctrlsA = make([]control, 0, min(max(2*cap(ps.ctrlsA), 4), 256))
	}
	ps.ctrlsA = ps.ctrlsA[:len(ps.ctrlsA)+1]
	return &ps.ctrlsA[len(ps.ctrlsA)-1]
}

// one returns a slice of length and capacity 1 holding c, taken from a
// chunk: a cell's first control (a second one is appended as usual).
func (ps *parser) one(c *control) []*control {
	if len(ps.ptrsA) == cap(ps.ptrsA) {
		ps.ptrsA = make([]*control, 0, min(max(2*cap(ps.ptrsA), 16), 1024))
	}
	n := len(ps.ptrsA)
	ps.ptrsA = append(ps.ptrsA, c)
	return ps.ptrsA[n : n+1 : n+1]
}

// void elements have no end tag.
func void(a atom.Atom) bool {
	switch a {
	case atom.Input, atom.Br, atom.Img, atom.Meta, atom.Link, atom.Hr, atom.Frame, atom.Area, atom.Base, atom.Col, atom.Embed, atom.Param, atom.Source, atom.Wbr:
		return true
	}
	return false
}

// text takes a text token, valid until the next token. It is written
// once, to all; the collectors keep ranges of it.
func (ps *parser) text(t []byte) {
	if ps.opt != nil {
		ps.optB.Write(t)
		return
	}
	if ps.sel != nil || len(t) == 0 {
		return
	}
	from := ps.all.Len()
	ps.all.Write(t)
	to := ps.all.Len()
	if ps.inForm == 0 && !ps.inTitle && !ps.inHead {
		ps.out = addSpan(ps.out, from, to)
	}
	if tc := ps.table(); tc != nil && tc.cell != nil {
		tc.text = addSpan(tc.text, from, to)
	}
}

// spansText is the text of spans of all, joined.
func (ps *parser) spansText(spans []span) string {
	all := ps.all.String()
	switch len(spans) {
	case 0:
		return ""
	case 1:
		return all[spans[0].from:spans[0].to]
	}
	n := 0
	for _, s := range spans {
		n += s.to - s.from
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range spans {
		b.WriteString(all[s.from:s.to])
	}
	return b.String()
}

func (ps *parser) table() *tableCtx {
	if len(ps.tables) == 0 {
		return nil
	}
	return ps.tables[len(ps.tables)-1]
}

// sink opens a text collector for the element just started; its text
// goes where kind says when the element ends.
func (ps *parser) sink(s textSink) {
	s.from = ps.all.Len()
	ps.sinks = append(ps.sinks, s)
}

func (ps *parser) newRow(tc *tableCtx) {
	tc.rowStart, tc.inRow, tc.first, tc.th, tc.idx = len(tc.cells), true, "", false, -1
}

func (ps *parser) start(a atom.Atom, attr attrList, selfClosing bool) {
	p := ps.p
	if len(ps.follow) > 0 {
		switch a {
		case atom.Input, atom.Br, atom.Select, atom.Td, atom.Th, atom.Tr, atom.Table:
			ps.endFollow()
		default:
			if !void(a) && !selfClosing {
				ps.followDep++
			}
		}
	}
	if !void(a) && !selfClosing {
		for i := range ps.sinks {
			ps.sinks[i].depth++
		}
	}
	if a != atom.Td && a != atom.Th {
		if tc := ps.table(); tc != nil && tc.cell != nil {
			if id, ok := ps.get("id"); ok {
				tc.cell.ids = append(tc.cell.ids, id)
			}
		}
	}
	switch a {
	case atom.Head:
		ps.inHead = true
	case atom.Body:
		ps.inHead = false
	case atom.Title:
		ps.inTitle = true
		ps.sink(textSink{kind: sinkTitle})
	case atom.Table:
		ps.closeSelect()
		ps.tables = append(ps.tables, &tableCtx{order: ps.nTables})
		ps.nTables++
	case atom.Tr:
		if tc := ps.table(); tc != nil {
			ps.closeRow(tc)
			ps.newRow(tc)
		}
	case atom.Td, atom.Th:
		tc := ps.table()
		if tc == nil {
			break
		}
		ps.closeCell(tc)
		if !tc.inRow {
			ps.newRow(tc)
		}
		c := ps.newCell()
		if id, ok := ps.get("id"); ok {
			c.ids = append(c.ids, id)
		}
		tc.idx++
		tc.cell, tc.text, tc.isTh = c, tc.text[:0], a == atom.Th
		tc.cells = append(tc.cells, c)
	case atom.Form:
		method, _ := attr.raw("method")
		ps.cur = &form{Name: ps.val("name"), Action: ps.val("action"), Method: strings.ToUpper(strings.TrimSpace(string(method)))}
		p.Forms = append(p.Forms, ps.cur)
		ps.inForm++
	case atom.A:
		if href, ok := ps.get("href"); ok {
			var c *cell
			if tc := ps.table(); tc != nil {
				c = tc.cell
			}
			ps.sink(textSink{kind: sinkLink, str: href, cell: c})
		}
	case atom.Frame, atom.Iframe:
		p.Frames[ps.val("name")] = ps.val("src")
	case atom.Label:
		if f, ok := ps.get("for"); ok {
			ps.sink(textSink{kind: sinkLabel, str: f})
		}
	case atom.Div, atom.Span, atom.P, atom.Font, atom.H4:
		if class, _ := attr.raw("class"); len(class) > 0 && hasClass(string(class), errorClass) {
			ps.sink(textSink{kind: sinkError})
		}
	case atom.Pre:
		ps.sink(textSink{kind: sinkPre})
	case atom.Select:
		ps.closeSelect()
		c := ps.newControl()
		c.Name, c.Type, c.id = ps.val("name"), "select", ps.val("id")
		c.Disabled = attr.has("disabled")
		ps.addControl(c)
		ps.sel = c
	case atom.Option:
		if ps.sel != nil {
			ps.closeOption()
			v, ok := ps.get("value")
			ps.sel.Options = append(ps.sel.Options, option{Value: v, Selected: attr.has("selected")})
			ps.opt = &ps.sel.Options[len(ps.sel.Options)-1]
			ps.optHasValue = ok
			ps.optFrom = ps.optB.Len()
		}
	case atom.Input:
		c := ps.newControl()
		c.Name, c.id = ps.val("name"), ps.val("id")
		c.Disabled = attr.has("disabled")
		t, _ := attr.raw("type")
		c.Type = ps.lowerStr(t)
		if c.Type == "" {
			c.Type = "text"
		}
		v, hasV := ps.get("value")
		c.Value = v
		if (c.Type == "checkbox" || c.Type == "radio") && !hasV {
			c.Value = "on"
		}
		c.Checked = attr.has("checked")
		ps.addControl(c)
		if c.Type == "radio" || c.Type == "checkbox" {
			ps.follow = append(ps.follow, c)
			ps.followFrom = ps.all.Len()
			ps.followDep = 0
		}
	case atom.Button:
		if t, _ := attr.raw("type"); len(t) != 0 && !bytes.EqualFold(t, []byte("submit")) {
			break
		}
		c := ps.newControl()
		c.Name, c.Type, c.id = ps.val("name"), "submit", ps.val("id")
		c.Disabled = attr.has("disabled")
		ps.addControl(c)
		if v, ok := ps.get("value"); ok {
			c.Value = v
		} else {
			ps.sink(textSink{kind: sinkButton, ctrl: c})
		}
	}
}

func (ps *parser) end(a atom.Atom) {
	if len(ps.follow) > 0 {
		if ps.followDep == 0 {
			ps.endFollow()
		} else {
			ps.followDep--
		}
	}
	// close the text collectors this end tag ends
	for i := len(ps.sinks) - 1; i >= 0; i-- {
		if ps.sinks[i].depth > 0 {
			ps.sinks[i].depth--
			continue
		}
		s := ps.sinks[i]
		ps.sinks = append(ps.sinks[:i], ps.sinks[i+1:]...)
		ps.closeSink(s)
	}
	switch a {
	case atom.Head:
		ps.inHead = false
	case atom.Title:
		ps.inTitle = false
	case atom.Table:
		ps.closeSelect()
		if tc := ps.table(); tc != nil {
			ps.closeRow(tc)
			ps.tables = ps.tables[:len(ps.tables)-1]
			ps.done = append(ps.done, tc)
		}
	case atom.Tr:
		if tc := ps.table(); tc != nil {
			ps.closeRow(tc)
		}
	case atom.Td, atom.Th:
		if tc := ps.table(); tc != nil {
			ps.closeCell(tc)
		}
	case atom.Form:
		ps.cur = nil
		if ps.inForm > 0 {
			ps.inForm--
		}
	case atom.Select:
		ps.closeSelect()
	case atom.Option:
		ps.closeOption()
	}
}

// closeSink hands the text of s, all it collected, to its element.
func (ps *parser) closeSink(s textSink) {
	raw := ps.all.String()[s.from:]
	if s.kind == sinkPre {
		ps.p.Blocks = append(ps.p.Blocks, raw)
		return
	}
	t := normText(raw)
	switch s.kind {
	case sinkTitle:
		ps.p.Title = t
	case sinkLink:
		l := link{Text: t, Href: s.str}
		ps.p.Links = append(ps.p.Links, l)
		if s.cell != nil {
			s.cell.Links = append(s.cell.Links, l)
		}
	case sinkLabel:
		if ps.labels == nil {
			ps.labels = map[string]string{}
		}
		ps.labels[s.str] = t
	case sinkError:
		ps.p.Errors = append(ps.p.Errors, t)
	case sinkButton:
		s.ctrl.Value = t
	}
}

func (ps *parser) endFollow() {
	if len(ps.follow) == 0 {
		return
	}
	t := normText(ps.all.String()[ps.followFrom:])
	for _, c := range ps.follow {
		if c.Text == "" {
			c.Text = t
		}
	}
	ps.follow = ps.follow[:0]
}

func (ps *parser) closeOption() {
	if ps.opt == nil {
		return
	}
	ps.opt.Text = normText(ps.optB.String()[ps.optFrom:])
	if !ps.optHasValue {
		ps.opt.Value = ps.opt.Text
	}
	ps.opt = nil
}

func (ps *parser) closeSelect() {
	ps.closeOption()
	ps.sel = nil
}

func (ps *parser) closeCell(tc *tableCtx) {
	if tc.cell == nil {
		return
	}
	tc.cell.Text = normText(ps.spansText(tc.text))
	if tc.idx == 0 {
		tc.first, tc.th = tc.cell.Text, tc.isTh
	}
	tc.cell, tc.text = nil, tc.text[:0]
}

func (ps *parser) closeRow(tc *tableCtx) {
	ps.closeCell(tc)
	if !tc.inRow {
		return
	}
	if row := tc.cells[tc.rowStart:]; tc.header == nil && tc.th && len(row) > 0 {
		tc.header = make([]string, len(row))
		for i, c := range row {
			tc.header[i] = c.Text
		}
	}
	tc.rowEnds = append(tc.rowEnds, len(tc.cells))
	tc.inRow = false
}

func (ps *parser) addControl(c *control) {
	ps.ctrls = append(ps.ctrls, c)
	if ps.cur != nil {
		ps.cur.Controls = append(ps.cur.Controls, c)
	}
	if tc := ps.table(); tc != nil && tc.cell != nil {
		if tc.idx > 0 {
			c.Row = tc.first
		}
		if tc.idx < len(tc.header) {
			c.Col = tc.header[tc.idx]
		}
		if tc.cell.Controls == nil {
			tc.cell.Controls = ps.one(c)
		} else {
			tc.cell.Controls = append(tc.cell.Controls, c)
		}
	}
}

// script reads the calls of a page script that write fields or values
// (the scriptCallTable).
func (ps *parser) script(src string) {
	for _, call := range scanCalls(src) {
		sc, ok := scriptCallTable[call.name]
		if !ok || len(call.args) <= max(sc.nameArg, sc.valueArg) {
			continue
		}
		name, value := call.args[sc.nameArg], call.args[sc.valueArg]
		if sc.setsID {
			ps.p.Scripted[name] = value
			continue
		}
		c := ps.newControl()
		c.Name, c.Type, c.Value, c.Scripted, c.id = name, sc.typ, value, true, name
		ps.addControl(c)
	}
}

// finish closes what the page left open and resolves labels and
// script-set cell values.
func (ps *parser) finish() {
	p := ps.p
	ps.closeSelect()
	ps.endFollow()
	for len(ps.tables) > 0 {
		ps.end(atom.Table)
	}
	for i := len(ps.sinks) - 1; i >= 0; i-- {
		ps.closeSink(ps.sinks[i])
	}
	ps.sinks = nil
	p.Text = normText(ps.all.String())
	p.Outside = normText(ps.spansText(ps.out))
	if ps.labels != nil {
		for _, c := range ps.ctrls {
			if t, ok := ps.labels[c.id]; ok && c.id != "" {
				c.Text = t
			}
		}
	}
	// tables in the order they start, as a tree walk lists them
	tables := make([]*tableCtx, len(ps.done))
	for _, tc := range ps.done {
		tables[tc.order] = tc
	}
	for _, tc := range tables {
		if tc == nil {
			continue
		}
		var rows [][]cell
		if len(tc.rowEnds) > 0 {
			rows = make([][]cell, 0, len(tc.rowEnds))
			cells := make([]cell, tc.rowEnds[len(tc.rowEnds)-1])
			from := 0
			for _, to := range tc.rowEnds {
				row := cells[from:to:to]
				for i, c := range tc.cells[from:to] {
					for _, id := range c.ids {
						if v, ok := p.Scripted[id]; ok && c.Text == "" {
							c.Text = norm(v)
						}
					}
					row[i] = *c
				}
				rows = append(rows, row)
				from = to
			}
		}
		p.Tables = append(p.Tables, rows)
	}
}

// normText is norm(s) in one pass and one allocation: whitespace runs
// collapsed to one blank (as strings.Fields splits), then a trailing colon
// and the outer blanks trimmed.
func normText(s string) string {
	if simple(s) {
		return strings.TrimSpace(strings.TrimSuffix(s, ":"))
	}
	var b strings.Builder
	b.Grow(len(s))
	blank := false // a blank after a word, not yet written
	for i := 0; i < len(s); {
		c := s[i]
		size := 1
		space := false
		if c < utf8.RuneSelf {
			space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		if space {
			blank = b.Len() > 0
		} else {
			if blank {
				b.WriteByte(' ')
				blank = false
			}
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return strings.TrimSpace(strings.TrimSuffix(b.String(), ":"))
}

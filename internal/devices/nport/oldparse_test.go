// Code kept from parse.go as it was before the parser was rewritten for
// speed (commit aa89a80): the reference the equivalence tests compare the
// new parser with. Only its type and function names are changed.

package nport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

const oldParseLimit = 4096

// oldTextSink collects the text of one open element.
type oldTextSink struct {
	b     strings.Builder
	depth int  // elements opened inside it and not yet closed
	raw   bool // keep the text as it is (pre), else norm
	done  func(text string)
}

// oldTableCtx is one open table: its rows, header and current row and cell.
type oldTableCtx struct {
	rows   [][]*cell
	header []string
	row    []*cell
	inRow  bool
	first  string // text of the current row's first cell
	th     bool   // the current row's first cell is a th
	cell   *cell
	cellB  *strings.Builder
	isTh   bool
	idx    int // index of the current cell in its row
}

// oldParser builds a page from the token stream in one pass: linear in the
// size of the page, with no tree kept.
type oldParser struct {
	ctx    context.Context
	p      *page
	labels map[string]string // id -> label text
	ctrls  []*control
	cur    *form
	tables []*oldTableCtx // open tables, innermost last
	done   []*oldTableCtx // closed tables, in document order of their start
	order  map[*oldTableCtx]int
	sinks  []*oldTextSink // open text collectors (links, labels, titles, ...)
	all    strings.Builder
	out    strings.Builder
	// state of the element being read
	sel         *control // open select
	opt         *option  // open option
	optHasValue bool
	optB        strings.Builder
	follow      []*control // radios and checkboxes waiting for their text
	followB     strings.Builder
	followDep   int
	inForm      int
	inTitle     bool
	inHead      bool
	attrs       oldAttrList // the current tag's attributes (token)
}

// oldParsePage parses body as the page at u. It runs in time linear in the
// size of body and stops when ctx ends.
func oldParsePage(ctx context.Context, u *url.URL, body []byte) (*page, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	ps := &oldParser{ctx: ctx, p: &page{URL: u, Frames: map[string]string{}, Scripted: map[string]string{}},
		labels: map[string]string{}, order: map[*oldTableCtx]int{}}
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(len(body) + 4096)
	for n := 0; ; n++ {
		if n%oldParseLimit == 0 {
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

func (ps *oldParser) token(z *html.Tokenizer, tt html.TokenType) {
	switch tt {
	case html.TextToken:
		ps.text(z.Text())
	case html.StartTagToken, html.SelfClosingTagToken:
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		attrs := ps.attrs[:0] // one list for every tag: start copies what it keeps
		defer func() { ps.attrs = attrs[:0] }()
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			// valid until the next token: start copies what it keeps
			attrs = append(attrs, [2][]byte{k, v})
		}
		switch a {
		case atom.Script, atom.Style, atom.Textarea:
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
				c := &control{Name: attrs.val("name"), Type: "textarea", id: attrs.val("id"), Value: strings.TrimPrefix(content, "\n")}
				_, c.Disabled = attrs.get("disabled")
				ps.addControl(c)
				ps.p.Blocks = append(ps.p.Blocks, content)
			}
			return
		}
		ps.start(a, attrs, tt == html.SelfClosingTagToken)
	case html.EndTagToken:
		name, _ := z.TagName()
		ps.end(atom.Lookup(name))
	}
}

// oldAttrList is a tag's attributes in order; the first of a name wins, as
// in a browser.
type oldAttrList [][2][]byte

func (l oldAttrList) get(k string) (string, bool) {
	for _, a := range l {
		if string(a[0]) == k {
			return string(a[1]), true
		}
	}
	return "", false
}

func (l oldAttrList) val(k string) string {
	v, _ := l.get(k)
	return v
}

// void elements have no end tag.
func oldVoid(a atom.Atom) bool {
	switch a {
	case atom.Input, atom.Br, atom.Img, atom.Meta, atom.Link, atom.Hr, atom.Frame, atom.Area, atom.Base, atom.Col, atom.Embed, atom.Param, atom.Source, atom.Wbr:
		return true
	}
	return false
}

// text takes a text token, valid until the next token: every collector
// copies it.
func (ps *oldParser) text(t []byte) {
	if ps.opt != nil {
		ps.optB.Write(t)
		return
	}
	if ps.sel != nil {
		return
	}
	ps.all.Write(t)
	if ps.inForm == 0 && !ps.inTitle && !ps.inHead {
		ps.out.Write(t)
	}
	for _, s := range ps.sinks {
		s.b.Write(t)
	}
	if tc := ps.table(); tc != nil && tc.cellB != nil {
		tc.cellB.Write(t)
	}
	if len(ps.follow) > 0 {
		ps.followB.Write(t)
	}
}

func (ps *oldParser) table() *oldTableCtx {
	if len(ps.tables) == 0 {
		return nil
	}
	return ps.tables[len(ps.tables)-1]
}

// sink opens a text collector for the element just started; done
// receives its text when the element ends.
func (ps *oldParser) sink(done func(string)) *oldTextSink {
	s := &oldTextSink{done: done}
	ps.sinks = append(ps.sinks, s)
	return s
}

func (ps *oldParser) start(a atom.Atom, attr oldAttrList, selfClosing bool) {
	p := ps.p
	if len(ps.follow) > 0 {
		switch a {
		case atom.Input, atom.Br, atom.Select, atom.Td, atom.Th, atom.Tr, atom.Table:
			ps.endFollow()
		default:
			if !oldVoid(a) && !selfClosing {
				ps.followDep++
			}
		}
	}
	if !oldVoid(a) && !selfClosing {
		for _, s := range ps.sinks {
			s.depth++
		}
	}
	if id, ok := attr.get("id"); ok && a != atom.Td && a != atom.Th {
		if tc := ps.table(); tc != nil && tc.cell != nil {
			tc.cell.ids = append(tc.cell.ids, id)
		}
	}
	switch a {
	case atom.Head:
		ps.inHead = true
	case atom.Body:
		ps.inHead = false
	case atom.Title:
		ps.inTitle = true
		ps.sink(func(t string) { p.Title = t })
	case atom.Table:
		ps.closeSelect()
		tc := &oldTableCtx{}
		ps.order[tc] = len(ps.order)
		ps.tables = append(ps.tables, tc)
	case atom.Tr:
		if tc := ps.table(); tc != nil {
			ps.closeRow(tc)
			tc.row, tc.inRow, tc.first, tc.th, tc.idx = []*cell{}, true, "", false, -1
		}
	case atom.Td, atom.Th:
		tc := ps.table()
		if tc == nil {
			break
		}
		ps.closeCell(tc)
		if !tc.inRow {
			tc.row, tc.inRow, tc.first, tc.th, tc.idx = []*cell{}, true, "", false, -1
		}
		c := &cell{}
		if id, ok := attr.get("id"); ok {
			c.ids = append(c.ids, id)
		}
		tc.idx++
		tc.cell, tc.cellB, tc.isTh = c, &strings.Builder{}, a == atom.Th
		tc.row = append(tc.row, c)
	case atom.Form:
		ps.cur = &form{Name: attr.val("name"), Action: attr.val("action"), Method: strings.ToUpper(strings.TrimSpace(attr.val("method")))}
		p.Forms = append(p.Forms, ps.cur)
		ps.inForm++
	case atom.A:
		if href, ok := attr.get("href"); ok {
			tc := ps.table()
			var c *cell
			if tc != nil {
				c = tc.cell
			}
			ps.sink(func(t string) {
				l := link{Text: t, Href: href}
				p.Links = append(p.Links, l)
				if c != nil {
					c.Links = append(c.Links, l)
				}
			})
		}
	case atom.Frame, atom.Iframe:
		p.Frames[attr.val("name")] = attr.val("src")
	case atom.Label:
		if f, ok := attr.get("for"); ok {
			ps.sink(func(t string) { ps.labels[f] = t })
		}
	case atom.Div, atom.Span, atom.P, atom.Font, atom.H4:
		if hasClass(attr.val("class"), errorClass) {
			ps.sink(func(t string) { p.Errors = append(p.Errors, t) })
		}
	case atom.Pre:
		ps.sink(func(t string) { p.Blocks = append(p.Blocks, t) }).raw = true
	case atom.Select:
		ps.closeSelect()
		c := &control{Name: attr.val("name"), Type: "select", id: attr.val("id")}
		_, c.Disabled = attr.get("disabled")
		ps.addControl(c)
		ps.sel = c
	case atom.Option:
		if ps.sel != nil {
			ps.closeOption()
			v, ok := attr.get("value")
			_, s := attr.get("selected")
			ps.sel.Options = append(ps.sel.Options, option{Value: v, Selected: s})
			ps.opt = &ps.sel.Options[len(ps.sel.Options)-1]
			ps.optHasValue = ok
			ps.optB.Reset()
		}
	case atom.Input:
		c := &control{Name: attr.val("name"), id: attr.val("id")}
		_, c.Disabled = attr.get("disabled")
		c.Type = strings.ToLower(attr.val("type"))
		if c.Type == "" {
			c.Type = "text"
		}
		v, hasV := attr.get("value")
		c.Value = v
		if (c.Type == "checkbox" || c.Type == "radio") && !hasV {
			c.Value = "on"
		}
		_, c.Checked = attr.get("checked")
		ps.addControl(c)
		if c.Type == "radio" || c.Type == "checkbox" {
			ps.follow = append(ps.follow, c)
			ps.followB.Reset()
			ps.followDep = 0
		}
	case atom.Button:
		t := attr.val("type")
		if t != "" && !strings.EqualFold(t, "submit") {
			break
		}
		c := &control{Name: attr.val("name"), Type: "submit", id: attr.val("id")}
		_, c.Disabled = attr.get("disabled")
		ps.addControl(c)
		if v, ok := attr.get("value"); ok {
			c.Value = v
		} else {
			ps.sink(func(t string) { c.Value = t })
		}
	}
}

func (ps *oldParser) end(a atom.Atom) {
	if len(ps.follow) > 0 {
		if ps.followDep == 0 {
			ps.endFollow()
		} else {
			ps.followDep--
		}
	}
	// close the text collectors this end tag ends
	for i := len(ps.sinks) - 1; i >= 0; i-- {
		s := ps.sinks[i]
		if s.depth > 0 {
			s.depth--
			continue
		}
		ps.sinks = append(ps.sinks[:i], ps.sinks[i+1:]...)
		s.close()
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

func (s *oldTextSink) close() {
	if s.raw {
		s.done(s.b.String())
		return
	}
	s.done(norm(s.b.String()))
}

func (ps *oldParser) endFollow() {
	t := norm(ps.followB.String())
	for _, c := range ps.follow {
		if c.Text == "" {
			c.Text = t
		}
	}
	ps.follow = ps.follow[:0]
	ps.followB.Reset()
}

func (ps *oldParser) closeOption() {
	if ps.opt == nil {
		return
	}
	ps.opt.Text = norm(ps.optB.String())
	if !ps.optHasValue {
		ps.opt.Value = ps.opt.Text
	}
	ps.opt = nil
}

func (ps *oldParser) closeSelect() {
	ps.closeOption()
	ps.sel = nil
}

func (ps *oldParser) closeCell(tc *oldTableCtx) {
	if tc.cell == nil {
		return
	}
	tc.cell.Text = norm(tc.cellB.String())
	if tc.idx == 0 {
		tc.first, tc.th = tc.cell.Text, tc.isTh
	}
	tc.cell, tc.cellB = nil, nil
}

func (ps *oldParser) closeRow(tc *oldTableCtx) {
	ps.closeCell(tc)
	if !tc.inRow {
		return
	}
	if tc.header == nil && tc.th && len(tc.row) > 0 {
		tc.header = make([]string, len(tc.row))
		for i, c := range tc.row {
			tc.header[i] = c.Text
		}
	}
	tc.rows = append(tc.rows, tc.row)
	tc.row, tc.inRow = nil, false
}

func (ps *oldParser) addControl(c *control) {
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
		tc.cell.Controls = append(tc.cell.Controls, c)
	}
}

// script reads the calls of a page script that write fields or values
// (the scriptCallTable).
func (ps *oldParser) script(src string) {
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
		ps.addControl(&control{Name: name, Type: sc.typ, Value: value, Scripted: true, id: name})
	}
}

// finish closes what the page left open and resolves labels and
// script-set cell values.
func (ps *oldParser) finish() {
	p := ps.p
	ps.closeSelect()
	ps.endFollow()
	for len(ps.tables) > 0 {
		ps.end(atom.Table)
	}
	for i := len(ps.sinks) - 1; i >= 0; i-- {
		ps.sinks[i].close()
	}
	ps.sinks = nil
	p.Text = norm(ps.all.String())
	p.Outside = norm(ps.out.String())
	for _, c := range ps.ctrls {
		if t, ok := ps.labels[c.id]; ok && c.id != "" {
			c.Text = t
		}
	}
	// tables in the order they start, as a tree walk lists them
	tables := make([]*oldTableCtx, len(ps.done))
	for _, tc := range ps.done {
		tables[ps.order[tc]] = tc
	}
	for _, tc := range tables {
		if tc == nil {
			continue
		}
		var rows [][]cell
		for _, r := range tc.rows {
			row := make([]cell, len(r))
			for i, c := range r {
				for _, id := range c.ids {
					if v, ok := p.Scripted[id]; ok && c.Text == "" {
						c.Text = norm(v)
					}
				}
				row[i] = *c
			}
			rows = append(rows, row)
		}
		p.Tables = append(p.Tables, rows)
	}
}

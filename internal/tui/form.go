package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// The wizard's forms are its own component rather than huh forms: huh
// moves the focus to the next field in a command (NextField), so keys that
// were already queued behind the Enter (a paste, a password manager, a
// barcode scanner, a fast typist) reached the field that was being left.
// Here Enter moves the focus inside the same Update that handles it, so
// every key lands in the field that had the focus when it was typed.

// fieldSpec describes one form field.
type fieldSpec struct {
	Key, Title, Help string
	Value            string // initial value; for choices, the option selected
	Placeholder      string
	Secret           bool     // echoed as *
	Multiline        bool     // a text area; Enter moves on, alt+enter breaks the line
	Options          []string // a choice among these
	Limit            int      // characters; 0: 1024
	Validate         func(string) error
	// Same names the field this one must repeat (a password confirmation);
	// SameErr is the error shown when it does not.
	Same, SameErr string
	// Planned marks a value that comes from the site plan; PlanValue is
	// the plan's value. The title says "from the site plan" while the
	// value is the plan's, "changed in the field" once it differs.
	Planned   bool
	PlanValue string
}

// formState is where a form stands.
type formState int

const (
	formEditing formState = iota
	formDone
	formCancelled
)

type formField struct {
	spec   fieldSpec
	line   textinput.Model
	area   textarea.Model
	choice int
	err    string
}

func (f *formField) value() string {
	switch {
	case len(f.spec.Options) > 0:
		return f.spec.Options[f.choice]
	case f.spec.Multiline:
		return f.area.Value()
	}
	return f.line.Value()
}

// form is a column of fields with one focus.
type form struct {
	st     styles
	keys   formKeys
	fields []*formField
	focus  int
	width  int
	state  formState
}

// formKeys are the keys a form answers to.
type formKeys struct {
	Next, Prev, Submit, Cancel, NewLine, Up, Down key.Binding
}

func newFormKeys() formKeys {
	return formKeys{
		Next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Submit:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		NewLine: key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"), key.WithHelp("alt+enter", "new line")),
		Up:      key.NewBinding(key.WithKeys("up", "left"), key.WithHelp("↑/↓", "choose")),
		Down:    key.NewBinding(key.WithKeys("down", "right")),
	}
}

// newForm builds a form; the first field has the focus at once.
func newForm(st styles, width int, specs ...fieldSpec) *form {
	f := &form{st: st, keys: newFormKeys(), width: width}
	f.add(specs...)
	f.focusField(0)
	return f
}

// add appends fields; the focus stays where it is.
func (f *form) add(specs ...fieldSpec) {
	width := f.width
	st := f.st
	for _, sp := range specs {
		ff := &formField{spec: sp}
		limit := sp.Limit
		if limit <= 0 {
			limit = 1024
		}
		switch {
		case len(sp.Options) > 0:
			for i, o := range sp.Options {
				if o == sp.Value {
					ff.choice = i
				}
			}
		case sp.Multiline:
			ta := textarea.New()
			ta.ShowLineNumbers = false
			ta.Prompt = ""
			ta.CharLimit = limit
			ta.Placeholder = sp.Placeholder
			ta.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"))
			ta.SetStyles(st.areaStyles())
			ta.SetWidth(max(width-4, 20))
			ta.SetHeight(3)
			ta.SetValue(sp.Value)
			ff.area = ta
		default:
			ti := textinput.New()
			ti.Prompt = "> "
			ti.CharLimit = limit
			ti.Placeholder = sp.Placeholder
			ti.KeyMap.Paste.SetEnabled(false) // the clipboard is read in a command: use the terminal's paste
			ti.KeyMap.AcceptSuggestion.SetEnabled(false)
			ti.SetStyles(st.inputStyles())
			ti.SetWidth(max(width-6, 10))
			if sp.Secret {
				ti.EchoMode = textinput.EchoPassword
				ti.EchoCharacter = '*'
			}
			ti.SetValue(sp.Value)
			ff.line = ti
		}
		f.fields = append(f.fields, ff)
	}
}

// focusField moves the focus to field i, synchronously.
func (f *form) focusField(i int) {
	if len(f.fields) == 0 {
		return
	}
	cur := f.fields[f.focus]
	switch {
	case len(cur.spec.Options) > 0:
	case cur.spec.Multiline:
		cur.area.Blur()
	default:
		cur.line.Blur()
	}
	f.focus = min(max(i, 0), len(f.fields)-1)
	n := f.fields[f.focus]
	switch {
	case len(n.spec.Options) > 0:
	case n.spec.Multiline:
		n.area.Focus()
	default:
		n.line.Focus()
	}
}

// values are the fields' values by key.
func (f *form) values() map[string]string {
	out := make(map[string]string, len(f.fields))
	for _, ff := range f.fields {
		out[ff.spec.Key] = ff.value()
	}
	return out
}

// check validates field i and records its error.
func (f *form) check(i int) bool {
	ff := f.fields[i]
	ff.err = ""
	v := ff.value()
	if ff.spec.Validate != nil {
		if err := ff.spec.Validate(v); err != nil {
			ff.err = err.Error()
			return false
		}
	}
	if ff.spec.Same != "" {
		for _, o := range f.fields {
			if o.spec.Key == ff.spec.Same && o.value() != v {
				ff.err = ff.spec.SameErr
				return false
			}
		}
	}
	return true
}

// setWidth resizes the fields.
func (f *form) setWidth(w int) {
	f.width = w
	for _, ff := range f.fields {
		switch {
		case len(ff.spec.Options) > 0:
		case ff.spec.Multiline:
			ff.area.SetWidth(max(w-4, 20))
		default:
			ff.line.SetWidth(max(w-6, 10))
		}
	}
}

// Update handles one message. Keys move the focus here, never in a
// command, so typeahead reaches the field it was typed for.
func (f *form) Update(msg tea.Msg) tea.Cmd {
	if f.state != formEditing || len(f.fields) == 0 {
		return nil
	}
	ff := f.fields[f.focus]
	choice := len(ff.spec.Options) > 0
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, f.keys.Cancel):
			f.state = formCancelled
			return nil
		case key.Matches(k, f.keys.Submit):
			if !f.check(f.focus) {
				return nil
			}
			if f.focus < len(f.fields)-1 {
				f.focusField(f.focus + 1)
				return nil
			}
			for i := range f.fields {
				if !f.check(i) {
					f.focusField(i)
					return nil
				}
			}
			f.state = formDone
			return nil
		case key.Matches(k, f.keys.Next):
			if f.check(f.focus) {
				f.focusField(f.focus + 1)
			}
			return nil
		case key.Matches(k, f.keys.Prev):
			f.focusField(f.focus - 1)
			return nil
		case choice && key.Matches(k, f.keys.Up):
			ff.choice = max(ff.choice-1, 0)
			return nil
		case choice && key.Matches(k, f.keys.Down):
			ff.choice = min(ff.choice+1, len(ff.spec.Options)-1)
			return nil
		case choice:
			// A letter picks the first option that starts with it.
			if t := strings.ToLower(k.Text); t != "" {
				for i, o := range ff.spec.Options {
					if strings.HasPrefix(strings.ToLower(o), t) {
						ff.choice = i
						break
					}
				}
			}
			return nil
		}
		ff.err = ""
	}
	if choice {
		return nil
	}
	var cmd tea.Cmd
	if ff.spec.Multiline {
		ff.area, cmd = ff.area.Update(msg)
	} else {
		ff.line, cmd = ff.line.Update(msg)
	}
	return cmd
}

// help is the form's one help line.
func (f *form) help() string {
	if len(f.fields) == 0 {
		return ""
	}
	ff := f.fields[f.focus]
	enter := "next"
	if f.focus == len(f.fields)-1 {
		enter = "done"
	}
	bs := []key.Binding{hint("enter", enter)}
	if len(ff.spec.Options) > 0 {
		bs = append(bs, f.keys.Up)
	}
	if ff.spec.Multiline {
		bs = append(bs, f.keys.NewLine)
	}
	if f.focus > 0 {
		bs = append(bs, hint("shift+tab", "back a field"))
	}
	bs = append(bs, f.keys.Cancel)
	return strings.Join(f.st.helpParts(bs...), f.st.Muted.Render(" · "))
}

// fieldLines renders one field.
func (f *form) fieldLines(i int) []string {
	s := f.st
	ff := f.fields[i]
	focused := i == f.focus
	bar := "  "
	if focused {
		bar = s.Key.Render("┃") + " "
	}
	w := max(f.width-2, 10)
	var lines []string
	title := ff.spec.Title
	if focused {
		title = s.Heading.Render(title)
	}
	if ff.spec.Planned {
		if ff.value() == ff.spec.PlanValue {
			title += s.Info.Render("  · from the site plan")
		} else {
			title += s.Warn.Render("  · changed in the field")
		}
	}
	lines = append(lines, bar+truncate(title, w))
	if ff.spec.Planned && ff.value() != ff.spec.PlanValue {
		plan := strings.ReplaceAll(ff.spec.PlanValue, "\n", ", ")
		if plan == "" {
			plan = "(empty)"
		}
		lines = append(lines, bar+s.Muted.Render(truncate("the site plan says: "+plan, w)))
	}
	if focused && ff.spec.Help != "" {
		for _, l := range strings.Split(lipglossWrap(ff.spec.Help, w), "\n") {
			lines = append(lines, bar+s.Muted.Render(l))
		}
	}
	switch {
	case len(ff.spec.Options) > 0 && focused:
		for j, o := range ff.spec.Options {
			if j == ff.choice {
				lines = append(lines, bar+s.Selected.Render(truncate("> "+o, w)))
			} else {
				lines = append(lines, bar+"  "+truncate(o, w-2))
			}
		}
	case len(ff.spec.Options) > 0:
		lines = append(lines, bar+"  "+truncate(ff.value(), w-2))
	case ff.spec.Multiline:
		for _, l := range strings.Split(ff.area.View(), "\n") {
			lines = append(lines, bar+l)
		}
	default:
		lines = append(lines, bar+ff.line.View())
	}
	if ff.err != "" {
		for _, l := range strings.Split(lipglossWrap("✗ "+ff.err, w), "\n") {
			lines = append(lines, bar+s.Bad.Render(l))
		}
	}
	return lines
}

// View draws the form in at most height lines, help included. While
// the fields fit, every label stays on screen; otherwise the window
// follows the focus.
func (f *form) View(height int) string {
	var blocks [][]string
	total := 0
	for i := range f.fields {
		b := f.fieldLines(i)
		blocks = append(blocks, b)
		total += len(b)
	}
	room := max(height-2, 3) // the help line and a blank above it
	first, last := 0, len(blocks)
	if total > room {
		// Start at the focused field and add neighbours while they fit,
		// earlier ones first so the labels above stay in sight.
		first, last = f.focus, f.focus+1
		used := len(blocks[f.focus])
		for {
			grew := false
			if first > 0 && used+len(blocks[first-1]) <= room {
				first--
				used += len(blocks[first])
				grew = true
			}
			if last < len(blocks) && used+len(blocks[last]) <= room {
				used += len(blocks[last])
				last++
				grew = true
			}
			if !grew {
				break
			}
		}
	}
	var out []string
	for i := first; i < last; i++ {
		out = append(out, blocks[i]...)
	}
	if len(out) > room {
		out = out[:room]
	}
	return strings.Join(out, "\n") + "\n\n" + f.help()
}

// inputStyles are the text input's styles matching the sheet.
func (s styles) inputStyles() textinput.Styles {
	st := textinput.Styles{
		Focused: textinput.StyleState{Text: lipgloss.NewStyle(), Prompt: s.Key, Placeholder: s.Muted, Suggestion: s.Muted},
		Blurred: textinput.StyleState{Text: s.Subtle, Prompt: s.Muted, Placeholder: s.Muted, Suggestion: s.Muted},
	}
	st.Cursor.Shape = tea.CursorBlock
	if !s.noColor {
		st.Cursor.Color = lipgloss.Color("7")
	}
	return st
}

// areaStyles are the text area's styles matching the sheet.
func (s styles) areaStyles() textarea.Styles {
	plain := lipgloss.NewStyle()
	st := textarea.Styles{
		Focused: textarea.StyleState{Base: plain, Text: plain, CursorLine: plain, Placeholder: s.Muted, Prompt: s.Muted,
			EndOfBuffer: plain, LineNumber: s.Muted, CursorLineNumber: s.Muted},
		Blurred: textarea.StyleState{Base: plain, Text: s.Subtle, CursorLine: s.Subtle, Placeholder: s.Muted, Prompt: s.Muted,
			EndOfBuffer: plain, LineNumber: s.Muted, CursorLineNumber: s.Muted},
	}
	st.Cursor.Shape = tea.CursorBlock
	if !s.noColor {
		st.Cursor.Color = lipgloss.Color("7")
	}
	return st
}

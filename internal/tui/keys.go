package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every key the wizard answers to, in one place.
type keyMap struct {
	Up, Down, Move   key.Binding
	PageUp, PageDown key.Binding
	Enter, Back      key.Binding
	Quit, ForceQuit  key.Binding
	Restart, Finish  key.Binding
	Recheck, Resume  key.Binding
	Yes, No          key.Binding
	Fix, Waive       key.Binding
	NotApplicable    key.Binding
	Attest, Edit     key.Binding
	NextOpen         key.Binding
	Home, End        key.Binding
	Discover         key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:            key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:          key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Move:          key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
		PageUp:        key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:      key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn", "page down")),
		Enter:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:          key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:          key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit now")),
		Restart:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart & verify")),
		Finish:        key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "finish")),
		Recheck:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "check again")),
		Resume:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resume")),
		Yes:           key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:            key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
		Fix:           key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "fix")),
		Waive:         key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "waive")),
		NotApplicable: key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "not applicable")),
		NextOpen:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next open")),
		Home:          key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home", "first")),
		End:           key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end", "last")),
		Discover:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "discover on the network")),
		Attest:        key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "attest")),
		Edit:          key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit inputs")),
	}
}

// helpParts renders enabled bindings as "key desc".
func (s styles) helpParts(bs ...key.Binding) []string {
	var out []string
	for _, b := range bs {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		out = append(out, s.Key.Render(h.Key)+" "+s.Muted.Render(h.Desc))
	}
	return out
}

// hint is a binding shown in a help line only.
func hint(k, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc))
}

// Package tuitest is the one test harness for the wizard: it runs a
// tea.Model under teatest at 80x24 without colours, keeps every whole
// frame the model draws, and waits on frames, never on sleeps.
//
// Tests of internal/tui and of cmd/commission use it alike.
package tuitest

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Width and Height are the terminal size every test drives.
const (
	Width  = 80
	Height = 24
)

// DefaultTimeout bounds each wait.
const DefaultTimeout = 10 * time.Second

// frame wraps a model and hands each frame it draws to the driver.
type frame struct {
	inner tea.Model
	d     *Driver
}

func (f frame) Init() tea.Cmd { return f.inner.Init() }

func (f frame) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := f.inner.Update(msg)
	f.inner = m
	return f, cmd
}

func (f frame) View() tea.View {
	v := f.inner.View()
	f.d.frame(v.Content)
	return v
}

// Driver drives one program and watches its frames.
type Driver struct {
	t  testing.TB
	TM *teatest.TestModel

	mu      sync.Mutex
	last    string
	changed chan struct{} // closed at the next frame
}

// Start runs m at 80x24 with the Ascii colour profile.
func Start(t testing.TB, m tea.Model) *Driver {
	t.Helper()
	d := &Driver{t: t, changed: make(chan struct{})}
	d.TM = teatest.NewTestModel(t, frame{inner: m, d: d}, teatest.WithInitialTermSize(Width, Height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	return d
}

func (d *Driver) frame(content string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if content == d.last {
		return
	}
	d.last = content
	close(d.changed)
	d.changed = make(chan struct{})
}

// Raw is the last frame with its escape codes.
func (d *Driver) Raw() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// Screen is the last frame as plain text.
func (d *Driver) Screen() string { return ansi.Strip(d.Raw()) }

// Until waits until cond holds for a frame; what names the condition in
// the failure.
func (d *Driver) Until(timeout time.Duration, what string, cond func(screen string) bool) {
	d.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		s, ch := ansi.Strip(d.last), d.changed
		d.mu.Unlock()
		if cond(s) {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			d.t.Fatalf("%s never happened; last screen:\n%s", what, d.Screen())
		}
	}
}

// WaitFor waits until the screen shows every one of want.
func (d *Driver) WaitFor(want ...string) {
	d.t.Helper()
	d.WaitForWithin(DefaultTimeout, want...)
}

// WaitForWithin is WaitFor with its own timeout.
func (d *Driver) WaitForWithin(timeout time.Duration, want ...string) {
	d.t.Helper()
	d.Until(timeout, "screen showing "+quote(want), func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

// WaitForText waits until the screen, read as running text (line
// breaks and runs of spaces as one space), contains every one of want:
// for sentences the screen wraps.
func (d *Driver) WaitForText(want ...string) {
	d.t.Helper()
	d.Until(DefaultTimeout, "text "+quote(want), func(s string) bool {
		flat := Flatten(s)
		for _, w := range want {
			if !strings.Contains(flat, Flatten(w)) {
				return false
			}
		}
		return true
	})
}

// Flatten reads a screen as running text: the boxes' bars dropped, line
// breaks and runs of spaces turned into one space.
func Flatten(s string) string {
	s = strings.NewReplacer("┃", " ", "│", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// WaitGone waits until the screen no longer shows s.
func (d *Driver) WaitGone(s string) {
	d.t.Helper()
	d.Until(DefaultTimeout, "screen without "+quote([]string{s}), func(sc string) bool { return !strings.Contains(sc, s) })
}

// WaitFocus waits until the form field titled title has the focus (a
// thick bar left of its title).
func (d *Driver) WaitFocus(title string) {
	d.t.Helper()
	d.Until(DefaultTimeout, "focus on "+quote([]string{title}), func(s string) bool { return Focused(s, title) })
}

// Focused reports whether the field titled title has the focus on screen.
func Focused(screen, title string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "┃") && strings.Contains(l, title) {
			return true
		}
	}
	return false
}

// ArmingText is what a yes/no screen shows until it accepts keys.
const ArmingText = "keys typed before it appeared are ignored"

// WaitArmed waits until a yes/no screen showing want accepts keys.
func (d *Driver) WaitArmed(want ...string) {
	d.t.Helper()
	d.WaitFor(want...)
	d.WaitGone(ArmingText)
}

// Key sends a special key (tea.KeyEnter, tea.KeyDown, …).
func (d *Driver) Key(code rune) { d.TM.Send(tea.KeyPressMsg{Code: code}) }

// Press sends each rune of s as a key press.
func (d *Driver) Press(s string) {
	for _, r := range s {
		d.TM.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// Burst sends every message at once, without waiting for any frame in
// between: typeahead, a paste, a password manager, a scanner.
func (d *Driver) Burst(msgs ...tea.Msg) {
	for _, m := range msgs {
		d.TM.Send(m)
	}
}

// Keys turns a script into key presses: each rune is a key, except the
// names in braces: {enter}, {tab}, {shift+tab}, {esc}, {down}, {up},
// {backspace}.
func Keys(script string) []tea.Msg {
	var out []tea.Msg
	for len(script) > 0 {
		if script[0] == '{' {
			if end := strings.IndexByte(script, '}'); end > 0 {
				name := script[1:end]
				script = script[end+1:]
				if k, ok := named[name]; ok {
					out = append(out, k)
					continue
				}
				panic("tuitest: unknown key {" + name + "}")
			}
		}
		r := []rune(script)[0]
		script = script[len(string(r)):]
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

var named = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"tab":       {Code: tea.KeyTab},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"esc":       {Code: tea.KeyEscape},
	"down":      {Code: tea.KeyDown},
	"up":        {Code: tea.KeyUp},
	"backspace": {Code: tea.KeyBackspace},
	"home":      {Code: tea.KeyHome},
	"end":       {Code: tea.KeyEnd},
}

// Final waits for the program to end and returns the wizard's model.
func (d *Driver) Final(timeout time.Duration) tea.Model {
	d.t.Helper()
	return d.TM.FinalModel(d.t, teatest.WithFinalTimeout(timeout)).(frame).inner
}

func quote(ws []string) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + w + `"`)
	}
	return b.String()
}

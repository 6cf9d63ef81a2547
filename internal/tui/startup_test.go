package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// isHostLabel accepts exactly what the regexp it replaced accepted.
func TestIsHostLabelMatchesFormerRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	in := []string{"", "a", "-", "a-", "-a", "a-b", "A9", "0", "x--y", "é", "aé", "a_b", "a b", "a.b",
		"a\n", "\na", strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 61) + "b",
		"a" + strings.Repeat("-", 62) + "b", "Z", "z", "@", "[", "`", "{", "/", ":"}
	for c := 0; c < 256; c++ { // every single byte, and each inside a label
		in = append(in, string(rune(c)), "a"+string([]byte{byte(c)})+"b")
	}
	for _, s := range in {
		if got, want := isHostLabel(s), re.MatchString(s); got != want {
			t.Errorf("isHostLabel(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

// Config.TimingOf is asked for the connected family only, in the command
// that opens the session: never while the model is built or the first
// frame drawn (the wizard's start would wait for every family's wording),
// and not again on the screens that show it.
func TestTimingOfAskedOnlyWhenConnected(t *testing.T) {
	f := newFake()
	cfg := testConfig(f)
	var asked []string
	cfg.TimingOf = func(family string) Timing {
		asked = append(asked, family)
		return Timing{Restart: "The NPort restarts: its serial links drop for about 30 s."}
	}
	m := New(cfg)
	t.Cleanup(m.Close)
	_ = m.View()
	if len(asked) != 0 {
		t.Fatalf("TimingOf asked before connecting: %v", asked)
	}
	m.login.target = Target{Family: "nport", Address: "127.0.0.1", User: "admin"}
	m.screen = scrConnecting
	cmd, _ := m.login.connect(&m.sh)
	var got *connectedMsg
	for _, c := range cmd().(tea.BatchMsg) {
		if cm, ok := c().(connectedMsg); ok {
			got = &cm
		}
	}
	if got == nil || len(asked) != 1 || asked[0] != "nport" {
		t.Fatalf("connect command: msg %v, TimingOf asked for %v, want [nport]", got, asked)
	}
	m, _ = upd(t, m, *got)
	f.mu.Lock()
	f.results["nport.3.1.telnet"].Outcome = steps.Staged
	f.mu.Unlock()
	m, _ = upd(t, m, runeKey('r'))
	if v := plain(m); !strings.Contains(v, "its serial links drop for about 30 s.") {
		t.Fatalf("restart confirmation lacks the family's wording:\n%s", v)
	}
	if len(asked) != 1 {
		t.Fatalf("TimingOf asked again on the screens: %v", asked)
	}
}

// sameFile tells the same open file from another one: the wizard reuses
// lipgloss's colour detection of stdout only when it draws on stdout's
// file.
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a1, err := os.Create(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a1.Close()
	a2, err := os.Open(a1.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	b, err := os.Create(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !sameFile(a2, a1) {
		t.Error("two handles on one file: not the same file")
	}
	if sameFile(b, a1) {
		t.Error("two files: the same file")
	}
	if sameFile(&strings.Builder{}, a1) {
		t.Error("a non-file writer: the same file")
	}
}

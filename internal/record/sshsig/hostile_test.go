package sshsig

import (
	"strings"
	"testing"
	"time"
)

// hostile is a principal pattern that makes a backtracking matcher take
// exponential time against an identity of a's: a*a*a*…*b.
func hostile() (identity, pattern string) {
	return strings.Repeat("a", 200), strings.Repeat("a*", 60) + "b"
}

// TestHostilePatternReturnsWithinASecond holds a crafted allowed_signers
// pattern to a bound: the recursive matcher this package had before did
// not return on it (exponential backtracking). The one-second limit is a
// hang guard, not a speed measurement (see BenchmarkHostilePattern).
func TestHostilePatternReturnsWithinASecond(t *testing.T) {
	ed, _ := edSigner(t)
	id, p := hostile()
	file := p + "," + strings.Repeat("*a", 60) + "?b " + strings.TrimPrefix(Line("x", ed.PublicKey()), "x ") + "\n"
	as, err := ParseAllowedSigners([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := as.Find(ed.PublicKey(), id, Namespace, time.Now())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a pattern ending in b matched an identity without b")
		}
	case <-time.After(time.Second):
		t.Fatal("matching a hostile principal pattern did not return within a second")
	}
	if _, err := as.Find(ed.PublicKey(), strings.Repeat("a", MaxIdentity+1), Namespace, time.Now()); err == nil {
		t.Fatal("an identity over MaxIdentity bytes was matched")
	}
}

func TestMatchAgainstNaive(t *testing.T) {
	// The iterative matcher agrees with a plain recursive one on every
	// small pattern and string over {a, b, *, ?}.
	var naive func(s, p string) bool
	naive = func(s, p string) bool {
		if p == "" {
			return s == ""
		}
		switch p[0] {
		case '*':
			return naive(s, p[1:]) || (s != "" && naive(s[1:], p))
		case '?':
			return s != "" && naive(s[1:], p[1:])
		}
		return s != "" && s[0] == p[0] && naive(s[1:], p[1:])
	}
	var words func(alpha string, n int) []string
	words = func(alpha string, n int) []string {
		if n == 0 {
			return []string{""}
		}
		out := []string{""}
		for _, w := range words(alpha, n-1) {
			for _, c := range alpha {
				out = append(out, w+string(c))
			}
		}
		return out
	}
	ss, ps := words("ab", 4), words("ab*?", 4)
	for _, s := range ss {
		for _, p := range ps {
			if got, want := match(s, p), naive(s, p); got != want {
				t.Fatalf("match(%q, %q) = %v, want %v", s, p, got, want)
			}
		}
	}
}

func BenchmarkHostilePattern(b *testing.B) {
	id, p := hostile()
	for b.Loop() {
		if match(id, p) {
			b.Fatal("matched")
		}
	}
}

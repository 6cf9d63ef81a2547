package nport

import "testing"

// sameTextRef is the comparison sameText must agree with: both labels
// canonicalised, then compared.
func sameTextRef(a, b string) bool { return a == b || canonText(a) == canonText(b) }

// TestSameTextMatchesCanonical compares the copy-free comparison with the
// canonical one on every pair of short strings over an alphabet of the
// characters that matter (case, blanks, colon, "&", "and").
func TestSameTextMatchesCanonical(t *testing.T) {
	alpha := []string{"a", "A", "n", "d", " ", "\t", ":", "&", "and", "é"}
	var words []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		words = append(words, prefix)
		if n == 0 {
			return
		}
		for _, c := range alpha {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	n := 0
	for _, a := range words {
		for _, b := range words {
			if got, want := sameText(a, b), sameTextRef(a, b); got != want {
				t.Fatalf("sameText(%q, %q) = %v, want %v", a, b, got, want)
			}
			if sameText(a, b) {
				n++
			}
		}
	}
	if n <= len(words) {
		t.Fatalf("only %d equal pairs among %d words: the test compares nothing", n, len(words))
	}
	for _, c := range [][2]string{{"Read & Write", "read and write"}, {"Port 1:", " port  1 "}, {"SNMP Agent", "SNMP agent :"}} {
		if !sameText(c[0], c[1]) {
			t.Errorf("%q and %q differ", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"Port 1", "Port 10"}, {"Read Write", "ReadWrite"}, {"a::", "a"}} {
		if sameText(c[0], c[1]) {
			t.Errorf("%q and %q match", c[0], c[1])
		}
	}
}

// FuzzSameText checks the copy-free comparison against the canonical one.
func FuzzSameText(f *testing.F) {
	f.Add("Read & Write", "read and write")
	f.Add("Port 1:", " port\t1 ")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := sameText(a, b), sameTextRef(a, b); got != want {
			t.Fatalf("sameText(%q, %q) = %v, want %v", a, b, got, want)
		}
	})
}

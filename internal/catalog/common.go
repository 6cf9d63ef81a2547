package catalog

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common-passwords.txt
var commonPasswords string

var commonSet = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswords, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
})

// isCommon reports whether pw, or pw without trailing digits and symbols,
// is on the embedded list of common passwords (case-insensitive).
func isCommon(pw string) bool {
	p := strings.ToLower(pw)
	if commonSet()[p] {
		return true
	}
	base := strings.TrimRight(p, "0123456789!@#$%^&*-_.")
	return len(base) >= 4 && commonSet()[base]
}

// OnOff is how the guides and the consoles word a setting's state.
func OnOff(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

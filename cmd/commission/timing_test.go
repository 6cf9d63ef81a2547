package main

import (
	"strings"
	"testing"
)

// Every family gives the wizard's confirm screens its own wording, and only
// a family that restarts says a change waits for the restart.
func TestEveryFamilyHasConfirmWording(t *testing.T) {
	for _, f := range registry {
		w := timingOf(f.Name)
		if w.Apply == "" || w.Restart == "" || w.Delete == "" {
			t.Errorf("%s: confirm wording missing: %+v", f.Name, w)
		}
		if f.Name != "nport" && strings.Contains(strings.ToLower(w.Apply+w.Restart), "takes effect at the restart") {
			t.Errorf("%s: wording says changes wait for a restart: %+v", f.Name, w)
		}
	}
}

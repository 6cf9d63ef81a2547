package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capture walks every demo simulator read-only into a transcript folder
// through the CLI; the folder holds no password and names its family.
func TestCaptureEveryFamilyThroughTheCLI_Simulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lab, err := startLab(ctx, 200*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	seen := map[string]bool{}
	for _, d := range lab.devices {
		t.Run(d.Family, func(t *testing.T) {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "transcript")
			args := append([]string{"--device", d.Family, "--address", d.Address, "--user", d.User,
				"--password-stdin", "--out", out, "--tofu", "--pins", filepath.Join(tmp, "pins.json")}, portArgs(d.Ports)...)
			var stdout, stderr bytes.Buffer
			if err := runCapture(ctx, args, strings.NewReader(d.Password+"\n"), &stdout, &stderr); err != nil {
				t.Fatalf("capture %s: %v\n%s", d.Family, err, stderr.String())
			}
			if strings.TrimSpace(stdout.String()) == "" {
				t.Errorf("capture printed no summary")
			}
			man, err := os.ReadFile(filepath.Join(out, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(man), d.Family) {
				t.Errorf("manifest does not name the family %s: %s", d.Family, man)
			}
			files := 0
			filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				files++
				b, rerr := os.ReadFile(p)
				if rerr != nil {
					return rerr
				}
				// The NPort's factory password "moxa" is also the prefix of
				// its service names (moxa-udp): those are not the secret.
				b = bytes.ReplaceAll(b, []byte(d.Password+"-"), []byte("service-"))
				if bytes.Contains(b, []byte(d.Password)) {
					i := bytes.Index(b, []byte(d.Password))
					t.Errorf("%s holds the password: %q", p, b[max(0, i-80):min(len(b), i+40)])
				}
				return nil
			})
			if files < 3 {
				t.Errorf("transcript has %d files, want the exchanges of a walk", files)
			}
			seen[d.Family] = true
		})
	}
	for _, f := range registry {
		if f.Capture != nil && !seen[f.Name] {
			t.Errorf("no demo device of family %s was captured", f.Name)
		}
	}
}

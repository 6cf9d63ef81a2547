package pdf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/peertest"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

func sampleRecord(n int) record.Record {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	r := record.Record{
		Schema: record.Schema, ID: "5f1c0a9e2b7d4c315f1c0a9e2b7d4c31", Mode: "wizard",
		Tool:       record.Tool{Name: "commission", Version: "test"},
		Device:     devices.Identity{Family: "nport", Model: "NPort 5150A", Firmware: "1.6 Build 21051010", MAC: "00:90:E8:12:34:56", Address: "127.0.0.1"},
		Guide:      "Moxa NPort 5000 Series Hardening Guide v1.0",
		Technician: record.Technician{Name: "Zoë Técnica", Company: "Vendor – Service", Email: "zoe@vendor.example"},
		Site:       "Plant 7, line 2",
		Started:    t0, Finished: t0.Add(40 * time.Minute),
		Summary: map[string]int{},
	}
	outcomes := []steps.Outcome{steps.Compliant, steps.Fixed, steps.Waived, steps.Deviation, steps.NotApplicable, steps.Attested}
	for i := range n {
		o := outcomes[i%len(outcomes)]
		st := record.Step{
			ID: fmt.Sprintf("nport.%d.1.step", i), Guide: fmt.Sprintf("%d.1", i), Kind: steps.Automatic,
			Title:   fmt.Sprintf("Step %d: a rather long title that needs to wrap inside its table cell, twice or even three times over", i),
			SRs:     []string{"SR 1.5", "SR 1.1", "SR 7.7", "SR 5.2 RE 1"},
			Outcome: o, At: t0.Add(time.Duration(i) * time.Minute),
		}
		if o.NeedsReason() {
			st.Reason = fmt.Sprintf("reason %d: the legacy HMI still needs this until the upgrade in Q3; the plant manager agreed.\nSecond line of the reason.", i)
		}
		r.Steps = append(r.Steps, st)
		r.Summary[string(o)]++
	}
	r.Signer = &signer
	r.Status = record.StatusOf(r)
	return r
}

var signer = record.Signer{Identity: "zoe@vendor.example", KeyType: "ssh-ed25519", Fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"}

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDeterministicAndPaper(t *testing.T) {
	r := sampleRecord(30)
	dg := digestOf("record")
	a, err := Render(r, dg, "A4")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(r, dg, "a4")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same record differ")
	}
	l, err := Render(r, dg, "Letter")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(a, []byte("/MediaBox [0 0 595.28 841.89]")) {
		t.Error("A4 render has no A4 MediaBox")
	}
	if !bytes.Contains(l, []byte("/MediaBox [0 0 612.00 792.00]")) {
		t.Error("Letter render has no Letter MediaBox")
	}
	r2 := sampleRecord(30)
	r2.Steps[3].Reason = "another reason"
	c, err := Render(r2, dg, "A4")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("a different record gave the same PDF")
	}
	if _, err := Render(r, dg, "A5"); err == nil {
		t.Error("unknown paper accepted")
	}
	if _, err := Render(r, "abc", "A4"); err == nil {
		t.Error("short digest accepted")
	}
}

func tool(t *testing.T, name string) string {
	t.Helper()
	return peertest.Require(t, name)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

func TestRendersAndQRDecodes(t *testing.T) {
	pdftoppm := tool(t, "pdftoppm")
	zbarimg := tool(t, "zbarimg")
	for _, paper := range []string{A4, Letter} {
		t.Run(paper, func(t *testing.T) {
			dir := t.TempDir()
			r := sampleRecord(24)
			dg := digestOf("record.json of " + paper)
			b, err := Render(r, dg, paper)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "record.pdf")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if pdftotext, ok := peertest.Optional(t, "pdftotext"); ok {
				txt := run(t, pdftotext, "-layout", path, "-")
				pages := regexp.MustCompile(`page (\d+) of (\d+)`).FindAllStringSubmatch(txt, -1)
				if len(pages) < 2 {
					t.Fatalf("want at least 2 pages with 'page n of N', found %v", pages)
				}
				last := pages[len(pages)-1]
				if last[1] != last[2] || pages[0][1] != "1" || pages[0][2] != last[2] {
					t.Fatalf("page numbers wrong: first %v, last %v", pages[0], last)
				}
				for _, want := range []string{"NPort 5150A", "Zoë Técnica", signer.Fingerprint, dg[:32], "Second line of the reason", "SR 5.2 RE 1", "not applicable"} {
					if !strings.Contains(txt, want) {
						t.Errorf("PDF text lacks %q", want)
					}
				}
			}
			run(t, pdftoppm, "-r", "150", "-png", path, filepath.Join(dir, "page"))
			pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
			if len(pngs) < 2 {
				t.Fatalf("pdftoppm made %d pages, want at least 2", len(pngs))
			}
			var decoded []string
			for _, p := range pngs {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				out, _ := exec.CommandContext(ctx, zbarimg, "--raw", "-q", p).Output()
				cancel()
				if s := strings.TrimSpace(string(out)); s != "" {
					decoded = append(decoded, s)
				}
			}
			if len(decoded) != 1 || decoded[0] != QRText(r.ID, dg) {
				t.Fatalf("QR codes decoded %q, want exactly one: %s", decoded, dg)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	r := sampleRecord(30)
	dg := digestOf("record")
	for b.Loop() {
		if _, err := Render(r, dg, A4); err != nil {
			b.Fatal(err)
		}
	}
}

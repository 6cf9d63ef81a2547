package pdf

import (
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// pages renders r and returns the text of each page (pdftotext).
func pages(t *testing.T, r record.Record) []string {
	t.Helper()
	pdftotext := tool(t, "pdftotext")
	b, err := Render(r, digestOf("record"), A4)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "record.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`page 1 of (\d+)`).FindStringSubmatch(run(t, pdftotext, "-f", "1", "-l", "1", p, "-"))
	if m == nil {
		t.Fatal("page 1 has no page count")
	}
	n, _ := strconv.Atoi(m[1])
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, strings.Join(strings.Fields(run(t, pdftotext, "-f", strconv.Itoa(i), "-l", strconv.Itoa(i), p, "-")), " "))
	}
	if len(out) < 2 {
		t.Fatalf("%d pages, want several", len(out))
	}
	return out
}

// watermarked renders r to PNG pages (pdftoppm) and reports, per page,
// whether the middle of the page carries the watermark's light red ink
// (pdftotext does not extract rotated text, so the test looks at what a
// reader sees).
func watermarked(t *testing.T, r record.Record) []bool {
	t.Helper()
	pdftoppm := tool(t, "pdftoppm")
	b, err := Render(r, digestOf("record"), A4)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "record.pdf")
	os.WriteFile(p, b, 0o644)
	run(t, pdftoppm, "-r", "40", "-png", p, filepath.Join(dir, "page"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	sort.Strings(pngs)
	var out []bool
	for _, f := range pngs {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		bd := img.Bounds()
		red := 0
		for y := bd.Min.Y + bd.Dy()*3/10; y < bd.Min.Y+bd.Dy()*7/10; y++ {
			for x := bd.Min.X; x < bd.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				if c.R > 200 && int(c.R)-int(c.G) > 30 && int(c.R)-int(c.B) > 30 {
					red++
				}
			}
		}
		out = append(out, red > 100)
	}
	if len(out) < 2 {
		t.Fatalf("%d pages, want several", len(out))
	}
	return out
}

func TestSimulatedRecordIsWatermarkedOnEveryPage(t *testing.T) {
	r := sampleRecord(30)
	r.Simulated = true
	r.Status = record.StatusOf(r)
	for i, marked := range watermarked(t, r) {
		if !marked {
			t.Errorf("page %d of a simulated device's record has no watermark", i+1)
		}
	}
	for i, txt := range pages(t, r) {
		// The status band and the footer say it on every page too.
		if n := strings.Count(txt, "SIMULATED DEVICE - NOT A COMMISSIONING RECORD"); n < 2 {
			t.Errorf("page %d states it %d times, want 2 (band, footer)", i+1, n)
		}
	}
	// A real device's record carries no such mark.
	r.Simulated = false
	r.Status = record.StatusOf(r)
	for i, marked := range watermarked(t, r) {
		if marked {
			t.Errorf("page %d of a real device's record is watermarked", i+1)
		}
	}
	for i, txt := range pages(t, r) {
		if strings.Contains(txt, "SIMULATED") {
			t.Errorf("page %d of a real device's record says SIMULATED", i+1)
		}
	}
}

func TestStatusOnEveryPage(t *testing.T) {
	r := sampleRecord(30) // holds deviations: incomplete
	r.Status = record.StatusOf(r)
	r.Status.Reason = "the HMI vendor upgrades the panel in March; the plant accepted the open steps"
	all := pages(t, r)
	for i, txt := range all {
		if !strings.Contains(txt, "INCOMPLETE: 5 of 30 steps open (5 deviation)") {
			t.Errorf("page %d lacks the status", i+1)
		}
	}
	first := all[0]
	for _, want := range []string{"Signed with open steps. The technician's reason:", "the HMI vendor upgrades the panel in March",
		"SRs are IEC 62443-3-3 system requirements"} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 lacks %q", want)
		}
	}
	// All closed: commissioned, with its waivers counted.
	for i := range r.Steps {
		if r.Steps[i].Outcome == steps.Deviation {
			r.Steps[i].Outcome = steps.Compliant
		}
	}
	r.Status = record.StatusOf(r)
	if txt := pages(t, r)[1]; !strings.Contains(txt, "COMMISSIONED: all 30 steps closed, 5 waivers") {
		t.Errorf("page 2: %.300s", txt)
	}
}

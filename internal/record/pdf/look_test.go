package pdf

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/steps"
)

// The three families' records as the pages are looked at: an
// INCOMPLETE ThingsPro wizard session signed with a reason, a
// COMMISSIONED Kepware session with waivers, acceptance, evidence and a
// site plan, and the checked-in NPort sample (a simulated device). Set
// COMMISSION_PDF_DIR to keep the PDFs (pdftoppm -r 60 -png them to look).

// lookIncomplete is a ThingsPro wizard record with open steps (a
// deviation left, a change staged, one failed) and the technician's
// reason, long device strings and long titles.
func lookIncomplete() record.Record {
	t0 := time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC)
	r := record.Record{
		Schema: record.Schema, ID: "d1a2b3c4d5e6f708192a3b4c5d6e7f80", Mode: record.ModeWizard,
		Tool: record.Tool{Name: "commission", Version: "0.9.0"},
		Device: devices.Identity{Family: "thingspro", Model: "AIG-301-T-AZU-LTE (Azure IoT Edge gateway, wide temperature, LTE Cat. 4 EU bands)",
			Firmware: "ThingsPro Edge 2.6.0-4499 (build 2025-08-14, security patch level 7)", Serial: "TAICB1046773-REV-B-000000000000000000042",
			MAC: "00:90:E8:AA:BB:CC", Address: "10.20.30.40", Name: "gateway-hall-7-north-cabinet-3-rack-position-12-upper-shelf"},
		Guide:      "Moxa, Enforce Secured Setting on ThingsPro Edge, v1.1 (2022-03-02), sections 1 to 4",
		Technician: record.Technician{Name: "Maximiliane Feldtechniker-Schönberg", Company: "Automation & Service GmbH", Email: "m.feldtechniker@automation-service.example"},
		Site:       "Werk 7, Halle 3, Linie 2 (Abfüllung), Schaltschrank 4",
		Started:    t0, Finished: t0.Add(52*time.Minute + 17*time.Second),
		Restarted:  t0.Add(40*time.Minute + 3*time.Second),
		Summary:    map[string]int{},
		Signer:     &signer,
		Acceptance: &record.Acceptance{Name: "Dr. Johanna Werkleiter-Brandt", Role: "Head of OT security, plant engineering and maintenance planning, Werk 7 (Halle 1 to 5)"},
		Evidence: []record.Evidence{
			{Name: "evidence/https-certificate.pem", SHA256: digestOf("pem"), Description: "certificate the HTTPS API presented", CertSHA256: digestOf("der")},
			{Name: "evidence/probes.txt", SHA256: digestOf("probes"), Description: "outside port and TLS probes at the end of the session"},
		},
	}
	type s struct {
		id, guide, title string
		srs              []string
		o                steps.Outcome
	}
	for i, x := range []s{
		{"thingspro.1.1.personal-account", "1.1", "Give each person an account with a role", []string{"SR 1.1", "SR 1.3", "SR 2.1"}, steps.Fixed},
		{"thingspro.1.2.default-account", "1.2", "Remove the default account or change its password", []string{"SR 1.5", "SR 1.1", "SR 1.3"}, steps.Fixed},
		{"thingspro.2.1.1.cellular", "2.1.1", "Turn cellular off if it is not used", []string{"SR 7.7", "SR 5.2", "SR 1.13"}, steps.Deviation},
		{"thingspro.2.2.1.http", "2.2.1", "Turn the plain-HTTP service off", []string{"SR 7.7", "SR 4.1", "SR 3.1"}, steps.Staged},
		{"thingspro.3.2.https-cert", "3.2", "Serve HTTPS with the plant's own certificate, issued by the plant's certification authority, and remove the factory self-signed certificate afterwards", []string{"SR 1.8", "SR 1.2", "SR 3.1", "SR 4.1", "SR 1.9", "SR 2.1 RE 1"}, steps.Failed},
		{"thingspro.3.1.time", "3.1", "Set the time zone and keep the clock synced with NTP", []string{"SR 2.11", "SR 1.8", "SR 2.8"}, steps.Fixed},
		{"thingspro.4.azure-iotedge", "4", "Azure IoT Edge: authenticate with an X.509 certificate", []string{"SR 1.2", "SR 1.9", "SR 1.8", "SR 4.1"}, steps.NotApplicable},
		{"thingspro.2.2.5.ssh", "2.2.5", "Turn the SSH server off once set-up is done", []string{"SR 7.7", "SR 1.1", "SR 2.1"}, steps.Waived},
		{"thingspro.3.4.log-storage", "3.4", "Keep system and event logs with enough storage", []string{"SR 2.9", "SR 2.8", "SR 6.1"}, steps.Attested},
	} {
		st := record.Step{ID: x.id, Guide: x.guide, Title: x.title, SRs: x.srs, Outcome: x.o, Kind: steps.Automatic,
			At: t0.Add(time.Duration(i)*time.Minute + 41*time.Minute + 9*time.Second)}
		switch x.o {
		case steps.Fixed, steps.Staged, steps.Failed:
			st.Changes = []steps.Change{{Setting: "Setting of " + x.id, From: "Enabled", To: "Disabled"}}
		case steps.NotApplicable:
			st.Reason = "Azure IoT Edge is not installed or not in use"
		case steps.Waived:
			st.Reason = "the integrator's remote support needs SSH until hand-over on 2027-02-01"
			st.Waiver = &record.Waiver{Approver: "J. Werkleiter-Brandt, Head of OT security", Expires: "2027-02-01"}
		case steps.Attested:
			st.Kind = steps.Manual
			st.Inputs = steps.Values{"retention": "90 days on the plant's log server"}
			st.Evidence = "technician: checked the log server's retention with the plant's engineer"
		}
		if x.o == steps.Failed {
			st.Reason = "the device refused the certificate: the chain does not reach the plant CA"
		}
		r.Steps = append(r.Steps, st)
		r.Summary[string(x.o)]++
	}
	r.Steps[5].Inputs = steps.Values{"server": "ntp1.plant.example", "zone": "Europe/Berlin"}
	r.Steps[5].FromPlan = []string{"server"}
	r.Steps[5].ChangedInField = []string{"zone"}
	r.Plan = &record.Plan{Name: "plans/werk-7-halle-3-linie-2.toml", SHA256: digestOf("plan")}
	r.Status = record.StatusOf(r)
	r.Status.Reason = "The plant CA is not reachable from the cabinet yet; the certificate and the cellular modem are done at the next shutdown (ticket OT-4711)."
	return r
}

// lookCommissioned is a Kepware record with every step closed: two
// waivers (one without expiry), the plant's acceptance and evidence.
func lookCommissioned() record.Record {
	r := sampleRecord(32)
	r.Device = devices.Identity{Family: "kepware", Model: "KEPServerEX", Firmware: "V6.17.240.0", Address: "192.168.10.5", Name: "SCADA-SRV-01"}
	r.Guide = "PTC Kepware, Secure Deployment Guide, sections 3 to 8"
	for i := range r.Steps {
		st := &r.Steps[i]
		st.ID = strings.Replace(st.ID, "nport", "kepware", 1)
		if st.Outcome == steps.Deviation {
			st.Outcome = steps.Compliant
		}
		if st.Outcome == steps.Waived {
			st.Waiver = &record.Waiver{Approver: "K. Leitner, plant manager"}
			if i%4 == 2 {
				st.Waiver.Expires = "2027-06-30"
			}
		}
	}
	r.Summary = map[string]int{}
	for _, st := range r.Steps {
		r.Summary[string(st.Outcome)]++
	}
	r.Restarted = r.Started.Add(20*time.Minute + 7*time.Second)
	r.Acceptance = &record.Acceptance{Name: "K. Leitner", Role: "Plant manager"}
	r.Evidence = []record.Evidence{
		{Name: "evidence/https-certificate.pem", SHA256: digestOf("pem"), Description: "certificate the Configuration API's HTTPS port presented", CertSHA256: digestOf("der")},
		{Name: "evidence/api-settings.json", SHA256: digestOf("api"), Description: "the project, users, groups and endpoints the Configuration API returned at the end of the session, as decoded (secrets excluded)"},
	}
	r.Status = record.StatusOf(r)
	return r
}

// lookSimulated is the checked-in sample bundle's record (a scripted
// session against the NPort simulator).
func lookSimulated(t *testing.T) record.Record {
	t.Helper()
	r, _, err := record.Load(filepath.Join("..", "bundle", "testdata", "sample", "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLookAtTheFamilies renders the three records and, when
// COMMISSION_PDF_DIR is set, keeps them there to be looked at.
func TestLookAtTheFamilies(t *testing.T) {
	recs := map[string]record.Record{
		"thingspro-incomplete":   lookIncomplete(),
		"kepware-commissioned":   lookCommissioned(),
		"nport-sample-simulated": lookSimulated(t),
	}
	keep := os.Getenv("COMMISSION_PDF_DIR")
	for name, r := range recs {
		b, err := Render(r, digestOf(name), A4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if keep != "" {
			if err := os.MkdirAll(keep, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(keep, name+".pdf"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(name, func(t *testing.T) {
			all := pages(t, r)
			headline := record.Headline(r)
			for i, txt := range all {
				for _, want := range []string{"Commissioning record", headline, fmt.Sprintf("page %d of %d", i+1, len(all))} {
					if !strings.Contains(txt, want) {
						t.Errorf("page %d lacks %q", i+1, want)
					}
				}
				// An entry is kept on one page with its heading: a
				// waiver's approval with its step, a certificate's
				// fingerprint with its file.
				if j := strings.Index(txt, "Approved by"); j >= 0 && !strings.Contains(txt[:j], ": waived") {
					t.Errorf("page %d starts with a waiver's approval split from its step:\n%.200s", i+1, txt[j:])
				}
				if strings.Contains(txt, "fingerprint:") != regexp.MustCompile(`([0-9A-F]{2}:){31}[0-9A-F]{2}`).MatchString(strings.ReplaceAll(txt, " ", "")) {
					t.Errorf("page %d holds a certificate's fingerprint heading without its hex pairs, or the pairs without it", i+1)
				}
			}
			inBounds(t, b)
		})
	}
}

// inBounds checks that no word of the PDF runs into the right margin
// (pdftotext -bbox gives every word's box).
func inBounds(t *testing.T, b []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "record.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, tool(t, "pdftotext"), "-bbox", p, "-")
	page := regexp.MustCompile(`<page width="([0-9.]+)"`).FindStringSubmatch(out)
	if page == nil {
		t.Fatal("pdftotext -bbox: no page")
	}
	pw, _ := strconv.ParseFloat(page[1], 64)
	limit := pw - margin*72/25.4 + 1 // points
	words := regexp.MustCompile(`<word xMin="[0-9.]+" yMin="[0-9.]+" xMax="([0-9.]+)" yMax="[0-9.]+">([^<]*)</word>`).FindAllStringSubmatch(out, -1)
	if len(words) < 100 {
		t.Fatalf("pdftotext -bbox found %d words", len(words))
	}
	for _, w := range words {
		if x, _ := strconv.ParseFloat(w[1], 64); x > limit {
			t.Errorf("%q ends at %.1f pt, past the right margin at %.1f pt", w[2], x, limit)
		}
	}
}

func TestLookTimesAndStatusWords(t *testing.T) {
	txt := strings.Join(pages(t, lookIncomplete()), " ")
	for _, want := range []string{
		"2026-11-24 07:45:03 UTC", // restarted, to the second: the verification after it is visibly later
		"2026-11-24 07:51:09 UTC (fresh read",
		"Signed with open steps. The technician's reason:", "ticket OT-4711",
		"- Serve HTTPS with the plant's own certificate",
		"Expires 2027-02-01", "Approved by J. Werkleiter-Brandt",
		"from the site plan: server", "plans/werk-7-halle-3-linie-2.toml",
		"Outcomes: compliant, the device already met the guide",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if c := strings.Join(pages(t, lookCommissioned()), " "); !strings.Contains(c, "Expires no expiry") {
		t.Error("a waiver without expiry does not say so")
	}
	sim := strings.Join(pages(t, lookSimulated(t)), " ")
	if !strings.Contains(sim, "On the simulator, all 22 of its steps were closed.") {
		t.Errorf("simulated status: %.600s", sim)
	}
	r := lookIncomplete()
	r.Mode = record.ModeAudit
	r.Status.Reason = ""
	if a := pages(t, r)[0]; !strings.Contains(a, "This was an audit: the device was only read") {
		t.Errorf("audit status: %.600s", a)
	}
}

// TestSRsWrapBetweenItems: an SR is never split across lines in the
// steps table ("SR" on one line, "3.1" on the next).
func TestSRsWrapBetweenItems(t *testing.T) {
	f := fpdf.New("P", "mm", "A4", "")
	f.AddPage()
	f.SetFont("Helvetica", "", 9)
	d := &doc{f: f, tr: f.UnicodeTranslatorFromDescriptor("")}
	srs := []string{"SR 1.8", "SR 1.2", "SR 3.1", "SR 4.1", "SR 1.9", "SR 2.1 RE 1", "SR 7.7"}
	w := cols[2].frac*(210-2*margin) - 1
	got := d.wrapItems(srs, w)
	if len(got) < 2 {
		t.Fatalf("%q: want the SRs on several lines in %.1f mm", got, w)
	}
	var back []string
	for _, ln := range got {
		if f.GetStringWidth(ln) > w {
			t.Errorf("line %q is wider than the column", ln)
		}
		for it := range strings.SplitSeq(ln, ",") {
			if it = strings.TrimSpace(it); it != "" {
				back = append(back, it)
			}
		}
	}
	if strings.Join(back, "|") != strings.Join(srs, "|") {
		t.Errorf("lines %q split an SR: got items %q", got, back)
	}
}

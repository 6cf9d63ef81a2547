// Package pdf renders the printable commissioning record
// (record.pdf) from a record: its overall status on every page (and, for
// a simulated device, a watermark on every page), the device and
// session, every step of the guide by title with its IEC 62443-3-3 SRs
// and outcome, the values that were set, the attestations with their
// notes and inputs, the waivers with approver and expiry, the evidence
// files with their digests, and the technician's signature block beside
// the plant's acceptance block, with a QR code that names the record and
// its digest.
//
// Everything printed comes from record.json (and its SHA-256): the same
// record always gives the same bytes, so verify renders the PDF again and
// compares.
package pdf

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"sort"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/sshsig"
	"github.com/commission-tool/commission/internal/steps"
)

// Paper sizes Render accepts (case does not matter).
const (
	A4     = "A4"
	Letter = "Letter"
)

const (
	margin     = 15.0 // mm
	lineH      = 4.6  // mm, body text line height at 9 pt
	headerGrey = 225
)

// QRText is what the QR code carries: a self-describing string that
// names the record and the SHA-256 of its record.json, e.g.
// "commission-record:v1;id=5f1c…;sha256=9a0b…".
func QRText(id, recordSHA256 string) string {
	return "commission-record:v1;id=" + strings.ToLower(id) + ";sha256=" + strings.ToLower(recordSHA256)
}

// Render draws the printable record of r. recordSHA256 is the hex SHA-256
// of record.json as written; paper is "A4" or "Letter". The signer shown
// is record.Signer, which verify holds to the signature.
func Render(r record.Record, recordSHA256 string, paper string) ([]byte, error) {
	size := ""
	switch strings.ToLower(paper) {
	case "a4", "":
		size = A4
	case "letter":
		size = Letter
	default:
		return nil, fmt.Errorf("pdf: unknown paper %q (use A4 or Letter)", paper)
	}
	if len(recordSHA256) != 64 {
		return nil, fmt.Errorf("pdf: record digest must be 64 hex digits, got %d characters", len(recordSHA256))
	}
	f := fpdf.New("P", "mm", size, "")
	d := &doc{f: f, r: r, digest: strings.ToLower(recordSHA256), tr: f.UnicodeTranslatorFromDescriptor("")}
	stamp := r.Finished
	if stamp.IsZero() {
		stamp = r.Started
	}
	if stamp.IsZero() {
		stamp = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(stamp.UTC())
	f.SetModificationDate(stamp.UTC())
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetTitle("Commissioning record "+one(r.Device.Model)+" - "+record.Headline(r), true)
	f.SetAuthor(one(r.Technician.Name), true)
	f.SetCreator(one(r.Tool.Name+" "+r.Tool.Version), true)
	f.SetSubject("record.json sha256 "+d.digest, true)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin+8)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	f.AddPage()

	d.status()
	d.identity()
	d.table()
	d.values()
	d.attestations()
	d.waivers()
	d.evidence()
	d.signature()

	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

type doc struct {
	f      *fpdf.Fpdf
	r      record.Record
	digest string
	tr     func(string) string
}

// one is a device or record string made safe and one line.
func one(s string) string { return strings.Join(strings.Fields(printable.String(s)), " ") }

// text translates a cleaned string to the core fonts' code page.
func (d *doc) text(s string) string { return d.tr(s) }

func (d *doc) width() float64 {
	w, _ := d.f.GetPageSize()
	return w - 2*margin
}

// statusColour is the band colour of a status: green, amber, red.
func statusColour(state string) (r, g, b int) {
	switch state {
	case record.StatusCommissioned:
		return 200, 235, 200
	case record.StatusIncomplete:
		return 255, 222, 160
	}
	return 245, 170, 170
}

// header draws, on every page, the title, the record id, the status band
// and, for a simulated device, the watermark.
func (d *doc) header() {
	f := d.f
	if d.r.Status.State == record.StatusSimulated || d.r.Simulated {
		d.watermark()
	}
	f.SetFont("Helvetica", "B", 13)
	f.CellFormat(d.width()*0.6, 7, d.text("Commissioning record"), "", 0, "L", false, 0, "")
	f.SetFont("Helvetica", "", 8)
	f.CellFormat(d.width()*0.4, 7, d.text("record "+one(d.r.ID)), "", 1, "R", false, 0, "")
	r, g, b := statusColour(d.r.Status.State)
	f.SetFillColor(r, g, b)
	f.SetFont("Helvetica", "B", 10)
	f.CellFormat(d.width(), 7, d.text(record.Headline(d.r)), "1", 1, "C", true, 0, "")
	f.SetFont("Helvetica", "", 9)
	f.Ln(2)
}

// watermark writes the simulated-device notice across the page, in light
// red, behind the content drawn after it.
func (d *doc) watermark() {
	f := d.f
	w, h := f.GetPageSize()
	f.SetTextColor(240, 185, 185)
	f.SetFont("Helvetica", "B", 30)
	f.TransformBegin()
	f.TransformRotate(55, w/2, h/2)
	for i, s := range []string{"SIMULATED DEVICE", "NOT A COMMISSIONING RECORD"} {
		tw := f.GetStringWidth(s)
		f.Text(w/2-tw/2, h/2+float64(i)*14, s)
	}
	f.TransformEnd()
	f.SetTextColor(0, 0, 0)
	f.SetXY(margin, margin)
}

func (d *doc) footer() {
	f := d.f
	f.SetY(-margin - 4)
	f.SetFont("Helvetica", "", 7.5)
	state := strings.ToUpper(d.r.Status.State)
	if d.r.Status.State == record.StatusSimulated {
		state = "SIMULATED DEVICE - NOT A COMMISSIONING RECORD"
	}
	f.CellFormat(d.width(), 4, d.text(state+" - record "+one(d.r.ID)), "", 1, "L", false, 0, "")
	f.CellFormat(d.width()*0.75, 4, "record.json SHA-256 "+d.digest, "", 0, "L", false, 0, "")
	f.CellFormat(d.width()*0.25, 4, fmt.Sprintf("page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
}

// bottom is the lowest y the body may reach before the footer.
func (d *doc) bottom() float64 {
	_, pageH := d.f.GetPageSize()
	return pageH - margin - 8
}

// keep starts a new page unless a block h high fits on this one, so that
// a heading, an entry or a table row is never split from its lines.
func (d *doc) keep(h float64) {
	if d.f.GetY()+h > d.bottom() {
		d.f.AddPage()
	}
}

// lines is how many lines s takes in width w in the given font.
func (d *doc) lines(family, style string, size float64, s string, w float64) int {
	f := d.f
	f.SetFont(family, style, size)
	n := len(f.SplitText(d.text(s), w))
	f.SetFont("Helvetica", "", 9)
	return max(n, 1)
}

// section writes a heading, on a new page unless the heading and a first
// entry first high fit on this one.
func (d *doc) section(title string) { d.sectionKeep(title, 13) }

func (d *doc) sectionKeep(title string, first float64) {
	f := d.f
	d.keep(9 + first)
	f.Ln(2)
	f.SetFont("Helvetica", "B", 11)
	f.CellFormat(d.width(), 7, d.text(title), "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 9)
}

// kv writes label/value pairs in two columns, wrapping long values.
func (d *doc) kv(pairs [][2]string) {
	d.kvAt(margin, d.width(), 34, pairs)
}

func (d *doc) kvAt(x, w, lw float64, pairs [][2]string) {
	f := d.f
	for _, p := range pairs {
		v := one(p[1])
		if v == "" {
			continue
		}
		f.SetX(x)
		f.SetFont("Helvetica", "B", 9)
		f.CellFormat(lw, lineH, d.text(p[0]), "", 0, "L", false, 0, "")
		f.SetFont("Helvetica", "", 9)
		f.MultiCell(w-lw, lineH, d.text(v), "", "L", false)
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// status explains the overall status in words.
func (d *doc) status() {
	f := d.f
	r := d.r
	d.section("Status")
	switch r.Status.State {
	case record.StatusSimulated:
		closed := len(r.Steps) - len(r.Status.Open)
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text("This record was made against a simulated device (commission demo). "+
			"It shows how the tool works; it is not the commissioning record of any device."), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		how := fmt.Sprintf("On the simulator, %d of its %d steps were closed and %d left open.", closed, len(r.Steps), len(r.Status.Open))
		if len(r.Status.Open) == 0 {
			how = fmt.Sprintf("On the simulator, all %d of its steps were closed.", len(r.Steps))
		}
		f.MultiCell(d.width(), lineH, d.text(how), "", "L", false)
	case record.StatusCommissioned:
		f.MultiCell(d.width(), lineH, d.text(fmt.Sprintf("Every step of the guide is closed: compliant, fixed and verified, attested, "+
			"not applicable or waived. %s, listed below with approver and expiry.", capital(plural(r.Status.Waivers, "waiver")))), "", "L", false)
	default:
		intro := "These steps are still open; the device does not yet meet the guide on them:"
		if r.Mode == record.ModeAudit {
			intro = "This was an audit: the device was only read, nothing was changed. " +
				"These steps do not meet the guide, or are manual checks nobody confirmed:"
		}
		f.MultiCell(d.width(), lineH, d.text(intro), "", "L", false)
		open := map[string]bool{}
		for _, id := range r.Status.Open {
			open[id] = true
		}
		for _, st := range r.Steps {
			if !open[st.ID] {
				continue
			}
			f.SetX(margin + 5)
			f.MultiCell(d.width()-5, lineH, d.text("- "+one(st.Title)+" ("+label(st.Outcome)+")"), "", "L", false)
		}
	}
	if reason := strings.TrimSpace(printable.String(r.Status.Reason, true)); reason != "" {
		f.Ln(1)
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text("Signed with open steps. The technician's reason:"), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		f.SetX(margin + 5)
		f.MultiCell(d.width()-5, lineH, d.text(reason), "", "L", false)
	}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, word string) string {
	if n == 0 {
		return "no " + word + "s"
	}
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// verified is the time of the last fresh read that verified a change.
func verified(r record.Record) time.Time {
	var t time.Time
	for _, s := range r.Steps {
		if s.Outcome == steps.Fixed && s.At.After(t) {
			t = s.At
		}
	}
	return t
}

func (d *doc) identity() {
	r := d.r
	dev := r.Device
	d.section("Device")
	d.kv([][2]string{
		{"Model", dev.Model}, {"Firmware", dev.Firmware}, {"Serial", dev.Serial}, {"MAC", dev.MAC},
		{"Address", dev.Address}, {"Name", dev.Name}, {"Site", r.Site},
	})
	d.section("Session")
	tech := one(r.Technician.Name)
	if c := one(r.Technician.Company); c != "" {
		tech += ", " + c
	}
	if e := one(r.Technician.Email); e != "" {
		tech += " <" + e + ">"
	}
	mode := "wizard (checked and changed on the device)"
	if r.Mode == record.ModeAudit {
		mode = "audit (read only, nothing was changed)"
	}
	restart := fmtTime(r.Restarted)
	if restart == "" && r.Summary[string(steps.Fixed)] == 0 {
		restart = "none (nothing needed a restart)"
	}
	ver := fmtTime(verified(r))
	if ver != "" {
		ver += " (fresh read of the device after the last change)"
	}
	plan := ""
	if p := r.Plan; p != nil {
		plan = one(p.Name) + ", SHA-256 " + one(p.SHA256)
	}
	d.kv([][2]string{
		{"Guide", r.Guide}, {"Site plan", plan}, {"Technician", tech}, {"Mode", mode},
		{"Started", fmtTime(r.Started)}, {"Finished", fmtTime(r.Finished)},
		{"Restarted", restart}, {"Verified", ver},
		{"Tool", strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version)}, {"Outcomes", summary(r.Summary)},
	})
}

func summary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", label(steps.Outcome(k)), m[k])
	}
	return strings.Join(parts, "; ")
}

// label is an outcome as printed.
func label(o steps.Outcome) string {
	switch o {
	case steps.NotApplicable:
		return "not applicable"
	case steps.ManualPending:
		return "manual, not attested"
	case steps.Fixed:
		return "fixed, verified"
	case steps.Staged:
		return "staged, not verified"
	case steps.Failed:
		return "failed, not verified"
	}
	return strings.ReplaceAll(string(o), "_", " ")
}

// column layout of the steps table, as fractions of the text width.
var cols = []struct {
	title string
	frac  float64
	align string
}{
	{"#", 0.05, "R"}, {"Step (guide section, id)", 0.55, "L"}, {"SRs", 0.20, "L"}, {"Outcome", 0.20, "L"},
}

func (d *doc) tableHeader() {
	f := d.f
	f.SetFont("Helvetica", "B", 9)
	f.SetFillColor(headerGrey, headerGrey, headerGrey)
	for _, c := range cols {
		f.CellFormat(c.frac*d.width(), 6, c.title, "1", 0, "L", true, 0, "")
	}
	f.Ln(-1)
	f.SetFont("Helvetica", "", 9)
}

func (d *doc) table() {
	f := d.f
	d.section("Steps")
	f.SetFont("Helvetica", "I", 8)
	f.MultiCell(d.width(), 3.8, d.text("SRs are IEC 62443-3-3 system requirements (SR 1.5 Authenticator management, "+
		"SR 7.7 Least functionality, ...); RE is a requirement enhancement. Outcomes: compliant, the device already met "+
		"the guide; fixed, verified, changed by the tool and confirmed by a fresh read of the device; attested, a manual "+
		"check the technician confirmed; waived, left as it is with the approval listed under Waivers; not applicable, "+
		"with its reason. Open steps (shaded): deviation, the device does not meet the guide and nothing was changed; "+
		"staged, a change not yet confirmed by a fresh read; failed, a change that did not take; manual, not attested, "+
		"a manual check nobody confirmed."), "", "L", false)
	f.Ln(1)
	d.tableHeader()
	bottom := d.bottom()
	for i, st := range d.r.Steps {
		title := one(st.Title)
		ref := strings.TrimSpace("guide " + one(st.Guide) + ", " + one(st.ID))
		cells := []string{fmt.Sprint(i + 1), title, "", label(st.Outcome)}
		lines := make([][]string, len(cells))
		w1 := cols[1].frac*d.width() - 1
		// The step cell: its title, its reference in Courier, then the
		// inputs the site plan gave, in italics.
		var planLines []string
		if notes := planNotes(st); len(notes) > 0 { // (a font change is written to the page: none without notes)
			f.SetFont("Helvetica", "I", 7.5)
			for _, m := range notes {
				planLines = append(planLines, f.SplitText(d.text(m), w1)...)
			}
			f.SetFont("Helvetica", "", 9)
		}
		n := 1
		for j, c := range cells {
			w := cols[j].frac*d.width() - 1
			if j == 2 {
				lines[j] = d.wrapItems(st.SRs, w)
			} else {
				lines[j] = f.SplitText(d.text(c), w)
			}
			if j == 1 {
				f.SetFont("Courier", "", 7.5)
				lines[j] = append(lines[j], f.SplitText(d.text(ref), w)...)
				f.SetFont("Helvetica", "", 9)
				lines[j] = append(lines[j], planLines...)
			}
			if len(lines[j]) > n {
				n = len(lines[j])
			}
		}
		h := float64(n)*lineH + 1.5
		if f.GetY()+h > bottom {
			f.AddPage()
			d.tableHeader()
		}
		x, y := f.GetX(), f.GetY()
		titleLines := len(f.SplitText(d.text(title), w1))
		planFrom := len(lines[1]) - len(planLines)
		for j := range cells {
			w := cols[j].frac * d.width()
			if j == 3 && !st.Outcome.Final() {
				// An open step's outcome stands out, in a lighter amber
				// than the status band's (and far from the watermark's red).
				f.SetFillColor(255, 238, 195)
				f.Rect(x, y, w, h, "FD")
			} else {
				f.Rect(x, y, w, h, "D")
			}
			for k, ln := range lines[j] {
				f.SetXY(x, y+0.75+float64(k)*lineH)
				switch {
				case j == 1 && k >= planFrom:
					f.SetFont("Helvetica", "I", 7.5)
				case j == 1 && k >= titleLines:
					f.SetFont("Courier", "", 7.5)
				case j == 3:
					f.SetFont("Helvetica", "B", 9)
				}
				f.CellFormat(w, lineH, ln, "", 0, cols[j].align, false, 0, "")
				f.SetFont("Helvetica", "", 9)
			}
			x += w
		}
		f.SetXY(margin, y+h)
	}
}

// wrapItems lays items out as "a, b, c" lines no wider than w, breaking
// only between items (an SR such as "SR 5.2 RE 1" is never split), and an
// item wider than w on its own line, split as text.
func (d *doc) wrapItems(items []string, w float64) []string {
	f := d.f
	var out []string
	cur := ""
	for i, it := range items {
		it = one(it)
		if i < len(items)-1 {
			it += ","
		}
		next := it
		if cur != "" {
			next = cur + " " + it
		}
		if cur != "" && len(f.SplitText(d.text(next), w)) > 1 {
			out = append(out, f.SplitText(d.text(cur), w)...)
			next = it
		}
		cur = next
	}
	if cur != "" {
		out = append(out, f.SplitText(d.text(cur), w)...)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// planNotes are a step's marks as printed: the inputs whose value came
// from the site plan, and those the technician changed in the field.
func planNotes(st record.Step) []string {
	var out []string
	if len(st.FromPlan) > 0 {
		out = append(out, "from the site plan: "+one(strings.Join(inputNames(st, st.FromPlan), ", ")))
	}
	if len(st.ChangedInField) > 0 {
		out = append(out, "changed in the field: "+one(strings.Join(inputNames(st, st.ChangedInField), ", ")))
	}
	return out
}

// inputNames is how the inputs keys of st are printed: by their labels,
// or, without one, their keys.
func inputNames(st record.Step, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = record.InputLabel(st, k)
	}
	return out
}

// values lists every setting the tool changed, from what to what.
func (d *doc) values() {
	f := d.f
	started := false
	for _, st := range d.r.Steps {
		if len(st.Changes) == 0 || (st.Outcome != steps.Fixed && st.Outcome != steps.Staged && st.Outcome != steps.Failed) {
			continue
		}
		head := one(st.Title) + " (" + label(st.Outcome) + ")"
		h := float64(d.lines("Helvetica", "B", 9, head, d.width())) * lineH
		for _, c := range st.Changes {
			h += float64(d.lines("Helvetica", "", 9, change(c), d.width()-5)) * lineH
		}
		if !started {
			d.sectionKeep("Values set on the device", h)
			started = true
		} else {
			d.keep(h)
		}
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text(head), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		for _, c := range st.Changes {
			f.SetX(margin + 5)
			f.MultiCell(d.width()-5, lineH, d.text(change(c)), "", "L", false)
		}
		f.Ln(0.5)
	}
}

// change is one setting's change as printed.
func change(c steps.Change) string {
	return fmt.Sprintf("%s: %s  ->  %s", one(c.Setting), firstNonEmpty(one(c.From), "(empty)"), firstNonEmpty(one(c.To), "(empty)"))
}

// kvHeight is the height kvAt gives pairs.
func (d *doc) kvHeight(w, lw float64, pairs [][2]string) float64 {
	h := 0.0
	for _, p := range pairs {
		if v := one(p[1]); v != "" {
			h += float64(d.lines("Helvetica", "", 9, v, w-lw)) * lineH
		}
	}
	return h
}

// attestations lists the manual steps the technician confirmed, with the
// evidence, the note and the inputs given, each input by the label the
// record keeps for it (by its key in a record without labels).
func (d *doc) attestations() {
	f := d.f
	started := false
	for _, st := range d.r.Steps {
		if st.Outcome != steps.Attested {
			continue
		}
		var pairs [][2]string
		keys := make([]string, 0, len(st.Inputs))
		for k := range st.Inputs {
			if !record.SecretKey(k) { // a record holds none; a secret-named one is never printed either way
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			pairs = append(pairs, [2]string{record.InputLabel(st, k), st.Inputs[k]})
		}
		pairs = append(pairs, [2]string{"Evidence", st.Evidence}, [2]string{"At", fmtTime(st.At)})
		// A record with the catalog's labels (v3) prints them in a wider
		// column that wraps; one without (v2) prints its keys exactly as
		// it always did, so its PDF renders again byte for byte.
		kvH, kvAt := d.kvHeight, d.kvAt
		lw := 36.0
		if len(st.InputLabels) > 0 {
			kvH, kvAt, lw = d.kvWrapHeight, d.kvWrapAt, labelW
		}
		h := float64(d.lines("Helvetica", "B", 9, one(st.Title), d.width()))*lineH + kvH(d.width()-5, lw, pairs)
		if !started {
			d.sectionKeep("Attestations", h)
			started = true
		} else {
			d.keep(h)
		}
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text(one(st.Title)), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		kvAt(margin+5, d.width()-5, lw, pairs)
		f.Ln(0.5)
	}
}

// labelW is the width of the label column of an attestation whose
// inputs carry the catalog's labels; a longer label wraps in it.
const labelW = 58.0 // mm

// kvWrapHeight is the height kvWrapAt gives pairs.
func (d *doc) kvWrapHeight(w, lw float64, pairs [][2]string) float64 {
	h := 0.0
	for _, p := range pairs {
		if v := one(p[1]); v != "" {
			h += float64(max(d.lines("Helvetica", "B", 9, one(p[0]), lw-1), d.lines("Helvetica", "", 9, v, w-lw))) * lineH
		}
	}
	return h
}

// kvWrapAt writes label/value pairs in two columns like kvAt, but a label
// too long for its column wraps there instead of running into the value.
func (d *doc) kvWrapAt(x, w, lw float64, pairs [][2]string) {
	f := d.f
	for _, p := range pairs {
		v := one(p[1])
		if v == "" {
			continue
		}
		y := f.GetY()
		f.SetFont("Helvetica", "B", 9)
		labels := f.SplitText(d.text(one(p[0])), lw-1)
		for i, ln := range labels {
			f.SetXY(x, y+float64(i)*lineH)
			f.CellFormat(lw, lineH, ln, "", 0, "L", false, 0, "")
		}
		f.SetFont("Helvetica", "", 9)
		f.SetXY(x+lw, y)
		f.MultiCell(w-lw, lineH, d.text(v), "", "L", false)
		f.SetXY(x, max(f.GetY(), y+float64(len(labels))*lineH))
	}
}

func (d *doc) waivers() {
	f := d.f
	var started bool
	for _, st := range d.r.Steps {
		reason := strings.TrimSpace(printable.String(st.Reason, true))
		if st.Outcome == steps.Attested || (reason == "" && !st.Outcome.NeedsReason()) {
			continue
		}
		if reason == "" {
			reason = "(no reason given)"
		}
		head := fmt.Sprintf("%s: %s", one(st.Title), label(st.Outcome))
		var approval [][2]string
		if st.Outcome == steps.Waived {
			approver, expires := "not recorded", "no expiry"
			if w := st.Waiver; w != nil {
				approver = firstNonEmpty(one(w.Approver), approver)
				expires = firstNonEmpty(one(w.Expires), expires)
			}
			approval = [][2]string{{"Approved by", approver}, {"Expires", expires}}
		}
		h := float64(d.lines("Helvetica", "B", 9, head, d.width())+d.lines("Helvetica", "", 9, reason, d.width()-5))*lineH +
			d.kvHeight(d.width()-5, 36, approval)
		if !started {
			d.sectionKeep("Waivers and reasons", h)
			started = true
		} else {
			d.keep(h)
		}
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text(head), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		f.SetX(margin + 5)
		f.MultiCell(d.width()-5, lineH, d.text(reason), "", "L", false)
		d.kvAt(margin+5, d.width()-5, 36, approval)
		f.Ln(1)
	}
}

// hexPairs writes a hex digest as upper-case pairs separated by colons,
// as browsers show certificate fingerprints.
func hexPairs(h string) string {
	h = strings.ToUpper(h)
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// evidence lists the evidence files with their digests.
func (d *doc) evidence() {
	f := d.f
	if len(d.r.Evidence) == 0 {
		return
	}
	for i, e := range d.r.Evidence {
		head := one(e.Name) + ": " + one(e.Description)
		h := float64(d.lines("Helvetica", "B", 9, head, d.width()))*lineH + 3.8
		if one(e.CertSHA256) != "" {
			h += 3 * 3.8
		}
		if i == 0 {
			d.sectionKeep("Evidence files (in the bundle's evidence folder)", h)
		} else {
			d.keep(h)
		}
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text(head), "", "L", false)
		f.SetX(margin + 5)
		f.SetFont("Courier", "", 7.5)
		f.CellFormat(d.width()-5, 3.8, "file SHA-256 "+one(e.SHA256), "", 1, "L", false, 0, "")
		if c := one(e.CertSHA256); c != "" {
			f.SetFont("Helvetica", "", 8)
			f.SetX(margin + 5)
			f.CellFormat(d.width()-5, 3.8, "device certificate SHA-256 fingerprint:", "", 1, "L", false, 0, "")
			f.SetFont("Courier", "", 7.5)
			p := hexPairs(c)
			f.SetX(margin + 5)
			f.CellFormat(d.width()-5, 3.8, p[:min(len(p), 48)], "", 1, "L", false, 0, "")
			if len(p) > 48 {
				f.SetX(margin + 5)
				f.CellFormat(d.width()-5, 3.8, p[48:], "", 1, "L", false, 0, "")
			}
		}
		f.SetFont("Helvetica", "", 9)
		f.Ln(0.5)
	}
}

// signature draws the technician's block beside the plant's acceptance
// block, then the QR code and the verify command.
func (d *doc) signature() {
	f := d.f
	const blockH = 95.0
	_, pageH := f.GetPageSize()
	if f.GetY()+blockH > pageH-margin-8 {
		f.AddPage()
	}
	d.section("Signatures")
	top := f.GetY()
	half := (d.width() - 6) / 2
	r := d.r

	// Technician (signed electronically).
	f.SetFont("Helvetica", "B", 10)
	f.SetXY(margin, top)
	f.CellFormat(half, 6, "Technician", "", 1, "L", false, 0, "")
	tech := one(r.Technician.Name)
	if c := one(r.Technician.Company); c != "" {
		tech += ", " + c
	}
	id, keyType, fp := "-", "-", "-"
	if s := r.Signer; s != nil {
		id = firstNonEmpty(one(s.Identity), "-")
		keyType = firstNonEmpty(one(s.KeyType), "-")
		fp = firstNonEmpty(one(s.Fingerprint), "-")
	}
	d.kvAt(margin, half, 24, [][2]string{
		{"Name", tech}, {"Signed as", id}, {"Date", fmtTime(r.Finished)}, {"Namespace", sshsig.Namespace}, {"Key", keyType},
	})
	f.SetX(margin)
	f.SetFont("Courier", "", 7)
	f.CellFormat(half, 3.8, fp, "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 9)
	leftY := f.GetY()

	// Plant acceptance (on paper).
	x := margin + half + 6
	f.SetFont("Helvetica", "B", 10)
	f.SetXY(x, top)
	f.CellFormat(half, 6, "Plant acceptance", "", 1, "L", false, 0, "")
	name, role := "", ""
	if a := r.Acceptance; a != nil {
		name, role = one(a.Name), one(a.Role)
	}
	y := top + 7
	sigY := 0.0
	for _, fld := range [][2]string{{"Name", name}, {"Role", role}, {"Date", ""}, {"Signature", ""}} {
		if fld[0] == "Signature" {
			y = max(y, leftY+2)
			sigY = y + lineH + 0.5
		}
		f.SetXY(x, y)
		f.SetFont("Helvetica", "B", 9)
		f.CellFormat(20, lineH, fld[0], "", 0, "L", false, 0, "")
		f.SetFont("Helvetica", "", 9)
		// A long name or role wraps above its line rather than running past it.
		vals := []string{""}
		if fld[1] != "" {
			vals = f.SplitText(d.text(fld[1]), half-21)
		}
		for i, v := range vals {
			if i > 0 {
				y += lineH
			}
			f.SetXY(x+20, y)
			f.CellFormat(half-20, lineH, v, "", 0, "L", false, 0, "")
		}
		f.SetDrawColor(0, 0, 0)
		f.Line(x+20, y+lineH+0.5, x+half, y+lineH+0.5)
		y += lineH + 5
	}
	f.SetXY(x, y)
	f.SetFont("Helvetica", "", 7.5)
	f.MultiCell(half, 3.6, d.text("By signing, the plant accepts the device as commissioned in the state this record describes."), "", "L", false)

	afterPlant := f.GetY()
	// Technician's paper signature line, level with the plant's.
	f.Line(margin, sigY, margin+half, sigY)
	f.SetXY(margin, sigY+0.5)
	f.SetFont("Helvetica", "", 7.5)
	f.CellFormat(half, 4, "Technician's signature (on paper; the record is signed electronically)", "", 1, "L", false, 0, "")
	f.SetY(max(f.GetY(), afterPlant))

	// QR and how to check.
	qrSize := 34.0
	qy := f.GetY() + 4
	qrText := QRText(r.ID, d.digest)
	if err := drawQR(f, qrText, margin, qy, qrSize); err != nil {
		f.SetError(err)
	}
	tx := margin + qrSize + 5
	tw := d.width() - qrSize - 5
	f.SetXY(tx, qy)
	f.SetFont("Helvetica", "B", 9)
	f.CellFormat(tw, lineH, "SHA-256 of record.json", "", 1, "L", false, 0, "")
	f.SetX(tx)
	f.SetFont("Courier", "", 9)
	f.CellFormat(tw, lineH, d.digest[:32], "", 1, "L", false, 0, "")
	f.SetX(tx)
	f.CellFormat(tw, lineH, d.digest[32:], "", 1, "L", false, 0, "")
	f.SetX(tx)
	f.SetFont("Helvetica", "", 8)
	f.MultiCell(tw, 3.8, d.text("The QR code reads "+qrText+". Check the files with: commission verify --allowed-signers "+
		"<the plant's allowed_signers> DIR, or: ssh-keygen -Y verify -f <allowed_signers> -I "+firstNonEmpty(id, "IDENTITY")+
		" -n "+sshsig.Namespace+" -s record.json.sig < record.json"), "", "L", false)
	f.SetY(max(f.GetY(), qy+qrSize) + 2)
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" && x != "-" {
			return x
		}
	}
	return ""
}

// drawQR places text as a QR code (error correction M) of size × size at
// x, y. It draws as fpdf's contrib/barcode did, byte for byte (a JPEG of
// quality 100 at one pixel per module, under the same image name), so
// records rendered before still render to the same PDF; it links only
// the QR encoder, where that package brought eight symbologies and their
// start-up tables into every command.
func drawQR(f *fpdf.Fpdf, text string, x, y, size float64) error {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	name := "barcode-" + code.Metadata().CodeKind + code.Content() + "-" +
		strconv.FormatFloat(x, 'E', -1, 64) + strconv.FormatFloat(y, 'E', -1, 64)
	if f.GetImageInfo(name) == nil {
		scaled, err := barcode.Scale(code, code.Bounds().Dx(), code.Bounds().Dy())
		if err != nil {
			return fmt.Errorf("qr code: %w", err)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, scaled, &jpeg.Options{Quality: 100}); err != nil {
			return fmt.Errorf("qr code: %w", err)
		}
		f.RegisterImageReader(name, "jpg", &buf)
	}
	f.Image(name, x, y, size, size, false, "jpg", 0, "")
	return nil
}

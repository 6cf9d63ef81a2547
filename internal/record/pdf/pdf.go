// Package pdf renders the printable commissioning record (record.pdf): the
// device and site, a table of the guide's steps with outcome, guide
// section and IEC 62443-3-3 SRs, the waivers with their reasons, and a
// signature block with the technician, the signing key's fingerprint, the
// date, and the SHA-256 of record.json as text and as a QR code, so the
// paper can be matched against the signed files.
//
// The same inputs always give the same bytes: the PDF's dates come from
// the record and its catalog is written in a fixed order.
package pdf

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"codeberg.org/go-pdf/fpdf/contrib/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/keys"
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

// QRText is what the QR code carries: the hex SHA-256 of record.json.
func QRText(recordSHA256 string) string { return strings.ToLower(recordSHA256) }

// Render draws the printable record of r. recordSHA256 is the hex SHA-256
// of record.json as written; signer describes the key that signed it;
// paper is "A4" or "Letter".
func Render(r record.Record, recordSHA256 string, signer keys.SignerInfo, paper string) ([]byte, error) {
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
	f.SetTitle("Commissioning record "+one(r.Device.Model), true)
	f.SetAuthor(one(r.Technician.Name), true)
	f.SetCreator(one(r.Tool.Name+" "+r.Tool.Version), true)
	f.SetSubject("record.json sha256 "+d.digest, true)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin+6)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	f.AddPage()

	d.identity()
	d.table()
	d.waivers()
	d.signature(signer)

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
func one(s string) string { return strings.Join(strings.Fields(devices.Printable(s)), " ") }

// text translates a cleaned string to the core fonts' code page.
func (d *doc) text(s string) string { return d.tr(s) }

func (d *doc) width() float64 {
	w, _ := d.f.GetPageSize()
	return w - 2*margin
}

func (d *doc) header() {
	f := d.f
	f.SetFont("Helvetica", "B", 13)
	f.CellFormat(d.width()*0.6, 7, d.text("Commissioning record"), "", 0, "L", false, 0, "")
	f.SetFont("Helvetica", "", 8)
	f.CellFormat(d.width()*0.4, 7, d.text("record "+one(d.r.ID)), "", 1, "R", false, 0, "")
	y := f.GetY()
	f.SetDrawColor(120, 120, 120)
	f.Line(margin, y, margin+d.width(), y)
	f.Ln(3)
}

func (d *doc) footer() {
	f := d.f
	f.SetY(-margin - 2)
	f.SetFont("Helvetica", "", 7.5)
	f.CellFormat(d.width()*0.75, 5, "record.json SHA-256 "+d.digest, "", 0, "L", false, 0, "")
	f.CellFormat(d.width()*0.25, 5, fmt.Sprintf("page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
}

func (d *doc) section(title string) {
	f := d.f
	f.Ln(2)
	f.SetFont("Helvetica", "B", 11)
	f.CellFormat(d.width(), 7, d.text(title), "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 9)
}

// kv writes label/value pairs in two columns, wrapping long values.
func (d *doc) kv(pairs [][2]string) {
	f := d.f
	f.SetFont("Helvetica", "", 9)
	lw := 32.0
	for _, p := range pairs {
		v := one(p[1])
		if v == "" {
			continue
		}
		f.SetFont("Helvetica", "B", 9)
		f.CellFormat(lw, lineH, d.text(p[0]), "", 0, "L", false, 0, "")
		f.SetFont("Helvetica", "", 9)
		f.MultiCell(d.width()-lw, lineH, d.text(v), "", "L", false)
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
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
	d.kv([][2]string{
		{"Guide", r.Guide}, {"Technician", tech}, {"Mode", r.Mode},
		{"Started", fmtTime(r.Started)}, {"Finished", fmtTime(r.Finished)},
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
	return strings.Join(parts, ", ")
}

// label is an outcome as printed.
func label(o steps.Outcome) string {
	switch o {
	case steps.NotApplicable:
		return "not applicable"
	case steps.ManualPending:
		return "manual, not attested"
	}
	return strings.ReplaceAll(string(o), "_", " ")
}

// column layout of the steps table, as fractions of the text width.
var cols = []struct {
	title string
	frac  float64
	align string
}{
	{"#", 0.05, "R"}, {"Step", 0.47, "L"}, {"Guide", 0.09, "L"}, {"SRs", 0.20, "L"}, {"Outcome", 0.19, "L"},
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
	d.tableHeader()
	_, pageH := f.GetPageSize()
	bottom := pageH - margin - 6
	for i, st := range d.r.Steps {
		title := one(st.Title)
		if id := one(st.ID); id != "" {
			title += "\n" + id
		}
		cells := []string{fmt.Sprint(i + 1), title, one(st.Guide), one(strings.Join(st.SRs, ", ")), label(st.Outcome)}
		lines := make([][]string, len(cells))
		n := 1
		for j, c := range cells {
			w := cols[j].frac * d.width()
			for _, part := range strings.Split(c, "\n") {
				lines[j] = append(lines[j], f.SplitText(part, w)...)
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
		for j := range cells {
			w := cols[j].frac * d.width()
			f.Rect(x, y, w, h, "D")
			for k, ln := range lines[j] {
				f.SetXY(x, y+0.75+float64(k)*lineH)
				if j == 1 && k > 0 && k == len(lines[j])-1 && strings.Contains(title, "\n") {
					f.SetFont("Courier", "", 7.5) // the step id
				}
				f.CellFormat(w, lineH, d.text(ln), "", 0, cols[j].align, false, 0, "")
				f.SetFont("Helvetica", "", 9)
			}
			x += w
		}
		f.SetXY(margin, y+h)
	}
}

func (d *doc) waivers() {
	f := d.f
	var started bool
	for _, st := range d.r.Steps {
		reason := strings.TrimSpace(devices.Printable(st.Reason, true))
		if reason == "" && !st.Outcome.NeedsReason() {
			continue
		}
		if !started {
			d.section("Waivers and reasons")
			started = true
		}
		if reason == "" {
			reason = "(no reason given)"
		}
		f.SetFont("Helvetica", "B", 9)
		f.MultiCell(d.width(), lineH, d.text(fmt.Sprintf("%s %s: %s", one(st.Guide), one(st.Title), label(st.Outcome))), "", "L", false)
		f.SetFont("Helvetica", "", 9)
		f.SetX(margin + 5)
		f.MultiCell(d.width()-5, lineH, d.text(reason), "", "L", false)
		f.Ln(1)
	}
}

func (d *doc) signature(s keys.SignerInfo) {
	f := d.f
	const blockH = 72.0
	_, pageH := f.GetPageSize()
	if f.GetY()+blockH > pageH-margin-6 {
		f.AddPage()
	}
	d.section("Signature")
	qrSize := 36.0
	top := f.GetY()
	textW := d.width() - qrSize - 6
	tech := one(d.r.Technician.Name)
	if e := one(d.r.Technician.Email); e != "" {
		tech += " <" + e + ">"
	}
	pairs := [][2]string{
		{"Technician", tech},
		{"Signed as", s.Identity},
		{"Key", strings.TrimSpace(s.KeyType + " " + s.Fingerprint)},
		{"Namespace", sshsig.Namespace},
		{"Date", fmtTime(d.r.Finished)},
	}
	lw := 26.0
	for _, p := range pairs {
		v := one(p[1])
		if v == "" {
			v = "-"
		}
		f.SetFont("Helvetica", "B", 9)
		f.CellFormat(lw, lineH, d.text(p[0]), "", 0, "L", false, 0, "")
		f.SetFont("Helvetica", "", 9)
		f.MultiCell(textW-lw, lineH, d.text(v), "", "L", false)
	}
	f.Ln(1)
	f.SetFont("Helvetica", "B", 9)
	f.CellFormat(textW, lineH, "SHA-256 of record.json", "", 1, "L", false, 0, "")
	f.SetFont("Courier", "", 9)
	f.CellFormat(textW, lineH, d.digest[:32], "", 1, "L", false, 0, "")
	f.CellFormat(textW, lineH, d.digest[32:], "", 1, "L", false, 0, "")

	key := barcode.RegisterQR(f, QRText(d.digest), qr.M, qr.Auto)
	barcode.Barcode(f, key, margin+d.width()-qrSize, top, qrSize, qrSize, false)

	y := max(f.GetY(), top+qrSize) + 10
	f.SetDrawColor(0, 0, 0)
	f.Line(margin, y, margin+80, y)
	f.SetXY(margin, y+1)
	f.SetFont("Helvetica", "", 8)
	f.CellFormat(80, 4, "Technician's signature (optional, on paper)", "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 8)
	f.Ln(2)
	f.MultiCell(d.width(), 3.8, d.text("Verify the files with: ssh-keygen -Y verify -f allowed_signers -I "+
		firstNonEmpty(one(s.Identity), "IDENTITY")+" -n "+sshsig.Namespace+" -s record.json.sig < record.json"), "", "L", false)
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

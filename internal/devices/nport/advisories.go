package nport

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Advisory is one known weakness or guide requirement checked against a
// device's model and firmware.
type Advisory struct {
	ID       string `json:"id"`       // CVE id, or "guide-2.1"
	Summary  string `json:"summary"`  // in our words
	FixedIn  string `json:"fixed_in"` // first good version for this model, "" when there is none
	Affected bool   `json:"affected"`
}

// advisory is one row of the table: for each series the version below
// which the device is affected ("" = every version, no fix).
type advisory struct {
	id, summary string
	fixed       map[string]string
	all         bool              // applies to every series, with no fix
	only        map[string]string // series -> the single affected version (no fix)
}

// advisories is the table (nport.md section 7, hardening guide 2.1).
var advisories = []advisory{
	{id: "guide-2.1", summary: "Below the firmware version the hardening guide assumes; upgrade before hardening",
		fixed: map[string]string{"5100A": "1.6", "5200A": "1.6", "P5150A": "1.6", "5110": "2.10", "5130/5150": "3.9",
			"5200": "2.12", "5400": "3.14", "5600-DT": "2.8", "5600-DTL": "1.6", "5600": "3.10",
			"5000AI-M12": "1.5", "IA5000": "1.7", "IA5000A": "1.7"}},
	{id: "CVE-2016-9361", summary: "ICSA-16-336-02 (with CVE-2016-9363, 9365, 9366, 9367, 9369, 9371, 9348): password readable over UDP 4800, buffer overflow, CSRF, brute force, DoS, unauthenticated firmware upload, XSS",
		fixed: map[string]string{"5110": "2.7", "5130/5150": "3.7", "5200": "2.9", "5400": "3.12", "5600": "3.8",
			"5100A": "1.4", "P5150A": "1.4", "5200A": "1.4", "5000AI-M12": "1.3", "5600-DT": "2.5", "5600-DTL": "2.5",
			"IA5000A": "1.4"}},
	{id: "CVE-2017-16715", summary: "ICSA-17-320-01 (with CVE-2017-16719, CVE-2017-14028): information leak in frame padding, packet injection DoS, SYN memory exhaustion",
		fixed: map[string]string{"5110": "2.8", "5130/5150": "3.8"}},
	{id: "CVE-2018-10632", summary: "ICSA-18-200-04: SYN flood exhausts resources",
		fixed: map[string]string{"5200": "2.10"}},
	{id: "CVE-2022-2043", summary: "ICSA-22-207-04 (with CVE-2022-2044): out-of-bounds writes, denial of service or a bricked device; patch only from Moxa support",
		only: map[string]string{"5110": "2.10"}},
	{id: "CVE-2023-4929", summary: "Firmware integrity is not validated (all NPort 5000 versions, no fix): follow the hardening guide, upgrade only with files whose hash matches Moxa's",
		all: true},
}

// series maps a model string ("NPort 5150A", "NP5150A", "5232I") to the
// series the tables use, or "".
func series(model string) string {
	m := strings.ToUpper(strings.TrimSpace(model))
	m = strings.TrimPrefix(m, "NPORT")
	m = strings.TrimSpace(strings.TrimPrefix(m, "NP"))
	switch {
	case strings.HasPrefix(m, "IA5") && strings.HasSuffix(firstWord(m), "A"):
		return "IA5000A"
	case strings.HasPrefix(m, "IA5"):
		return "IA5000"
	case strings.HasPrefix(m, "P5150A"):
		return "P5150A"
	case strings.Contains(m, "AI-M12"):
		return "5000AI-M12"
	case strings.HasPrefix(m, "56") && strings.Contains(m, "-DTL"):
		return "5600-DTL"
	case strings.HasPrefix(m, "56") && strings.Contains(m, "-DT"):
		return "5600-DT"
	case strings.HasPrefix(m, "56"):
		return "5600"
	case seriesA(m, "51"):
		return "5100A"
	case seriesA(m, "52"):
		return "5200A"
	case strings.HasPrefix(m, "5110"):
		return "5110"
	case strings.HasPrefix(m, "5130"), strings.HasPrefix(m, "5150"):
		return "5130/5150"
	case strings.HasPrefix(m, "52"):
		return "5200"
	case strings.HasPrefix(m, "54"):
		return "5400"
	}
	return ""
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " -"); i >= 0 {
		return s[:i]
	}
	return s
}

var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*v?(\d+(?:\.\d+)*)`) })

// versionLess compares dotted versions numerically; ok is false when
// either is not a version.
func versionLess(a, b string) (less, ok bool) {
	ma, mb := versionRE().FindStringSubmatch(a), versionRE().FindStringSubmatch(b)
	if ma == nil || mb == nil {
		return false, false
	}
	pa, pb := strings.Split(ma[1], "."), strings.Split(mb[1], ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y, true
		}
	}
	return false, true
}

// Advisories lists the table's rows that concern model, each marked
// Affected when firmware (e.g. "1.6 Build 21051010") is below the fixed
// version. Rows for other series are left out; a firmware that cannot be
// read counts as affected. CVE-2023-4929 is always listed.
func Advisories(model, firmware string) []Advisory {
	s := series(model)
	var out []Advisory
	for _, a := range advisories {
		switch {
		case a.all:
			out = append(out, Advisory{ID: a.id, Summary: a.summary, Affected: true})
		case a.only != nil:
			v, ok := a.only[s]
			if !ok {
				continue
			}
			less, ok1 := versionLess(firmware, v)
			more, ok2 := versionLess(v, firmware)
			out = append(out, Advisory{ID: a.id, Summary: a.summary, Affected: !ok1 || !ok2 || (!less && !more)})
		default:
			fixed, ok := a.fixed[s]
			if !ok {
				continue
			}
			less, ok := versionLess(firmware, fixed)
			out = append(out, Advisory{ID: a.id, Summary: a.summary, FixedIn: fixed, Affected: less || !ok})
		}
	}
	return out
}

// String is the advisory as one line for a finding's notes.
func (a Advisory) String() string {
	s := a.ID + ": " + a.Summary
	switch {
	case a.Affected && a.FixedIn != "":
		s += " (affected: fixed in " + a.FixedIn + ")"
	case a.Affected:
		s += " (affected: no fixed version)"
	case a.FixedIn != "":
		s += " (not affected: fixed in " + a.FixedIn + ")"
	default:
		s += " (not affected)"
	}
	return s
}

// seriesA reports a model of the form <prefix>NNA (5150A, 5232A, ...).
func seriesA(m, prefix string) bool {
	return len(m) >= 5 && strings.HasPrefix(m, prefix) && isDigit(m[2]) && isDigit(m[3]) && m[4] == 'A'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

package tui

import (
	"charm.land/lipgloss/v2"

	"github.com/commission-tool/commission/internal/steps"
)

// styles holds every style the wizard draws with, in one place. With
// NoColor every style is colourless; emphasis stays bold or underlined.
type styles struct {
	Title, Heading, Subtle lipgloss.Style
	Muted, Key             lipgloss.Style
	OK, Warn, Bad, Info    lipgloss.Style
	Selected               lipgloss.Style
	Stop                   lipgloss.Style
	Box                    lipgloss.Style
	noColor                bool
}

func newStyles(noColor bool) styles {
	c := func(st lipgloss.Style, col string) lipgloss.Style {
		if noColor {
			return st
		}
		return st.Foreground(lipgloss.Color(col))
	}
	base := lipgloss.NewStyle()
	s := styles{
		Title:    c(base.Bold(true), "12"),
		Heading:  c(base.Bold(true).Underline(true), "14"),
		Subtle:   c(base, "7"),
		Muted:    c(base, "8"),
		Key:      c(base.Bold(true), "6"),
		OK:       c(base, "2"),
		Warn:     c(base, "3"),
		Bad:      c(base.Bold(true), "1"),
		Info:     c(base, "4"),
		Selected: base.Bold(true).Reverse(true),
		Stop:     c(base.Bold(true).Border(lipgloss.ThickBorder()).Padding(0, 1), "1"),
		Box:      base.Border(lipgloss.RoundedBorder()).Padding(0, 1),
		noColor:  noColor,
	}
	if !noColor {
		s.Stop = s.Stop.BorderForeground(lipgloss.Color("1"))
	}
	return s
}

// badge is an outcome's mark and word, styled.
func (s styles) badge(o steps.Outcome) string {
	switch o {
	case steps.Compliant:
		return s.OK.Render("✓ compliant")
	case steps.Fixed:
		return s.OK.Render("✓ fixed")
	case steps.Attested:
		return s.OK.Render("✓ attested")
	case steps.Deviation:
		return s.Warn.Render("! deviation")
	case steps.Staged:
		return s.Info.Render("… staged")
	case steps.Waived:
		return s.Muted.Render("~ waived")
	case steps.NotApplicable:
		return s.Muted.Render("- n/a")
	case steps.ManualPending:
		return s.Warn.Render("? manual")
	case steps.Failed:
		return s.Bad.Render("✗ failed")
	case steps.Error:
		return s.Bad.Render("✗ error")
	default:
		return s.Muted.Render("· pending")
	}
}

// outcomeOrder lists outcomes in the order the summary shows them.
var outcomeOrder = []steps.Outcome{
	steps.Compliant, steps.Fixed, steps.Attested, steps.Staged, steps.Deviation,
	steps.ManualPending, steps.Waived, steps.NotApplicable, steps.Failed, steps.Error, steps.Pending,
}

// groupTitle turns a step group into a heading.
func groupTitle(g string) string {
	switch g {
	case "accounts":
		return "Accounts and passwords"
	case "services":
		return "Services and ports"
	case "allowlist":
		return "Access allow list"
	case "tls":
		return "TLS and certificates"
	case "logging":
		return "Logging and monitoring"
	case "firmware":
		return "Firmware"
	case "":
		return "Other"
	}
	return g
}

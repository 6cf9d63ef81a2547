package siteplan

import (
	"strconv"
	"strings"
)

// lineIndex maps a key path of a TOML document to the line (from 1) it
// is written on, so that a problem found after decoding can name its
// line. It understands what a plan is written with: [table] and
// [[array]] headers, key = value lines with bare, "basic" and 'literal'
// (dotted) keys, and multi-line strings, whose lines are skipped. A key
// it cannot place gets the line of the nearest table it knows.
type lineIndex map[string]int

// pathKey joins the segments of a key path; array-table elements are
// segments "#0", "#1", ...
func pathKey(segs ...string) string { return strings.Join(segs, "\x1f") }

// line returns the line of path, or of its nearest known parent; 0 when
// none is known.
func (ix lineIndex) line(segs ...string) int {
	for n := len(segs); n > 0; n-- {
		if l, ok := ix[pathKey(segs[:n]...)]; ok {
			return l
		}
	}
	return 0
}

// indexLines scans a TOML document once (linear in its size).
func indexLines(doc string) lineIndex {
	ix := lineIndex{}
	var table []string         // current table path
	arrays := map[string]int{} // array-table path -> elements seen
	closing := ""              // non-empty inside a multi-line string: its delimiter
	for n, raw := range strings.Split(doc, "\n") {
		lineNo := n + 1
		line := strings.TrimRight(raw, "\r")
		if closing != "" {
			if strings.Contains(line, closing) {
				closing = ""
			}
			continue
		}
		s := strings.TrimLeft(line, " \t")
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			segs, rest, ok := keyPath(s[2:])
			if !ok || !strings.HasPrefix(rest, "]]") {
				continue
			}
			k := pathKey(segs...)
			i := arrays[k]
			arrays[k] = i + 1
			table = append(append([]string{}, segs...), "#"+strconv.Itoa(i))
			if _, seen := ix[k]; !seen {
				ix[k] = lineNo
			}
			ix[pathKey(table...)] = lineNo
		case s[0] == '[':
			segs, rest, ok := keyPath(s[1:])
			if !ok || !strings.HasPrefix(rest, "]") {
				continue
			}
			table = segs
			for i := 1; i <= len(segs); i++ { // implicit parents too
				if _, seen := ix[pathKey(segs[:i]...)]; !seen {
					ix[pathKey(segs[:i]...)] = lineNo
				}
			}
		default:
			segs, rest, ok := keyPath(s)
			if !ok || !strings.HasPrefix(rest, "=") {
				continue
			}
			full := append(append([]string{}, table...), segs...)
			for i := len(table) + 1; i <= len(full); i++ {
				if _, seen := ix[pathKey(full[:i]...)]; !seen {
					ix[pathKey(full[:i]...)] = lineNo
				}
			}
			closing = multilineOpen(strings.TrimLeft(rest[1:], " \t"))
		}
	}
	return ix
}

// multilineOpen returns the closing delimiter when value starts a
// multi-line string that does not end on the same line.
func multilineOpen(value string) string {
	for _, d := range []string{`"""`, `'''`} {
		if strings.HasPrefix(value, d) {
			if !strings.Contains(value[3:], d) {
				return d
			}
			return ""
		}
	}
	return ""
}

// keyPath reads a dotted key at the start of s and returns its segments
// and what follows it (spaces trimmed).
func keyPath(s string) (segs []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var seg string
		switch s[0] {
		case '"':
			end := 1
			var b strings.Builder
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' && end+1 < len(s) {
					end++
				}
				b.WriteByte(s[end])
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			seg, s = b.String(), s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			seg, s = s[1:1+end], s[end+2:]
		default:
			end := 0
			for end < len(s) && isBare(s[end]) {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			seg, s = s[:end], s[end:]
		}
		segs = append(segs, seg)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return segs, s, true
		}
		s = s[1:]
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

package siteplan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// inventoryColumns are the columns an inventory CSV may have.
var inventoryColumns = []string{"family", "address", "user", "name", "password_file", "password_env", "fingerprint", "ports"}

// LoadDevices reads the devices of an inventory file: a CSV file (its
// header names the columns: family,address,user and one of
// password_file, password_env; name, fingerprint and ports are
// optional) or a site plan's [[device]] list. A file is taken as CSV when
// its name ends in .csv or its first line starts with "family,".
func (s Schema) LoadDevices(path string) ([]Device, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	first, _, _ := bytes.Cut(bytes.TrimLeft(data, "\ufeff \t\r\n"), []byte("\n"))
	if strings.EqualFold(filepath.Ext(path), ".csv") || bytes.HasPrefix(first, []byte("family,")) {
		ds, err := s.ParseCSV(path, data)
		if err != nil {
			return nil, err
		}
		for i := range ds {
			ds[i].Credential = ds[i].Credential.relativeTo(filepath.Dir(path))
		}
		return ds, nil
	}
	p, err := s.Load(path)
	if err != nil {
		return nil, err
	}
	if len(p.Devices) == 0 {
		return nil, &Error{Problems: []Problem{{File: path, Msg: "the plan lists no [[device]]: add one per device, or give a CSV inventory"}}}
	}
	return p.Devices, nil
}

// ParseCSV reads an inventory CSV; name is used in messages. Every bad
// row is reported with its line.
func (s Schema) ParseCSV(name string, data []byte) ([]Device, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	var problems []Problem
	add := func(line int, format string, a ...any) {
		problems = append(problems, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Problems: []Problem{{File: name, Msg: "the inventory is empty: its first line is the header family,address,user,password_file"}}}
		}
		return nil, &Error{Problems: []Problem{{File: name, Line: csvLine(err), Msg: "not valid CSV: " + err.Error()}}}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case secretLike(h):
			add(1, "column %q looks like a secret: an inventory names where a password comes from (password_file or password_env), never the password", h)
		case !contains(inventoryColumns, h):
			add(1, "unknown column %q: use %s", h, strings.Join(inventoryColumns, ","))
		case hasKey(col, h):
			add(1, "column %q appears twice", h)
		default:
			col[h] = i
		}
	}
	for _, must := range []string{"family", "address", "user"} {
		if !hasKey(col, must) {
			add(1, "the header has no %s column: it starts family,address,user", must)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	var out []Device
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			add(csvLine(err), "not valid CSV: %v", err)
			break
		}
		line, _ := r.FieldPos(0)
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if len(rec) > len(header) {
			add(line, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		d := Device{Family: get("family"), Address: get("address"), User: get("user"), Name: get("name"),
			Fingerprint: get("fingerprint"), Line: line,
			Credential: Credential{File: get("password_file"), Env: get("password_env")}}
		if ports := get("ports"); ports != "" {
			pm, err := parsePorts(ports)
			if err != nil {
				add(line, "%v", err)
				continue
			}
			d.Ports = pm
		}
		if msg := s.checkDevice(d); msg != "" {
			add(line, "%s", msg)
			continue
		}
		out = append(out, d)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	if len(out) == 0 {
		return nil, &Error{Problems: []Problem{{File: name, Msg: "the inventory lists no device: add one line per device after the header"}}}
	}
	return out, nil
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// parsePorts reads "https=8443 snmp=1161" (separated by spaces or ;).
func parsePorts(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' }) {
		name, num, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(num)
		if !ok || name == "" || err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("ports %q: write SERVICE=PORT pairs separated by spaces, such as https=8443 snmp=1161", s)
		}
		out[name] = n
	}
	return out, nil
}

func csvLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return 0
}

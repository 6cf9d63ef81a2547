package kepware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const maxRequest = 1 << 20

// apiMsg is the Configuration API's message body.
type apiMsg struct {
	Code        int            `json:"code"`
	Message     string         `json:"message"`
	Property    string         `json:"property,omitempty"`
	Description string         `json:"description,omitempty"`
	ErrorLine   int            `json:"error_line,omitempty"`
	NotApplied  map[string]any `json:"not_applied,omitempty"`
	Href        string         `json:"href,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeMsg(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiMsg{Code: status, Message: msg})
}

// validation is a 400 "validation failed" body for one property.
func validation(prop, desc string, line int) apiMsg {
	return apiMsg{Code: http.StatusBadRequest, Property: prop, Description: desc, ErrorLine: line,
		Message: fmt.Sprintf("Validation failed on property %s in object definition at line %d: %s", prop, line, desc)}
}

func mask(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := map[string]any{}
		for k, x := range t {
			if strings.Contains(strings.ToUpper(k), "PASSWORD") {
				c[k] = "***"
			} else {
				c[k] = mask(x)
			}
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = mask(x)
		}
		return c
	}
	return v
}

func (d *Device) handle(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(raw) > maxRequest {
		writeMsg(w, http.StatusBadRequest, "Request body too large or unreadable.")
		return
	}
	var body any
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeMsg(w, http.StatusBadRequest, "Invalid JSON in the request body.")
			return
		}
	}
	path := strings.TrimSuffix(r.URL.EscapedPath(), "/")
	user, pw, hasAuth := r.BasicAuth()

	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests = append(d.requests, Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, User: user, Body: mask(body)})
	s := d.st
	now := d.cfg.Now().UTC()

	switch path {
	case "/config/v1/status":
		writeJSON(w, http.StatusOK, []any{map[string]any{"Name": "ConfigAPI REST Service", "Healthy": true}})
		return
	case "/config/v1/about":
		v := map[string]any{"product_name": "KEPServerEX", "product_id": "012", "product_version": "V6.17.240.0",
			"product_version_major": 6, "product_version_minor": 17, "product_version_build": 240, "product_version_patch": 0}
		if d.cfg.Edge {
			v = map[string]any{"product_name": "Kepware Edge", "product_id": "013", "product_version": "V1.10.1.0",
				"product_version_major": 1, "product_version_minor": 10, "product_version_build": 1, "product_version_patch": 0}
		}
		writeJSON(w, http.StatusOK, v)
		return
	}
	grp, err := s.authenticate(user, pw)
	if !hasAuth || err != nil {
		s.log(now, "Security", "Configuration API", fmt.Sprintf("Configuration API: login failed for user '%s'.", user))
		writeMsg(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if d.dropNext > 0 {
		d.dropNext--
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	if grp[pName] != "Administrators" {
		writeMsg(w, http.StatusForbidden, "The user does not have permission to perform this action.")
		return
	}
	seg := strings.Split(strings.TrimPrefix(path, "/config/v1/"), "/")
	for i := range seg {
		if u, err := url.PathUnescape(seg[i]); err == nil {
			seg[i] = u
		}
	}
	switch {
	case len(seg) == 1 && seg[0] == "project":
		d.project(w, r.Method, body, user, now)
	case len(seg) == 1 && seg[0] == "event_log" && r.Method == http.MethodGet:
		d.eventLog(w, r.URL.Query())
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "server_usergroups":
		d.collection(w, r.Method, seg[2:], body, user, now, &s.groups, "group")
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "server_users":
		d.collection(w, r.Method, seg[2:], body, user, now, &s.users, "user")
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "ua_endpoints" && d.cfg.Edge:
		d.endpoint(w, r.Method, seg[2:], body)
	case len(seg) >= 3 && seg[0] == "project" && seg[1] == "_iot_gateway":
		d.agent(w, r.Method, seg[2:], body, user, now)
	case len(seg) == 3 && seg[0] == "project" && seg[1] == "services" && r.Method == http.MethodPut:
		writeJSON(w, http.StatusAccepted, apiMsg{Code: http.StatusAccepted, Message: "Accepted", Href: "/config/v1/project/services/" + seg[2] + "/jobs/job1"})
	default:
		writeMsg(w, http.StatusNotFound, "Not found: the endpoint or object does not exist.")
	}
}

// checkProjectID applies optimistic concurrency to a project-tree PUT.
func (d *Device) checkProjectID(body map[string]any) (apiMsg, bool) {
	if f, ok := body[pForce].(bool); ok && f {
		return apiMsg{}, true
	}
	v, ok := body[pProjectID]
	if !ok {
		if d.cfg.StrictProjectID {
			return validation(pProjectID, "PROJECT_ID or FORCE_UPDATE is required.", 1), false
		}
		return apiMsg{}, true
	}
	n, _ := v.(json.Number)
	id, err := n.Int64()
	if err != nil || id != d.st.projectID {
		m := validation(pProjectID, "The project ID does not match the current project; the project was changed by another client.", 1)
		m.Message = "Project ID mismatch: " + m.Description
		return m, false
	}
	return apiMsg{}, true
}

// apply sets the known, writable properties of upd on o and returns those it ignored.
func apply(o map[string]any, upd map[string]any, writable func(string) bool) map[string]any {
	na := map[string]any{}
	for k, v := range upd {
		if k == pProjectID || k == pForce {
			continue
		}
		if _, known := o[k]; !known && k != pUserPass || !writable(k) {
			na[k] = v
			continue
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = int(i)
			}
		}
		o[k] = v
	}
	return na
}

func putReply(w http.ResponseWriter, na map[string]any) {
	if len(na) > 0 {
		writeJSON(w, http.StatusOK, apiMsg{Code: http.StatusOK, Message: "Not all properties were applied.", NotApplied: na})
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (d *Device) project(w http.ResponseWriter, method string, body any, user string, now time.Time) {
	s := d.st
	switch method {
	case http.MethodGet:
		o := clone(s.project)
		o[pProjectID] = s.projectID
		writeJSON(w, http.StatusOK, o)
	case http.MethodPut:
		upd, ok := body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if m, ok := d.checkProjectID(upd); !ok {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		na := apply(s.project, upd, func(k string) bool { return k != "servermain.PROJECT_TAGS_DEFINED" })
		s.bump()
		s.log(now, "Information", "Configuration API", fmt.Sprintf("Project properties changed by '%s'.", user))
		putReply(w, na)
	default:
		writeMsg(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

func (d *Device) eventLog(w http.ResponseWriter, q url.Values) {
	limit := 100
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = n
	}
	var start, end time.Time
	if v := q.Get("start"); v != "" {
		t, err := time.Parse("2006-01-02T15:04:05.000", v)
		if err != nil {
			writeMsg(w, http.StatusBadRequest, "Invalid start time: use YYYY-MM-DDTHH:mm:ss.sss.")
			return
		}
		start = t
	}
	if v := q.Get("end"); v != "" {
		t, err := time.Parse("2006-01-02T15:04:05.000", v)
		if err != nil {
			writeMsg(w, http.StatusBadRequest, "Invalid end time: use YYYY-MM-DDTHH:mm:ss.sss.")
			return
		}
		end = t
	}
	out := []any{}
	for i := len(d.st.events) - 1; i >= 0 && len(out) < limit; i-- { // newest first
		e := d.st.events[i]
		if (!start.IsZero() && e.at.Before(start)) || (!end.IsZero() && e.at.After(end)) {
			continue
		}
		if k := q.Get("event"); k != "" && k != e.kind {
			continue
		}
		out = append(out, map[string]any{"timestamp": e.at.Format("2006-01-02T15:04:05.000"), "event": e.kind, "source": e.source, "message": e.message})
	}
	writeJSON(w, http.StatusOK, out)
}

// collection serves server_usergroups and server_users.
func (d *Device) collection(w http.ResponseWriter, method string, rest []string, body any, user string, now time.Time, list *[]object, kind string) {
	s := d.st
	if len(rest) == 0 {
		switch method {
		case http.MethodGet:
			out := make([]any, 0, len(*list))
			for _, o := range *list {
				out = append(out, clone(o))
			}
			writeJSON(w, http.StatusOK, out)
		case http.MethodPost:
			d.create(w, body, user, now, list, kind)
		default:
			writeMsg(w, http.StatusMethodNotAllowed, "Method not allowed.")
		}
		return
	}
	if len(rest) != 1 {
		writeMsg(w, http.StatusNotFound, "Not found.")
		return
	}
	name := rest[0]
	i := find(*list, name)
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The %s '%s' was not found.", kind, name))
		return
	}
	o := (*list)[i]
	switch method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(o))
	case http.MethodDelete:
		if (kind == "group" && isBuiltinGroup(name)) || (kind == "user" && isBuiltinUser(name)) {
			writeMsg(w, http.StatusBadRequest, fmt.Sprintf("The built-in %s '%s' cannot be deleted.", kind, name))
			return
		}
		*list = append((*list)[:i], (*list)[i+1:]...)
		s.log(now, "Security", "User Manager", fmt.Sprintf("%s '%s' deleted by '%s'.", title(kind), name, user))
		w.WriteHeader(http.StatusOK)
	case http.MethodPut:
		upd, ok := body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if name == "Administrator" || name == "Administrators" {
			writeMsg(w, http.StatusBadRequest, fmt.Sprintf("The settings of the built-in %s '%s' cannot be changed.", kind, name))
			return
		}
		if v, ok := upd[pName]; ok && v != name {
			writeJSON(w, http.StatusBadRequest, validation(pName, "Users and groups cannot be renamed.", 1))
			return
		}
		if m, ok := d.checkUser(upd, kind, 1, false); !ok {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		if pw, ok := upd[pUserPass].(string); ok {
			s.passwords[name] = pw
			delete(upd, pUserPass)
			s.log(now, "Security", "User Manager", fmt.Sprintf("Password of user '%s' changed by '%s'.", name, user))
		}
		na := apply(o, upd, func(k string) bool { return k != pName })
		s.log(now, "Security", "User Manager", fmt.Sprintf("%s '%s' modified by '%s'.", title(kind), name, user))
		putReply(w, na)
	default:
		writeMsg(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

func title(k string) string { return strings.ToUpper(k[:1]) + k[1:] }

// checkUser validates a user object (password rules, group exists).
func (d *Device) checkUser(o map[string]any, kind string, line int, create bool) (apiMsg, bool) {
	if kind != "user" {
		return apiMsg{}, true
	}
	pw, has := o[pUserPass].(string)
	if create && !has {
		return validation(pUserPass, "A password is required.", line), false
	}
	if has {
		if err := checkPassword(pw); err != nil {
			return validation(pUserPass, "The password is invalid: "+err.Error()+".", line), false
		}
	}
	if g, ok := o[pUserGroup].(string); ok && find(d.st.groups, g) < 0 {
		return validation(pUserGroup, fmt.Sprintf("The group '%s' does not exist.", g), line), false
	} else if create && !ok {
		return validation(pUserGroup, "A group is required.", line), false
	}
	return apiMsg{}, true
}

// create posts one object or an array: 201 when all were created, 207
// with one entry per item when some failed, 400 for a single failure.
func (d *Device) create(w http.ResponseWriter, body any, user string, now time.Time, list *[]object, kind string) {
	var items []any
	single := false
	switch b := body.(type) {
	case map[string]any:
		items, single = []any{b}, true
	case []any:
		items = b
	default:
		writeMsg(w, http.StatusBadRequest, "The body must be a JSON object or array.")
		return
	}
	results := make([]apiMsg, len(items))
	failed := 0
	for i, it := range items {
		o, ok := it.(map[string]any)
		line := i + 1
		if !ok {
			results[i] = validation(pName, "The item is not an object.", line)
			failed++
			continue
		}
		name, _ := o[pName].(string)
		if msg := invalidName(name); msg != "" {
			results[i] = validation(pName, msg, line)
			failed++
			continue
		}
		if find(*list, name) >= 0 {
			results[i] = validation(pName, fmt.Sprintf("The name '%s' is already used.", name), line)
			failed++
			continue
		}
		if m, ok := d.checkUser(o, kind, line, true); !ok {
			results[i] = m
			failed++
			continue
		}
		var n object
		if kind == "group" {
			n = perms()
			n[pDesc], n[pGroupOn] = "", true
		} else {
			n = object{pDesc: "", pUserOn: true, pUserType: 0}
			d.st.passwords[name] = o[pUserPass].(string)
		}
		n[pName] = name
		delete(o, pUserPass)
		for k, v := range o {
			if num, ok := v.(json.Number); ok {
				if iv, err := num.Int64(); err == nil {
					v = int(iv)
				}
			}
			n[k] = v
		}
		*list = append(*list, n)
		d.st.log(now, "Security", "User Manager", fmt.Sprintf("%s '%s' added by '%s'.", title(kind), name, user))
		results[i] = apiMsg{Code: http.StatusCreated, Message: "Created"}
	}
	switch {
	case failed == 0:
		w.WriteHeader(http.StatusCreated)
	case single:
		writeJSON(w, http.StatusBadRequest, results[0])
	default:
		writeJSON(w, http.StatusMultiStatus, results)
	}
}

func (d *Device) agent(w http.ResponseWriter, method string, rest []string, body any, user string, now time.Time) {
	coll := rest[0]
	list, ok := d.st.agents[coll]
	if !ok {
		writeMsg(w, http.StatusNotFound, "Not found: the collection does not exist.")
		return
	}
	if len(rest) == 1 && method == http.MethodGet {
		out := make([]any, 0, len(list))
		for _, a := range list {
			out = append(out, clone(a))
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if len(rest) != 2 {
		writeMsg(w, http.StatusNotFound, "Not found.")
		return
	}
	i := find(list, rest[1])
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The agent '%s' was not found.", rest[1]))
		return
	}
	switch method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(list[i]))
	case http.MethodPut:
		upd, ok := body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if m, ok := d.checkProjectID(upd); !ok {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		na := apply(list[i], upd, func(k string) bool {
			return k != pName && k != "iot_gateway.AGENTTYPES_TYPE" && !strings.HasSuffix(k, "_PASSWORD")
		})
		for k := range na {
			if strings.HasSuffix(k, "_PASSWORD") { // write-only: accepted, never returned
				delete(na, k)
			}
		}
		d.st.bump()
		d.st.log(now, "Information", "IoT Gateway", fmt.Sprintf("Agent '%s' modified by '%s'.", rest[1], user))
		putReply(w, na)
	default:
		writeMsg(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

func (d *Device) endpoint(w http.ResponseWriter, method string, rest []string, body any) {
	eps := d.st.endpoints
	if len(rest) == 0 && method == http.MethodGet {
		out := make([]any, 0, len(eps))
		for _, e := range eps {
			out = append(out, clone(e))
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if len(rest) != 1 {
		writeMsg(w, http.StatusNotFound, "Not found.")
		return
	}
	i := find(eps, rest[0])
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The endpoint '%s' was not found.", rest[0]))
		return
	}
	switch method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(eps[i]))
	case http.MethodPut:
		upd, ok := body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		putReply(w, apply(eps[i], upd, func(k string) bool {
			return k != pName && k != "libadminsettings.UACONFIGMANAGER_ENDPOINT_URL"
		}))
	default:
		writeMsg(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

package kepware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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

// allow answers 405 with an Allow header unless method is one of methods.
func allow(w http.ResponseWriter, method string, methods ...string) bool {
	if slices.Contains(methods, method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeMsg(w, http.StatusMethodNotAllowed, fmt.Sprintf("The method %s is not allowed on this endpoint.", method))
	return false
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

// statusWriter remembers the status a handler wrote, for Request.Status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// req is one decoded request as the routes see it.
type req struct {
	method string
	query  url.Values
	body   any
	user   string
	now    time.Time
}

func (d *Device) handleRequest(hw http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(raw) > maxRequest {
		writeMsg(hw, http.StatusBadRequest, "Request body too large or unreadable.")
		return
	}
	var body any
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeMsg(hw, http.StatusBadRequest, "Invalid JSON in the request body.")
			return
		}
	}
	path := strings.TrimSuffix(r.URL.EscapedPath(), "/")
	user, pw, hasAuth := r.BasicAuth()

	d.mu.Lock()
	defer d.mu.Unlock()
	w := &statusWriter{ResponseWriter: hw}
	d.requests = append(d.requests, Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, User: user, Body: mask(body)})
	idx := len(d.requests) - 1
	defer func() { d.requests[idx].Status = w.status }()
	s := d.st
	rq := req{method: r.Method, query: r.URL.Query(), body: body, user: user, now: d.cfg.Now().UTC()}

	// Every endpoint needs credentials, /about and /status included.
	grp, err := s.authenticate(user, pw)
	if !hasAuth || err != nil {
		s.log(rq.now, "Security", "Configuration API", fmt.Sprintf("Configuration API: login failed for user '%s'.", user))
		w.Header().Set("WWW-Authenticate", `Basic realm="Kepware Configuration API"`)
		writeMsg(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if d.dropNext > 0 {
		d.dropNext--
		if hj, ok := hw.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	if st, ok := d.faults[path]; ok {
		delete(d.faults, path)
		writeMsg(w, st, "Injected fault.")
		return
	}
	if !strings.HasPrefix(path, "/config/v1/") {
		writeMsg(w, http.StatusNotFound, "Not found: the endpoint does not exist.")
		return
	}
	seg := strings.Split(strings.TrimPrefix(path, "/config/v1/"), "/")
	for i := range seg {
		if u, err := url.PathUnescape(seg[i]); err == nil {
			seg[i] = u
		}
	}
	switch {
	case len(seg) == 1 && seg[0] == "status":
		if allow(w, rq.method, http.MethodGet) {
			writeJSON(w, http.StatusOK, []any{map[string]any{"Name": "ConfigAPI REST Service", "Healthy": true}})
		}
		return
	case len(seg) == 1 && seg[0] == "about":
		if allow(w, rq.method, http.MethodGet) {
			writeJSON(w, http.StatusOK, d.about())
		}
		return
	}
	if grp[pName] != "Administrators" {
		writeMsg(w, http.StatusForbidden, "The user does not have permission to perform this action.")
		return
	}
	d.route(w, seg, rq)
}

func (d *Device) route(w http.ResponseWriter, seg []string, rq req) {
	s := d.st
	switch {
	case len(seg) == 1 && seg[0] == "project":
		d.project(w, rq)
	case len(seg) == 1 && seg[0] == "event_log":
		if allow(w, rq.method, http.MethodGet) {
			d.eventLog(w, rq.query)
		}
	case len(seg) == 1 && seg[0] == "log":
		if allow(w, rq.method, http.MethodGet) {
			d.transactionLog(w, rq.query)
		}
	case len(seg) == 1 && seg[0] == "audit_log":
		if allow(w, rq.method, http.MethodGet) {
			d.auditLog(w, rq.query)
		}
	case len(seg) == 1 && seg[0] == "admin":
		d.adminSettings(w, rq)
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "server_usergroups":
		d.collection(w, seg[2:], rq, &s.groups, groupSpec)
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "server_users":
		d.collection(w, seg[2:], rq, &s.users, userSpec)
	case len(seg) >= 2 && seg[0] == "admin" && seg[1] == "ua_endpoints" && d.cfg.Edge:
		d.collection(w, seg[2:], rq, &s.endpoints, endpointSpec)
	case len(seg) == 2 && seg[0] == "project" && seg[1] == "_iot_gateway":
		d.iotGateway(w, rq)
	case len(seg) >= 3 && seg[0] == "project" && seg[1] == "_iot_gateway":
		d.agents(w, seg[2:], rq)
	case len(seg) == 2 && seg[0] == "project" && seg[1] == "backups":
		if allow(w, rq.method, http.MethodGet) {
			d.listReply(w, rq.query, slices.Clone(s.backups))
		}
	case len(seg) == 3 && seg[0] == "project" && seg[1] == "services":
		d.service(w, seg[2], rq)
	case len(seg) == 5 && seg[0] == "project" && seg[1] == "services" && seg[3] == "jobs":
		d.job(w, seg[2], seg[4], rq)
	default:
		writeMsg(w, http.StatusNotFound, "Not found: the endpoint or object does not exist.")
	}
}

func (d *Device) about() map[string]any {
	v := map[string]any{"product_name": "KEPServerEX", "product_id": "012", "product_version": "V6.17.240.0",
		"product_version_major": 6, "product_version_minor": 17, "product_version_build": 240, "product_version_patch": 0}
	if d.cfg.Edge {
		v = map[string]any{"product_name": "Kepware Edge", "product_id": "013", "product_version": "V1.10.1.0",
			"product_version_major": 1, "product_version_minor": 10, "product_version_build": 1, "product_version_patch": 0}
	}
	if d.cfg.ProductID != "" {
		v["product_id"] = d.cfg.ProductID
	}
	return v
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
		if k == pName && v == o[pName] {
			continue // naming the object itself is not a change
		}
		if _, known := o[k]; !known && k != pUserPass || !writable(k) {
			na[k] = v
			continue
		}
		o[k] = plain(v)
	}
	return na
}

// plain turns a decoded json.Number into an int or float64.
func plain(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
	}
	return v
}

func putReply(w http.ResponseWriter, na map[string]any) {
	if len(na) > 0 {
		writeJSON(w, http.StatusOK, apiMsg{Code: http.StatusOK, Message: "Not all properties were applied.", NotApplied: na})
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (d *Device) project(w http.ResponseWriter, rq req) {
	s := d.st
	if !allow(w, rq.method, http.MethodGet, http.MethodPut) {
		return
	}
	if rq.method == http.MethodGet {
		o := clone(s.project)
		o[pProjectID] = s.projectID
		switch rq.query.Get("content") {
		case "":
		case "serialize":
			writeJSON(w, http.StatusOK, map[string]any{"project": d.serialize()})
			return
		case "type_definition":
			writeJSON(w, http.StatusOK, typeDef("project", []string{"channels", "aliases", "_iot_gateway", "_datalogger"}))
			return
		default:
			writeMsg(w, http.StatusBadRequest, "Unsupported content type: use serialize, type_definition or property_definition.")
			return
		}
		writeJSON(w, http.StatusOK, o)
		return
	}
	upd, ok := rq.body.(map[string]any)
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
	s.log(rq.now, "Information", "Configuration API", fmt.Sprintf("Project properties changed by '%s'.", rq.user))
	s.audit(rq.now, "Project Edit", rq.user, "Project properties modified.")
	putReply(w, na)
}

// serialize is the project as ?content=serialize exports it.
func (d *Device) serialize() map[string]any {
	s := d.st
	p := clone(s.project)
	p[pProjectID] = s.projectID
	gw := map[string]any{}
	for _, coll := range agentCollections {
		var list []any
		for _, a := range s.agents[coll] {
			c := clone(a)
			c["iot_items"] = anyList(s.items[itemKey(coll, a[pName].(string))])
			list = append(list, c)
		}
		gw[coll] = list
	}
	p["_iot_gateway"] = []any{gw}
	return p
}

func anyList(os []object) []any {
	out := make([]any, 0, len(os))
	for _, o := range os {
		out = append(out, clone(o))
	}
	return out
}

// typeDef is a ?content=type_definition reply (kepware.md §1.7).
func typeDef(name string, children []string) map[string]any {
	return map[string]any{"name": name, "collection": name, "namespace": "servermain",
		"can_create": false, "can_delete": false, "can_modify": true, "child_collections": children}
}

// eventTime parses an event_log start or end. PTC's Python SDK sends
// datetime.isoformat(): no fraction when the microseconds are zero, six
// digits otherwise, and an offset for an aware time; PTC's documentation
// shows milliseconds. All of these are accepted (CONFORMANCE.md).
func eventTime(v string) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil { // a fraction of any length is accepted too
		return t.UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func (d *Device) eventLog(w http.ResponseWriter, q url.Values) {
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeMsg(w, http.StatusBadRequest, "Invalid limit: use a positive number.")
			return
		}
		limit = n
	}
	var start, end time.Time
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"start", &start}, {"end", &end}} {
		if v := q.Get(p.key); v != "" {
			t, ok := eventTime(v)
			if !ok {
				writeMsg(w, http.StatusBadRequest, fmt.Sprintf("Invalid %s time %q: use YYYY-MM-DDTHH:mm:ss, optionally with a fraction of a second.", p.key, v))
				return
			}
			*p.t = t
		}
	}
	kind := q.Get("event")
	var out []object
	for i := len(d.st.events) - 1; i >= 0 && len(out) < limit; i-- { // newest first
		e := d.st.events[i]
		if (!start.IsZero() && e.at.Before(start)) || (!end.IsZero() && e.at.After(end)) {
			continue
		}
		if kind != "" && !strings.EqualFold(kind, e.kind) {
			continue
		}
		out = append(out, object{"timestamp": e.at.Format("2006-01-02T15:04:05.000"), "event": e.kind, "source": e.source, "message": e.message})
	}
	d.pagedReply(w, q, out)
}

func (d *Device) transactionLog(w http.ResponseWriter, q url.Values) {
	var out []object
	for i := len(d.st.trail) - 1; i >= 0; i-- {
		a := d.st.trail[i]
		out = append(out, object{"timestamp": a.at.Format("2006-01-02T15:04:05.000"), "user": a.user, "action": a.action, "details": a.details})
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < len(out) {
		out = out[:n]
	}
	d.pagedReply(w, q, out)
}

// auditLog serves /audit_log with filter[<field>][<modifier>]=value.
func (d *Device) auditLog(w http.ResponseWriter, q url.Values) {
	type cond struct{ field, mod, val string }
	var conds []cond
	for k, vs := range q {
		if !strings.HasPrefix(k, "filter[") {
			continue
		}
		f, m, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(k, "filter["), "]"), "][")
		if !ok || !slices.Contains([]string{"id", "timestamp", "action", "user", "interface", "details", "data"}, f) {
			writeMsg(w, http.StatusBadRequest, fmt.Sprintf("Invalid filter %q.", k))
			return
		}
		conds = append(conds, cond{f, m, vs[0]})
	}
	var out []object
	for i := len(d.st.trail) - 1; i >= 0; i-- {
		a := d.st.trail[i]
		o := object{"id": a.id, "timestamp": a.at.Format("2006-01-02T15:04:05.000"), "action": a.action, "user": a.user,
			"interface": "Configuration API", "details": a.details, "data": ""}
		keep := true
		for _, c := range conds {
			v := fmt.Sprint(o[c.field])
			switch c.mod {
			case "eq":
				keep = keep && v == c.val
			case "neq":
				keep = keep && v != c.val
			case "contains":
				keep = keep && strings.Contains(v, c.val)
			case "ncontains":
				keep = keep && !strings.Contains(v, c.val)
			case "starts_with":
				keep = keep && strings.HasPrefix(v, c.val)
			case "nstarts_with":
				keep = keep && !strings.HasPrefix(v, c.val)
			case "ends_with":
				keep = keep && strings.HasSuffix(v, c.val)
			case "nends_with":
				keep = keep && !strings.HasSuffix(v, c.val)
			case "gt", "lt", "gte", "lte":
				keep = keep && compare(v, c.mod, c.val)
			default:
				writeMsg(w, http.StatusBadRequest, fmt.Sprintf("Invalid filter modifier %q.", c.mod))
				return
			}
		}
		if keep {
			out = append(out, o)
		}
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < len(out) {
		out = out[:n]
	}
	d.pagedReply(w, q, out)
}

func compare(v, mod, ref string) bool {
	c := strings.Compare(v, ref)
	if a, err1 := strconv.ParseFloat(v, 64); err1 == nil {
		if b, err2 := strconv.ParseFloat(ref, 64); err2 == nil {
			c = 0
			if a < b {
				c = -1
			} else if a > b {
				c = 1
			}
		}
	}
	switch mod {
	case "gt":
		return c > 0
	case "lt":
		return c < 0
	case "gte":
		return c >= 0
	}
	return c <= 0
}

// listReply answers a collection GET: ?filter= keeps the objects whose
// name contains the text (case-insensitive), then sort and pages apply.
func (d *Device) listReply(w http.ResponseWriter, q url.Values, list []object) {
	out := make([]object, 0, len(list))
	f := strings.ToLower(q.Get("filter"))
	for _, o := range list {
		if n, _ := o[pName].(string); f == "" || strings.Contains(strings.ToLower(n), f) {
			out = append(out, clone(o))
		}
	}
	d.pagedReply(w, q, out)
}

// pagedReply sorts by sortProperty (default key, as stored when none is
// given) and, when pageSize or pageNumber is given, answers one page with
// the pagination element last (CONFORMANCE.md).
func (d *Device) pagedReply(w http.ResponseWriter, q url.Values, list []object) {
	if p := q.Get("sortProperty"); p != "" {
		slices.SortStableFunc(list, func(a, b object) int { return strings.Compare(fmt.Sprint(a[p]), fmt.Sprint(b[p])) })
		if o := strings.ToLower(q.Get("sortOrder")); o == "descending" || o == "desc" {
			slices.Reverse(list)
		}
	}
	out := make([]any, 0, len(list)+1)
	ps, pn := q.Get("pageSize"), q.Get("pageNumber")
	if ps == "" && pn == "" {
		for _, o := range list {
			out = append(out, o)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	size, number := defaultPageSize, 1
	for _, p := range []struct {
		v string
		n *int
	}{{ps, &size}, {pn, &number}} {
		if p.v == "" {
			continue
		}
		n, err := strconv.Atoi(p.v)
		if err != nil || n <= 0 {
			writeMsg(w, http.StatusBadRequest, "Invalid pageSize or pageNumber: use a positive number.")
			return
		}
		*p.n = n
	}
	pages := (len(list) + size - 1) / size
	from := min((number-1)*size, len(list))
	to := min(from+size, len(list))
	for _, o := range list[from:to] {
		out = append(out, o)
	}
	out = append(out, map[string]any{paginationKey: map[string]any{
		"currentPage": number, "pageSize": size, "totalPages": pages, "totalItems": len(list)}})
	writeJSON(w, http.StatusOK, out)
}

// Pagination (inferred, CONFORMANCE.md): the element's key and fields.
const (
	paginationKey   = "pageInfo"
	defaultPageSize = 100
)

func (d *Device) adminSettings(w http.ResponseWriter, rq req) {
	if !allow(w, rq.method, http.MethodGet, http.MethodPut) {
		return
	}
	if rq.method == http.MethodGet {
		writeJSON(w, http.StatusOK, clone(d.st.admin))
		return
	}
	upd, ok := rq.body.(map[string]any)
	if !ok {
		writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
		return
	}
	if v, ok := upd["libadminsettings.EVENT_LOG_CONNECTION_PORT"]; ok {
		if n, _ := plain(v).(int); n < 1024 || n > 65535 {
			writeJSON(w, http.StatusBadRequest, validation("libadminsettings.EVENT_LOG_CONNECTION_PORT", "The port must be between 1024 and 65535.", 1))
			return
		}
	}
	na := apply(d.st.admin, upd, func(string) bool { return true })
	d.st.audit(rq.now, "Admin Settings Edit", rq.user, "Administrative settings modified.")
	putReply(w, na)
}

// service runs a project service: 202 with the job's href.
func (d *Device) service(w http.ResponseWriter, name string, rq req) {
	if !slices.Contains(services, name) {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The service '%s' does not exist.", name))
		return
	}
	if !allow(w, rq.method, http.MethodPut) {
		return
	}
	ttl := 15
	if b, ok := rq.body.(map[string]any); ok {
		if v, ok := plain(b["servermain.JOB_TIME_TO_LIVE_SECONDS"]).(int); ok {
			if v < 1 || v > 3600 {
				writeJSON(w, http.StatusBadRequest, validation("servermain.JOB_TIME_TO_LIVE_SECONDS", "The time to live must be 1 to 3600 seconds.", 1))
				return
			}
			ttl = v
		}
	}
	s := d.st
	s.jobSeq++
	id := fmt.Sprintf("job%d", s.jobSeq)
	s.jobs[name+"/"+id] = object{pName: id, "servermain.JOB_COMPLETE": true, "servermain.JOB_STATUS": 0,
		"servermain.JOB_STATUS_MSG": "", "servermain.JOB_TIME_TO_LIVE_SECONDS": ttl}
	if name == "CreateBackup" {
		s.backups = append(s.backups, object{pName: fmt.Sprintf("backup%d", s.jobSeq), "servermain.BACKUP_TIME": rq.now.Format("2006-01-02T15:04:05.000")})
	}
	s.log(rq.now, "Information", "Configuration API", fmt.Sprintf("Service '%s' started by '%s'.", name, rq.user))
	s.audit(rq.now, "Service", rq.user, name)
	writeJSON(w, http.StatusAccepted, apiMsg{Code: http.StatusAccepted, Message: "Accepted", Href: "/config/v1/project/services/" + name + "/jobs/" + id})
}

// services are the project services the simulator accepts; each
// completes at once (the simulator keeps no project files).
var services = []string{"ReinitializeRuntime", "ProjectSave", "ProjectLoad", "JsonProjectLoad", "CreateBackup", "ForceLicenseCheck", "TagGeneration"}

func (d *Device) job(w http.ResponseWriter, name, id string, rq req) {
	j, ok := d.st.jobs[name+"/"+id]
	if !ok {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The job '%s' was not found.", id))
		return
	}
	if allow(w, rq.method, http.MethodGet) {
		writeJSON(w, http.StatusOK, clone(j))
	}
}

// spec describes one collection of named objects.
type spec struct {
	kind string
	// create validates a new object and returns it with its defaults; the
	// message is a validation failure.
	create func(d *Device, o object, line int) (object, *apiMsg)
	// put validates a change; nil message: accepted.
	put func(d *Device, name string, upd object) *apiMsg
	// writable reports whether a PUT may change the property.
	writable func(string) bool
	// builtin refuses DELETE.
	builtin  func(string) bool
	canWrite bool // POST, PUT and DELETE allowed
}

var (
	groupSpec = spec{kind: "group", canWrite: true, builtin: isBuiltinGroup,
		create: func(d *Device, o object, _ int) (object, *apiMsg) {
			n := perms()
			n[pDesc], n[pGroupOn] = "", true
			return merge(n, o), nil
		},
		put:      func(d *Device, name string, _ object) *apiMsg { return builtinLocked("group", name) },
		writable: func(k string) bool { return k != pName }}
	userSpec = spec{kind: "user", canWrite: true, builtin: isBuiltinUser,
		create: func(d *Device, o object, line int) (object, *apiMsg) {
			if m, ok := d.checkUser(o, line, true); !ok {
				return nil, &m
			}
			return merge(object{pDesc: "", pUserOn: true, pUserType: 0}, o), nil
		},
		put: func(d *Device, name string, upd object) *apiMsg {
			if m := builtinLocked("user", name); m != nil {
				return m
			}
			if m, ok := d.checkUser(upd, 1, false); !ok {
				return &m
			}
			return nil
		},
		writable: func(k string) bool { return k != pName }}
	endpointSpec = spec{kind: "endpoint", canWrite: true, builtin: func(string) bool { return false },
		create: func(d *Device, o object, line int) (object, *apiMsg) {
			port, ok := plain(o[pEPPort]).(int)
			if !ok || port < 1 || port > 65535 {
				m := validation(pEPPort, "A port between 1 and 65535 is required.", line)
				return nil, &m
			}
			n := object{pEPOn: true, pEPAdapter: "Default", pEPURL: fmt.Sprintf("opc.tcp://127.0.0.1:%d", port),
				pEPNone: false, pEPSha256: 2, pEP128: 0, pEP256: 0}
			return merge(n, o), nil
		},
		put:      func(*Device, string, object) *apiMsg { return nil },
		writable: func(k string) bool { return k != pName && k != pEPURL }}
)

func builtinLocked(kind, name string) *apiMsg {
	if name == "Administrator" || name == "Administrators" {
		m := apiMsg{Code: http.StatusBadRequest, Message: fmt.Sprintf("The settings of the built-in %s '%s' cannot be changed.", kind, name)}
		return &m
	}
	return nil
}

// merge copies o's properties (write-only password excluded) onto n.
func merge(n, o object) object {
	for k, v := range o {
		if k == pUserPass || k == "iot_items" {
			continue
		}
		n[k] = plain(v)
	}
	return n
}

// collection serves a collection of named objects and its members.
func (d *Device) collection(w http.ResponseWriter, rest []string, rq req, list *[]object, sp spec) {
	s := d.st
	if len(rest) == 0 {
		if !allow(w, rq.method, http.MethodGet, http.MethodPost) {
			return
		}
		if rq.method == http.MethodGet {
			d.listReply(w, rq.query, *list)
			return
		}
		d.create(w, rq, func(o object, line int) *apiMsg {
			name, _ := o[pName].(string)
			if msg := invalidName(name); msg != "" {
				m := validation(pName, msg, line)
				return &m
			}
			if find(*list, name) >= 0 {
				m := validation(pName, fmt.Sprintf("The name '%s' is already used.", name), line)
				return &m
			}
			n, m := sp.create(d, o, line)
			if m != nil {
				return m
			}
			if pw, ok := o[pUserPass].(string); ok && sp.kind == "user" {
				s.passwords[name] = pw
			}
			*list = append(*list, n)
			s.log(rq.now, "Security", "User Manager", fmt.Sprintf("%s '%s' added by '%s'.", title(sp.kind), name, rq.user))
			s.audit(rq.now, title(sp.kind)+" Add", rq.user, name)
			return nil
		})
		return
	}
	if len(rest) != 1 {
		writeMsg(w, http.StatusNotFound, "Not found: the endpoint or object does not exist.")
		return
	}
	name := rest[0]
	i := find(*list, name)
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The %s '%s' was not found.", sp.kind, name))
		return
	}
	if !allow(w, rq.method, http.MethodGet, http.MethodPut, http.MethodDelete) {
		return
	}
	o := (*list)[i]
	switch rq.method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(o))
	case http.MethodDelete:
		if sp.builtin(name) {
			writeMsg(w, http.StatusBadRequest, fmt.Sprintf("The built-in %s '%s' cannot be deleted.", sp.kind, name))
			return
		}
		*list = slices.Delete(*list, i, i+1)
		if sp.kind == "group" { // its users go with it (inferred)
			s.users = slices.DeleteFunc(s.users, func(u object) bool { return u[pUserGroup] == name })
		}
		s.log(rq.now, "Security", "User Manager", fmt.Sprintf("%s '%s' deleted by '%s'.", title(sp.kind), name, rq.user))
		s.audit(rq.now, title(sp.kind)+" Delete", rq.user, name)
		w.WriteHeader(http.StatusOK)
	case http.MethodPut:
		upd, ok := rq.body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if v, ok := upd[pName]; ok && v != name {
			writeJSON(w, http.StatusBadRequest, validation(pName, "Objects cannot be renamed.", 1))
			return
		}
		if m := sp.put(d, name, upd); m != nil {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		if pw, ok := upd[pUserPass].(string); ok && sp.kind == "user" {
			s.passwords[name] = pw
			delete(upd, pUserPass)
			s.log(rq.now, "Security", "User Manager", fmt.Sprintf("Password of user '%s' changed by '%s'.", name, rq.user))
		}
		na := apply(o, upd, sp.writable)
		s.log(rq.now, "Security", "User Manager", fmt.Sprintf("%s '%s' modified by '%s'.", title(sp.kind), name, rq.user))
		s.audit(rq.now, title(sp.kind)+" Edit", rq.user, name)
		putReply(w, na)
	}
}

func title(k string) string { return strings.ToUpper(k[:1]) + k[1:] }

// checkUser validates a user object (password rules, group exists).
func (d *Device) checkUser(o map[string]any, line int, create bool) (apiMsg, bool) {
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
// with one entry per item when some failed, 400 when none was created
// (PTC's tests expect an error, not a 207, when every item fails).
// add validates and stores one item; nil is success.
func (d *Device) create(w http.ResponseWriter, rq req, add func(o object, line int) *apiMsg) {
	var items []any
	single := false
	switch b := rq.body.(type) {
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
		line := i + 1
		o, ok := it.(map[string]any)
		if !ok {
			results[i] = validation(pName, "The item is not an object.", line)
			failed++
			continue
		}
		if m := add(o, line); m != nil {
			results[i] = *m
			failed++
			continue
		}
		results[i] = apiMsg{Code: http.StatusCreated, Message: "Created"}
	}
	switch {
	case failed == 0:
		w.WriteHeader(http.StatusCreated)
	case single:
		writeJSON(w, http.StatusBadRequest, results[0])
	case failed == len(items): // nothing created: an error, not a multi-status
		writeJSON(w, http.StatusBadRequest, results)
	default:
		writeJSON(w, http.StatusMultiStatus, results)
	}
}

func (d *Device) iotGateway(w http.ResponseWriter, rq req) {
	if !allow(w, rq.method, http.MethodGet) {
		return
	}
	switch rq.query.Get("content") {
	case "type_definition":
		writeJSON(w, http.StatusOK, typeDef("_iot_gateway", slices.Clone(agentCollections)))
	case "":
		writeJSON(w, http.StatusOK, object{pName: "_IoT_Gateway", pDesc: ""})
	default:
		writeMsg(w, http.StatusBadRequest, "Unsupported content type: use type_definition or property_definition.")
	}
}

// agents serves /project/_iot_gateway/<collection>[/<agent>[/iot_items[/<item>]]].
func (d *Device) agents(w http.ResponseWriter, rest []string, rq req) {
	s := d.st
	coll := rest[0]
	typ, ok := agentTypes[coll]
	if !ok {
		writeMsg(w, http.StatusNotFound, "Not found: the collection does not exist.")
		return
	}
	list := s.agents[coll]
	if len(rest) == 1 {
		if !allow(w, rq.method, http.MethodGet, http.MethodPost) {
			return
		}
		if rq.method == http.MethodGet {
			d.listReply(w, rq.query, list)
			return
		}
		d.create(w, rq, func(o object, line int) *apiMsg {
			name, _ := o[pName].(string)
			if msg := invalidName(name); msg != "" {
				m := validation(pName, msg, line)
				return &m
			}
			if find(s.agents[coll], name) >= 0 {
				m := validation(pName, fmt.Sprintf("The name '%s' is already used.", name), line)
				return &m
			}
			if t, ok := o[pAgentType]; ok && t != typ {
				m := validation(pAgentType, fmt.Sprintf("The agent type must be '%s' in this collection.", typ), line)
				return &m
			}
			n := merge(agentDefaults(typ), o)
			n[pAgentType] = typ
			s.agents[coll] = append(s.agents[coll], n)
			if its, ok := o["iot_items"].([]any); ok {
				for _, it := range its {
					if io, ok := it.(map[string]any); ok {
						_ = s.addItem(coll, name, io, 1)
					}
				}
			}
			s.bump()
			s.log(rq.now, "Information", "IoT Gateway", fmt.Sprintf("Agent '%s' added by '%s'.", name, rq.user))
			s.audit(rq.now, "Project Add", rq.user, "IoT Gateway agent "+name)
			return nil
		})
		return
	}
	name := rest[1]
	i := find(list, name)
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The agent '%s' was not found.", name))
		return
	}
	if len(rest) >= 3 {
		if rest[2] != "iot_items" || len(rest) > 4 {
			writeMsg(w, http.StatusNotFound, "Not found: the endpoint or object does not exist.")
			return
		}
		d.items(w, coll, name, rest[3:], rq)
		return
	}
	if !allow(w, rq.method, http.MethodGet, http.MethodPut, http.MethodDelete) {
		return
	}
	switch rq.method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(list[i]))
	case http.MethodDelete:
		s.agents[coll] = slices.Delete(list, i, i+1)
		delete(s.items, itemKey(coll, name))
		s.bump()
		s.log(rq.now, "Information", "IoT Gateway", fmt.Sprintf("Agent '%s' deleted by '%s'.", name, rq.user))
		s.audit(rq.now, "Project Delete", rq.user, "IoT Gateway agent "+name)
		w.WriteHeader(http.StatusOK)
	case http.MethodPut:
		upd, ok := rq.body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if m, ok := d.checkProjectID(upd); !ok {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		if v, ok := upd[pAgentType]; ok && v == typ {
			delete(upd, pAgentType) // naming its own type is not a change
		}
		na := apply(list[i], upd, func(k string) bool {
			return k != pName && k != pAgentType && !strings.HasSuffix(k, "_PASSWORD")
		})
		for k, v := range upd {
			if strings.HasSuffix(k, "_PASSWORD") { // write-only: accepted, never returned
				delete(na, k)
				s.secrets[itemKey(coll, name)+"/"+k] = fmt.Sprint(v)
			}
		}
		s.bump()
		s.log(rq.now, "Information", "IoT Gateway", fmt.Sprintf("Agent '%s' modified by '%s'.", name, rq.user))
		s.audit(rq.now, "Project Edit", rq.user, "IoT Gateway agent "+name)
		putReply(w, na)
	}
}

func (d *Device) items(w http.ResponseWriter, coll, agent string, rest []string, rq req) {
	s := d.st
	key := itemKey(coll, agent)
	if len(rest) == 0 {
		if !allow(w, rq.method, http.MethodGet, http.MethodPost) {
			return
		}
		if rq.method == http.MethodGet {
			d.listReply(w, rq.query, s.items[key])
			return
		}
		d.create(w, rq, func(o object, line int) *apiMsg {
			if m := s.addItem(coll, agent, o, line); m != nil {
				return m
			}
			s.bump()
			s.audit(rq.now, "Project Add", rq.user, "IoT item")
			return nil
		})
		return
	}
	list := s.items[key]
	i := find(list, rest[0])
	if i < 0 {
		writeMsg(w, http.StatusNotFound, fmt.Sprintf("The IoT item '%s' was not found.", rest[0]))
		return
	}
	if !allow(w, rq.method, http.MethodGet, http.MethodPut, http.MethodDelete) {
		return
	}
	switch rq.method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, clone(list[i]))
	case http.MethodDelete:
		s.items[key] = slices.Delete(list, i, i+1)
		s.bump()
		w.WriteHeader(http.StatusOK)
	case http.MethodPut:
		upd, ok := rq.body.(map[string]any)
		if !ok {
			writeMsg(w, http.StatusBadRequest, "The body must be a JSON object.")
			return
		}
		if m, ok := d.checkProjectID(upd); !ok {
			writeJSON(w, http.StatusBadRequest, m)
			return
		}
		na := apply(list[i], upd, func(k string) bool { return k != pName && k != pItemTag })
		s.bump()
		putReply(w, na)
	}
}

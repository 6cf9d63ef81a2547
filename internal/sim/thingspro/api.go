package thingspro

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const apiPrefix = "/api/v1"

// maxBody bounds a request body (certificate uploads included).
const maxBody = 256 << 10

// ctx is one API request being served, under d.mu.
type reqCtx struct {
	d    *Device
	r    *http.Request
	body []byte
	user *user
}

type handler func(c *reqCtx) (int, any)

// apiError is the common error envelope.
func apiError(code int, msg string) (int, any) {
	return code, map[string]any{"error": map[string]any{"code": code, "message": msg}}
}

// recorder keeps the reply for Observe.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(s int)           { r.status = s; r.ResponseWriter.WriteHeader(s) }
func (r *recorder) Write(p []byte) (int, error) { r.buf.Write(p); return r.ResponseWriter.Write(p) }

func (d *Device) api() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, auth bool, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+apiPrefix+path, func(w http.ResponseWriter, r *http.Request) {
			d.serve(w, r, auth, h)
		})
	}
	route("POST /auth", false, (*reqCtx).login)
	route("GET /auth", true, func(*reqCtx) (int, any) { return 200, map[string]any{"data": "ok"} })
	route("GET /users/me", true, func(c *reqCtx) (int, any) { return 200, map[string]any{"data": c.userJSON(c.user)} })
	route("PUT /users/me/password", true, (*reqCtx).changeOwnPassword)
	route("GET /users", true, (*reqCtx).listUsers)
	route("POST /users", true, (*reqCtx).createUser)
	route("GET /users/{id}", true, (*reqCtx).getUser)
	route("PUT /users/{id}", true, (*reqCtx).updateUser)
	route("DELETE /users/{id}", true, (*reqCtx).deleteUser)
	route("PUT /users/{id}/password", true, (*reqCtx).setPassword)
	route("GET /roles", true, (*reqCtx).listRoles)
	route("POST /roles", true, (*reqCtx).createRole)
	route("GET /system/services", true, (*reqCtx).listServices)
	route("PUT /system/services/{id}/{action}", true, (*reqCtx).toggleService)
	route("GET /system/httpserver", true, (*reqCtx).getHTTPServer)
	route("PUT /system/httpserver", true, (*reqCtx).putHTTPServer)
	route("GET /system/serialconsole", true, func(c *reqCtx) (int, any) {
		return 200, data(map[string]any{"enable": c.d.st.services["localconsole"]})
	})
	route("PUT /system/serialconsole", true, c1(func(c *reqCtx, on bool) { c.d.st.services["localconsole"] = on }))
	route("GET /system/sshserver", true, func(c *reqCtx) (int, any) {
		return 200, data(map[string]any{"enable": c.d.st.services["sshserver"], "port": 22})
	})
	route("PUT /system/sshserver", true, func(c *reqCtx) (int, any) {
		code, v := c1(func(c *reqCtx, on bool) { c.d.st.services["sshserver"] = on })(c)
		if code == 200 {
			v = data(map[string]any{"enable": c.d.st.services["sshserver"], "port": 22})
		}
		return code, v
	})
	route("GET /system/provision", true, (*reqCtx).getProvision)
	route("PUT /system/provision", true, (*reqCtx).putProvision)
	route("GET /system/discovery", true, func(c *reqCtx) (int, any) { return 200, data(map[string]any{"enable": c.d.st.discovery}) })
	route("PUT /system/discovery", true, c1(func(c *reqCtx, on bool) { c.d.st.discovery = on }))
	route("GET /device/firewall/user/snat", true, func(c *reqCtx) (int, any) { return 200, data(map[string]any{"enable": c.d.st.nat}) })
	route("PUT /device/firewall/user/snat", true, c1(func(c *reqCtx, on bool) { c.d.st.nat = on }))
	route("GET /system/log", true, (*reqCtx).getSysLog)
	route("GET /events/configuration", true, (*reqCtx).getEventLog)
	route("GET /device/general", true, (*reqCtx).general)
	route("GET /device/time", true, (*reqCtx).getTime)
	route("PATCH /device/time", true, (*reqCtx).patchTime)
	for _, kind := range []string{"ethernets", "cellulars", "dhcpservers"} {
		route("GET /device/"+kind, true, func(c *reqCtx) (int, any) { return c.listIfaces(kind, true) })
		route("PATCH /device/"+kind+"/{id}", true, func(c *reqCtx) (int, any) { return c.patchIface(kind) })
	}
	route("GET /device/wifi", true, func(c *reqCtx) (int, any) { return c.listIfaces("wifi", false) })
	route("PATCH /device/wifi/{id}", true, func(c *reqCtx) (int, any) { return c.patchIface("wifi") })
	route("GET /device/firewall/inbounds", true, (*reqCtx).listRules)
	route("DELETE /device/firewall/inbounds", true, (*reqCtx).deleteRules)
	route("GET /azure-device", true, (*reqCtx).azureDevice)
	route("GET /azure-iotedge", true, func(*reqCtx) (int, any) { return apiError(404, "app azure-iotedge is not installed") })
	route("GET /aws", true, func(*reqCtx) (int, any) { return apiError(404, "app aws is not installed") })
	route("GET /mqtt", true, (*reqCtx).listMQTT)
	route("GET /sparkplug/brokers", true, func(*reqCtx) (int, any) { return 200, map[string]any{"data": []any{}} })
	return d.jsonFallback(mux)
}

// jsonFallback answers a path no route serves, or a method a path does
// not allow, with the API's JSON error shape instead of Go's plain-text
// 404 and 405.
func (d *Device) jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" {
				allow = append(allow, m)
			}
		}
		h := func(*reqCtx) (int, any) { return apiError(http.StatusNotFound, "not found") }
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			h = func(*reqCtx) (int, any) { return apiError(http.StatusMethodNotAllowed, "method not allowed") }
		}
		d.serve(w, r, false, h)
	})
}

func data(v any) map[string]any { return map[string]any{"data": v} }

// serve runs one API call: body limit, token, forced password change,
// faults, then the handler under the device lock.
func (d *Device) serve(w http.ResponseWriter, r *http.Request, auth bool, h handler) {
	rec := &recorder{ResponseWriter: w, status: 200}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	var code int
	var out any
	d.mu.Lock()
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	c := &reqCtx{d: d, r: r, body: body}
	switch {
	case err != nil:
		code, out = apiError(400, "cannot read the request body")
	case len(body) > maxBody:
		code, out = apiError(413, "request body too large")
	case d.takeFaultLocked(r.Method, path):
		code, out = apiError(500, "internal server error")
	default:
		if auth {
			tok := r.Header.Get("mx-api-token")
			if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				tok = b
			}
			id, ok := d.tokens[tok]
			c.user = d.st.userByID(id)
			if !ok || c.user == nil || !c.user.active {
				code, out = apiError(401, "authentication required")
				break
			}
			if c.user.mustChange && path != "/users/me/password" && path != "/users/me" && path != "/auth" {
				code, out = apiError(403, "the password must be changed before the API can be used")
				break
			}
		}
		code, out = h(c)
	}
	// every call that may change the gateway is on disk before the reply
	if r.Method != http.MethodGet {
		if err := d.persistLocked(); err != nil {
			code, out = apiError(500, "simulator: "+err.Error())
		}
	}
	// services the call toggled open or close before the reply, so a
	// client that got its answer sees the new state; HTTPS itself goes
	// only after the reply is sent
	_ = d.syncLocked(true)
	d.mu.Unlock()
	if drop := d.cfg.OmitFields[path]; len(drop) > 0 && r.Method == http.MethodGet && code == 200 {
		out = omitFields(out, drop)
	}
	if out != nil {
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(code)
		_ = json.NewEncoder(rec).Encode(out)
	} else {
		rec.WriteHeader(code)
	}
	if d.cfg.Observe != nil {
		d.cfg.Observe(Exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ReqHeader: r.Header.Clone(), ReqBody: body,
			Status: rec.status, RespHeader: rec.Header().Clone(), RespBody: rec.buf.Bytes()})
	}
	// the reply leaves before HTTPS may stop under it
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	d.mu.Lock()
	_ = d.syncServicesLocked()
	d.mu.Unlock()
}

// omitFields removes keys from a reply's "data" object.
func omitFields(out any, drop []string) any {
	env, ok := out.(map[string]any)
	if !ok {
		return out
	}
	inner, ok := env["data"].(map[string]any)
	if !ok {
		return out
	}
	cp := map[string]any{}
	for k, v := range inner {
		if !slices.Contains(drop, k) {
			cp[k] = v
		}
	}
	return map[string]any{"data": cp}
}

func (c *reqCtx) decode(v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

func (c *reqCtx) idParam() (int, bool) {
	id, err := strconv.Atoi(c.r.PathValue("id"))
	return id, err == nil
}

// c1 builds a PUT handler for a {"enable": bool} body.
func c1(set func(*reqCtx, bool)) handler {
	return func(c *reqCtx) (int, any) {
		var b struct {
			Enable *bool `json:"enable"`
		}
		if err := c.decode(&b); err != nil || b.Enable == nil {
			return apiError(400, "enable is required")
		}
		set(c, *b.Enable)
		return 200, data(map[string]any{"enable": *b.Enable})
	}
}

func (c *reqCtx) login() (int, any) {
	var b struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := c.decode(&b); err != nil || b.Name == "" || b.Password == "" {
		return apiError(400, "name and password are required")
	}
	d := c.d
	now := d.cfg.Now()
	f := d.failures[b.Name]
	if f != nil && now.Before(f.lockedUntil) {
		return apiError(423, "the account was banned temporarily")
	}
	u := d.st.userByName(b.Name)
	if u == nil || u.password != b.Password || !u.active {
		if f == nil {
			f = &failState{}
			d.failures[b.Name] = f
		}
		f.count++
		if f.count >= d.cfg.LockoutThreshold {
			f.count = 0
			f.lockedUntil = now.Add(d.cfg.LockoutFor)
			return apiError(423, "the account was banned temporarily")
		}
		return apiError(401, "The account or password you entered is not correct.")
	}
	delete(d.failures, b.Name)
	u.loginAt = now.UTC()
	tb := make([]byte, 24)
	_, _ = rand.Read(tb)
	tok := "sim." + base64.RawURLEncoding.EncodeToString(tb)
	d.tokens[tok] = u.id
	return 200, data(map[string]any{"token": tok, "user": c.userJSON(u)})
}

func (c *reqCtx) userJSON(u *user) map[string]any {
	m := map[string]any{"id": u.id, "name": u.name, "isActive": u.active, "createdAt": u.createdAt.Format(time.RFC3339Nano),
		"loginAt": u.loginAt.Format(time.RFC3339Nano)}
	if u.changedAt != nil {
		m["changedPasswordAt"] = u.changedAt.Format(time.RFC3339Nano)
	}
	if u.email != "" {
		m["email"] = u.email
	}
	if u.expiredAfter != nil {
		m["expiredAfter"] = u.expiredAfter.Format(time.RFC3339Nano)
	}
	var perms []string
	roles := []map[string]any{}
	for _, id := range u.roles {
		if r := c.d.st.roleByID(id); r != nil {
			roles = append(roles, map[string]any{"id": r.id, "name": r.name})
			for _, p := range r.permissions {
				if !slices.Contains(perms, p) {
					perms = append(perms, p)
				}
			}
		}
	}
	m["roles"] = roles
	if c.d.cfg.ReplyRoles == RolesAsIDs {
		ids := []any{}
		for _, r := range roles {
			ids = append(ids, r["id"])
		}
		m["roles"] = ids
	}
	m["permissions"] = append([]string{}, perms...)
	if u.mustChange {
		m["remindToChangePassword"] = true
	}
	return m
}

func (c *reqCtx) requireAdmin() (int, any, bool) {
	if !slices.Contains(c.user.roles, 1) {
		code, v := apiError(403, "user without Administrator role can not access this API")
		return code, v, false
	}
	return 0, nil, true
}

func (c *reqCtx) listUsers() (int, any) {
	out := []any{}
	for _, u := range c.d.st.users {
		out = append(out, c.userJSON(u))
	}
	return 200, map[string]any{"count": len(out), "data": out}
}

func (c *reqCtx) getUser() (int, any) {
	id, _ := c.idParam()
	u := c.d.st.userByID(id)
	if u == nil {
		return apiError(404, "user not found")
	}
	return 200, data(c.userJSON(u))
}

// roleIDs reads roles given as integers (the schema) or {"id": N} (the
// examples), each form handled as the configuration says.
func (c *reqCtx) roleIDs(raw []json.RawMessage) ([]int, error) {
	ids := []int{}
	for _, r := range raw {
		var n int
		handling := c.d.cfg.IntRoles
		if err := json.Unmarshal(r, &n); err != nil {
			var o struct {
				ID *int `json:"id"`
			}
			if err := json.Unmarshal(r, &o); err != nil || o.ID == nil {
				return nil, errors.New("roles: each item must be a role id")
			}
			n, handling = *o.ID, c.d.cfg.ObjectRoles
		}
		switch handling {
		case RolesRejected:
			return nil, errors.New("roles: invalid item")
		case RolesIgnored:
			continue
		}
		if c.d.st.roleByID(n) == nil {
			return nil, errors.New("role not found")
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// expiry reads expiredAfter: null (never) or an RFC 3339 time.
func expiry(raw json.RawMessage) (*time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errors.New("expiredAfter must be null or a date-time")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errors.New("expiredAfter must be null or a date-time")
	}
	t = t.UTC()
	return &t, nil
}

func validPassword(pw string) bool { return len(pw) >= 6 && len(pw) <= 256 }

func (c *reqCtx) createUser() (int, any) {
	if code, v, ok := c.requireAdmin(); !ok {
		return code, v
	}
	var b struct {
		Name         string            `json:"name"`
		Password     string            `json:"password"`
		Email        string            `json:"email"`
		IsActive     *bool             `json:"isActive"`
		Roles        []json.RawMessage `json:"roles"`
		ExpiredAfter json.RawMessage   `json:"expiredAfter"`
	}
	if err := c.decode(&b); err != nil {
		return apiError(400, err.Error())
	}
	if b.Name == "" || b.IsActive == nil || b.Roles == nil {
		return apiError(400, "name, password, roles and isActive are required")
	}
	ids, err := c.roleIDs(b.Roles)
	if err != nil {
		return apiError(400, err.Error())
	}
	exp, err := expiry(b.ExpiredAfter)
	switch {
	case err != nil:
		return apiError(400, err.Error())
	case !validPassword(b.Password):
		return apiError(400, "password must be at least 6 characters")
	case c.d.st.userByName(b.Name) != nil:
		return apiError(400, "user name already exists")
	}
	now := c.d.cfg.Now().UTC()
	u := &user{id: c.d.st.nextUser, name: b.Name, password: b.Password, email: b.Email, active: *b.IsActive, roles: ids, createdAt: now, expiredAfter: exp}
	c.d.st.nextUser++
	c.d.st.users = append(c.d.st.users, u)
	return 200, data(c.userJSON(u))
}

func (c *reqCtx) updateUser() (int, any) {
	if code, v, ok := c.requireAdmin(); !ok {
		return code, v
	}
	id, _ := c.idParam()
	u := c.d.st.userByID(id)
	if u == nil {
		return apiError(404, "user not found")
	}
	var b map[string]json.RawMessage
	if err := c.decode(&b); err != nil {
		return apiError(400, err.Error())
	}
	active, roles, email, exp := u.active, u.roles, u.email, u.expiredAfter
	if c.d.cfg.PutOmitted == ClearOmitted {
		active, roles, email, exp = false, []int{}, "", nil
	}
	if raw, ok := b["isActive"]; ok {
		if err := json.Unmarshal(raw, &active); err != nil {
			return apiError(400, "isActive must be a boolean")
		}
	}
	if raw, ok := b["roles"]; ok {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return apiError(400, "roles must be an array")
		}
		ids, err := c.roleIDs(items)
		if err != nil {
			return apiError(400, err.Error())
		}
		roles = ids
	}
	if raw, ok := b["email"]; ok {
		if err := json.Unmarshal(raw, &email); err != nil {
			return apiError(400, "email must be a string")
		}
	}
	if raw, ok := b["expiredAfter"]; ok {
		t, err := expiry(raw)
		if err != nil {
			return apiError(400, err.Error())
		}
		exp = t
	}
	wasAdmin := u.active && slices.Contains(u.roles, 1)
	if wasAdmin && (!active || !slices.Contains(roles, 1)) && c.d.st.activeAdmins() <= 1 {
		return apiError(403, "cannot deactivate the last active administrator")
	}
	u.active, u.roles, u.email, u.expiredAfter = active, roles, email, exp
	return 200, data(c.userJSON(u))
}

func (c *reqCtx) deleteUser() (int, any) {
	if code, v, ok := c.requireAdmin(); !ok {
		return code, v
	}
	id, _ := c.idParam()
	u := c.d.st.userByID(id)
	if u == nil {
		return apiError(404, "user not found")
	}
	if u.active && slices.Contains(u.roles, 1) && c.d.st.activeAdmins() <= 1 {
		return apiError(403, "cannot delete the last active administrator")
	}
	c.d.st.users = slices.DeleteFunc(c.d.st.users, func(x *user) bool { return x.id == id })
	for tok, uid := range c.d.tokens {
		if uid == id {
			delete(c.d.tokens, tok)
		}
	}
	return http.StatusNoContent, nil
}

func (c *reqCtx) setPassword() (int, any) {
	if code, v, ok := c.requireAdmin(); !ok {
		return code, v
	}
	id, _ := c.idParam()
	u := c.d.st.userByID(id)
	if u == nil {
		return apiError(404, "user not found")
	}
	var b struct {
		NewPassword string `json:"newPassword"`
	}
	if err := c.decode(&b); err != nil {
		return apiError(400, err.Error())
	}
	return c.applyPassword(u, b.NewPassword)
}

func (c *reqCtx) applyPassword(u *user, pw string) (int, any) {
	switch {
	case !validPassword(pw):
		return apiError(400, "password must be at least 6 characters")
	case pw == "admin@123" || pw == "moxamoxa":
		return apiError(400, "New password should be different from default password.")
	}
	now := c.d.cfg.Now().UTC()
	u.password, u.changedAt, u.mustChange = pw, &now, false
	return 200, data(c.userJSON(u))
}

func (c *reqCtx) changeOwnPassword() (int, any) {
	var b struct {
		OldPassword string `json:"oldPassword"`
		NewPassword string `json:"newPassword"`
	}
	if err := c.decode(&b); err != nil {
		return apiError(400, err.Error())
	}
	if b.OldPassword != c.user.password {
		return apiError(400, "Invalid current password.")
	}
	return c.applyPassword(c.user, b.NewPassword)
}

func (c *reqCtx) roleJSON(r *role) map[string]any {
	perms := []any{}
	for _, p := range r.permissions {
		for _, known := range permissions {
			if known.id == p {
				perms = append(perms, map[string]any{"id": known.id, "name": known.name, "description": ""})
			}
		}
	}
	users := []any{}
	for _, u := range c.d.st.users {
		if slices.Contains(u.roles, r.id) {
			users = append(users, map[string]any{"id": u.id, "name": u.name})
		}
	}
	return map[string]any{"id": r.id, "name": r.name, "description": r.description, "permissions": perms, "users": users}
}

func (c *reqCtx) listRoles() (int, any) {
	out := []any{}
	for _, r := range c.d.st.roles {
		out = append(out, c.roleJSON(r))
	}
	return 200, map[string]any{"count": len(out), "data": out}
}

func (c *reqCtx) createRole() (int, any) {
	if code, v, ok := c.requireAdmin(); !ok {
		return code, v
	}
	var b struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Permissions []string `json:"permissions"`
	}
	if err := c.decode(&b); err != nil || b.Name == "" || len(b.Permissions) == 0 {
		return apiError(400, "name and permissions are required")
	}
	for _, r := range c.d.st.roles {
		if strings.EqualFold(r.name, b.Name) {
			return apiError(400, "role name already exists")
		}
	}
	r := &role{id: c.d.st.nextRole, name: b.Name, description: b.Description, permissions: b.Permissions}
	c.d.st.nextRole++
	c.d.st.roles = append(c.d.st.roles, r)
	return 200, data(c.roleJSON(r))
}

var serviceGroups = []struct {
	group string
	ids   []string
}{
	{"cloudConnectivity", []string{"cloud"}},
	{"network", []string{"wifi", "cellular", "lan1", "lan2", "dhcpserver1", "dhcpserver2"}},
	{"protocol", []string{"modbusmaster", "eipscanner", "opcuaserver"}},
	{"provisionService", []string{"provision", "provisionschedule"}},
	{"service", []string{"httpservice", "httpsservice", "ntp", "sshserver", "localconsole", "sdcard", "syslog", "eventlog", "internetcheckalive"}},
}

// netService maps the coarse network toggles onto interfaces.
func (s *state) netService(id string) *iface {
	want := map[string][2]string{"wifi": {"wifi", "Wi-Fi1"}, "cellular": {"cellulars", "Cellular1"}, "lan1": {"ethernets", "LAN1"},
		"lan2": {"ethernets", "LAN2"}, "dhcpserver1": {"dhcpservers", "LAN1"}, "dhcpserver2": {"dhcpservers", "LAN2"}}[id]
	for _, it := range s.ifaces {
		if it.kind == want[0] && it.display == want[1] {
			return it
		}
	}
	return nil
}

func (c *reqCtx) listServices() (int, any) {
	out := map[string]any{}
	for _, g := range serviceGroups {
		var items []any
		for _, id := range g.ids {
			on, avail := c.d.st.services[id], true
			if g.group == "network" {
				it := c.d.st.netService(id)
				on, avail = it != nil && it.enable, it != nil
			}
			items = append(items, map[string]any{"id": id, "enable": on, "available": avail})
		}
		out[g.group] = items
	}
	return 200, data(out)
}

func (c *reqCtx) toggleService() (int, any) {
	id, action := c.r.PathValue("id"), c.r.PathValue("action")
	if action != "enable" && action != "disable" {
		return apiError(404, "not found")
	}
	on := action == "enable"
	known := false
	for _, g := range serviceGroups {
		if slices.Contains(g.ids, id) {
			known = true
			if g.group == "network" {
				it := c.d.st.netService(id)
				if it == nil {
					return apiError(400, "service not available")
				}
				it.enable = on
			} else {
				c.d.st.services[id] = on
			}
		}
	}
	switch {
	case id == "discovery":
		c.d.st.discovery, known = on, true
	case !known:
		return apiError(404, "service not found")
	}
	if id == "provision" && !on {
		c.d.st.services["provisionschedule"] = false
	}
	return 200, data(map[string]any{"enable": on})
}

func (c *reqCtx) httpServerJSON() map[string]any {
	s := c.d.st
	return map[string]any{"httpEnable": s.services["httpservice"], "httpPort": 80, "httpsEnable": s.services["httpsservice"], "httpsPort": 8443,
		"certFileName": s.certFile, "keyFileName": s.keyFile, "httpWhiteList": []any{}, "httpsWhiteList": []any{}, "maxRuleCount": 10}
}

func (c *reqCtx) getHTTPServer() (int, any) { return 200, data(c.httpServerJSON()) }

// putHTTPServer takes multipart/form-data: certFile and keyFile, and the
// enable flags.
func (c *reqCtx) putHTTPServer() (int, any) {
	r := c.r
	r.Body = io.NopCloser(bytes.NewReader(c.body))
	if err := r.ParseMultipartForm(maxBody); err != nil {
		return apiError(400, "expect multipart/form-data")
	}
	file := func(name string) (string, string, error) {
		f, h, err := r.FormFile(name)
		if err != nil {
			return "", "", nil
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxBody))
		return h.Filename, string(b), err
	}
	certName, certPEM, err1 := file("certFile")
	keyName, keyPEM, err2 := file("keyFile")
	if err := errors.Join(err1, err2); err != nil {
		return apiError(400, "cannot read the uploaded files")
	}
	if (certPEM == "") != (keyPEM == "") {
		return apiError(400, "certFile and keyFile go together")
	}
	if certPEM != "" {
		if !hasSuffix(certName, ".crt", ".cer", ".pem") || !hasSuffix(keyName, ".key", ".pk", ".pem") {
			return apiError(400, "invalid file name suffix")
		}
		if b, _ := pem.Decode([]byte(keyPEM)); b == nil || b.Type != "RSA PRIVATE KEY" {
			return apiError(400, "the key must be an RSA private key in PEM format")
		}
		prev := c.d.cert
		if err := c.d.installCertLocked(certPEM, keyPEM, certName, keyName); err != nil {
			return apiError(400, err.Error())
		}
		c.d.prevCert, c.d.lateLeft = prev, c.d.cfg.CertSwapLate
	}
	for _, f := range []struct{ key, svc string }{{"httpEnable", "httpservice"}, {"httpsEnable", "httpsservice"}} {
		if v := r.FormValue(f.key); v != "" {
			c.d.st.services[f.svc] = v == "true"
		}
	}
	return 200, data(c.httpServerJSON())
}

func hasSuffix(s string, sfx ...string) bool {
	for _, x := range sfx {
		if strings.HasSuffix(strings.ToLower(s), x) {
			return true
		}
	}
	return false
}

// installCertLocked makes the pair the one HTTPS serves.
func (d *Device) installCertLocked(certPEM, keyPEM, certName, keyName string) error {
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return errors.New("the certificate and the key do not match")
	}
	blk, _ := pem.Decode([]byte(certPEM))
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return errors.New("invalid certificate")
	}
	d.cert, d.certDER = pair, blk.Bytes
	d.st.certFile, d.st.keyFile = certName, keyName
	return nil
}

func (c *reqCtx) getProvision() (int, any) {
	s := c.d.st
	return 200, data(map[string]any{"enable": s.services["provision"], "schedule": map[string]any{"enable": s.services["provisionschedule"], "disableAfterSec": 900}})
}

func (c *reqCtx) putProvision() (int, any) {
	var b struct {
		Enable   *bool `json:"enable"`
		Schedule *struct {
			Enable bool `json:"enable"`
		} `json:"schedule"`
	}
	if err := c.decode(&b); err != nil || b.Enable == nil {
		return apiError(400, "enable is required")
	}
	c.d.st.services["provision"] = *b.Enable
	if b.Schedule != nil {
		c.d.st.services["provisionschedule"] = b.Schedule.Enable
	}
	return c.getProvision()
}

func (c *reqCtx) getSysLog() (int, any) {
	s := c.d.st
	return 200, data(map[string]any{"desiredDiskCacheSizeMB": strconv.Itoa(s.sysLogMB), "enable": s.sysLogOn, "enableTimeToLiveSec": false,
		"targetDiskName": "System", "timeToLiveSec": 86400})
}

func (c *reqCtx) getEventLog() (int, any) {
	s := c.d.st
	return 200, data(map[string]any{"desiredDiskCacheSizeMB": strconv.Itoa(s.evLogMB), "enable": s.evLogOn, "enableTimeToLiveSec": false,
		"reachThresholdPolicy": "rotate", "targetDiskName": "System", "timeToLiveSec": 86400})
}

func (c *reqCtx) general() (int, any) {
	cfg := c.d.cfg
	return 200, data(map[string]any{"type": "general", "description": "", "hostName": cfg.HostName, "modelName": cfg.Model,
		"serialNumber": cfg.Serial, "thingsproVersion": cfg.Version, "firmwareVersion": "1.8.0", "deviceType": "gateway",
		"lastBootTime": cfg.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
}

func (c *reqCtx) timeJSON() map[string]any {
	s := c.d.st
	return map[string]any{"type": "time", "time": c.d.cfg.Now().UTC().Format(time.RFC3339), "timezone": s.zone, "lastUpdateTime": s.lastSync,
		"ntp": map[string]any{"enable": s.ntp, "source": "timeserver", "server": s.ntpServer, "interval": s.interval}}
}

func (c *reqCtx) getTime() (int, any) { return 200, data(c.timeJSON()) }

// ntpHost is the time.yaml server rule without its look-ahead (PATCHES.md 1).
var ntpHost = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?)*$`)
})

func (c *reqCtx) patchTime() (int, any) {
	var b struct {
		Time     *string `json:"time"`
		Timezone *string `json:"timezone"`
		NTP      *struct {
			Enable   *bool   `json:"enable"`
			Source   *string `json:"source"`
			Server   *string `json:"server"`
			Interval *int    `json:"interval"`
		} `json:"ntp"`
	}
	if err := c.decode(&b); err != nil {
		return apiError(400, err.Error())
	}
	s := c.d.st
	if b.Time != nil {
		if _, err := time.Parse(time.RFC3339, *b.Time); err != nil {
			return apiError(400, "invalid time")
		}
	}
	if b.Timezone != nil {
		if _, err := time.LoadLocation(*b.Timezone); err != nil || *b.Timezone == "" {
			return apiError(400, "invalid timezone")
		}
		s.zone = *b.Timezone
	}
	if n := b.NTP; n != nil {
		gps := n.Source != nil && *n.Source == "gps"
		if n.Source != nil && !gps && *n.Source != "timeserver" {
			return apiError(400, "source must be timeserver or gps")
		}
		if n.Interval != nil && (*n.Interval < 60 || *n.Interval > 2592000) {
			return apiError(400, "interval must be 60-2592000")
		}
		// the spec's own GPS example sends an empty server: only a time
		// server needs a valid host name
		if n.Server != nil && !(gps && *n.Server == "") && (len(*n.Server) < 2 || len(*n.Server) > 253 || !ntpHost().MatchString(*n.Server)) {
			return apiError(400, "server must be a host name or IPv4 address")
		}
		if n.Server != nil && !gps {
			s.ntpServer = *n.Server
		}
		if n.Interval != nil {
			s.interval = *n.Interval
		}
		if n.Enable != nil {
			s.ntp = *n.Enable
			s.services["ntp"] = *n.Enable
			if s.ntp && s.ntpServer != "" {
				s.lastSync = c.d.cfg.Now().UTC().Format(time.RFC3339) // the simulated server answers at once
			}
		}
	}
	return 200, data(c.timeJSON())
}

func (c *reqCtx) ifaceJSON(it *iface) map[string]any {
	m := map[string]any{"id": it.id, "name": it.name, "displayName": it.display, "enable": it.enable}
	switch it.kind {
	case "ethernets":
		dns := []any{}
		for _, x := range it.dns {
			dns = append(dns, x)
		}
		m["type"], m["wan"], m["enableDhcp"], m["ip"], m["netmask"] = "ethernets", it.wan, it.dhcp, it.ip, it.netmask
		m["status"], m["mac"], m["dns"] = "connected", fmt.Sprintf("00:90:e8:00:00:%02x", it.id), dns
		if it.gateway != "" {
			m["gateway"] = it.gateway
		}
	case "cellulars":
		m["type"], m["available"], m["status"], m["mode"] = "cellular", true, "ready", "auto"
	case "wifi":
		m["type"], m["available"], m["mode"], m["status"] = "wifi", true, "client", false
	case "dhcpservers":
		m["type"], m["available"], m["status"] = "dhcpservers", true, it.enable
		m["startIp"], m["endIp"], m["netmask"], m["leaseTime"] = "192.168.4.100", "192.168.4.120", "255.255.255.0", 86400
	}
	return m
}

func (c *reqCtx) listIfaces(kind string, count bool) (int, any) {
	out := []any{}
	for _, it := range c.d.st.ifaces {
		if it.kind == kind {
			out = append(out, c.ifaceJSON(it))
		}
	}
	if !count {
		return 200, data(out)
	}
	return 200, map[string]any{"count": len(out), "data": out}
}

func (c *reqCtx) patchIface(kind string) (int, any) {
	id, _ := c.idParam()
	var it *iface
	for _, x := range c.d.st.ifaces {
		if x.kind == kind && x.id == id {
			it = x
		}
	}
	if it == nil {
		return apiError(404, "interface not found")
	}
	var b struct {
		Enable     *bool    `json:"enable"`
		EnableDHCP *bool    `json:"enableDhcp"`
		WAN        *bool    `json:"wan"`
		IP         *string  `json:"ip"`
		Netmask    *string  `json:"netmask"`
		Gateway    *string  `json:"gateway"`
		DNS        []string `json:"dns"`
	}
	if err := c.decode(&b); err != nil || b.Enable == nil {
		return apiError(400, "enable is required")
	}
	if kind == "ethernets" {
		// both of the spec's examples: DHCP, or static with ip and netmask
		if b.EnableDHCP == nil || b.WAN == nil {
			return apiError(400, "enable, enableDhcp and wan are required")
		}
		if !*b.EnableDHCP && (b.IP == nil || b.Netmask == nil || net.ParseIP(*b.IP).To4() == nil || net.ParseIP(*b.Netmask).To4() == nil) {
			return apiError(400, "a static address needs ip and netmask")
		}
		it.dhcp, it.wan = *b.EnableDHCP, *b.WAN
		if !it.dhcp && it.display != "LAN1" { // LAN1 is where the simulator listens
			it.ip, it.netmask = *b.IP, *b.Netmask
			if b.Gateway != nil {
				it.gateway = *b.Gateway
			}
			if b.DNS != nil {
				it.dns = b.DNS
			}
		}
	}
	it.enable = *b.Enable
	return 200, data(c.ifaceJSON(it))
}

func (c *reqCtx) listRules() (int, any) {
	out := []any{}
	for _, r := range c.d.st.rules {
		out = append(out, map[string]any{"id": r.id, "name": r.name, "description": r.description, "priority": r.priority, "gatewayPort": r.port,
			"protocol": r.protocol, "sourceIp": r.srcIP, "sourcePort": r.srcPort, "destinationIp": r.dstIP, "destinationPort": r.dstPort, "action": r.action})
	}
	return 200, map[string]any{"count": len(out), "data": out}
}

func (c *reqCtx) deleteRules() (int, any) {
	var ids []int
	if err := c.decode(&ids); err != nil || len(ids) == 0 {
		return 400, map[string]any{"code": 10002, "message": "body must be an array of rule ids"}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(c.d.st.rules, func(r *fwRule) bool { return r.id == id }) {
			return 400, map[string]any{"code": 10003, "message": "Inbound filter rule not found"}
		}
	}
	c.d.st.rules = slices.DeleteFunc(c.d.st.rules, func(r *fwRule) bool { return slices.Contains(ids, r.id) })
	return 200, data(ids)
}

func (c *reqCtx) azureDevice() (int, any) {
	s := c.d.st
	if s.azureAuth == "" {
		return apiError(404, "app azure-device is not installed")
	}
	cert := map[string]any{"caCertFile": "", "caPkFile": ""}
	if s.azureCert {
		cert = map[string]any{"caCertFile": "device.crt", "caPkFile": "device.key"}
	}
	return 200, data(map[string]any{"status": "connected", "provisioning": map[string]any{"enable": true, "authenticationType": s.azureAuth,
		"certificate": cert}})
}

func (c *reqCtx) listMQTT() (int, any) {
	out := []any{}
	for _, m := range c.d.st.mqtt {
		pw := ""
		if m.password != "" {
			pw = "********"
		}
		out = append(out, map[string]any{"id": m.id, "enable": m.enable, "status": "connected", "server": m.server, "port": m.port,
			"userName": m.userName, "password": pw, "certificateOverTLS": m.certOverTLS, "insecureSkipVerify": m.insecure,
			"certificate": map[string]any{"rootCaCertFile": m.rootCA, "caCertFile": m.clientCert, "caPkFile": m.clientKey}})
	}
	return 200, map[string]any{"data": out}
}

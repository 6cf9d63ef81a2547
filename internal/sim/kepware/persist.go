package kepware

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
	"github.com/commission-tool/commission/internal/sim/simstate"
)

// StateFileName is the name of the state file in Config.StateDir.
const StateFileName = "state.json"

const stateFormat = 1

// stateFile is what the server keeps in Config.StateDir between runs: its
// own configuration (users and passwords as the simulated server holds
// them, not the tool's secrets), the Configuration API's HTTP switch, its
// HTTPS certificate and key, and its ports.
type stateFile struct {
	Format      int            `json:"format"`
	Edge        bool           `json:"edge"`
	Ports       map[string]int `json:"ports"`
	Certificate [][]byte       `json:"certificate"` // DER chain
	Key         []byte         `json:"key"`         // PKCS #8
	HTTPOn      bool           `json:"httpOn"`
	Store       storeJSON      `json:"store"`
}

type eventJSON struct {
	At                    time.Time
	Kind, Source, Message string
}

type auditJSON struct {
	ID                    int
	At                    time.Time
	Action, User, Details string
}

// storeJSON mirrors store field for field (but cfg, which is Config).
type storeJSON struct {
	ProjectID int64
	Project   object
	Groups    []object
	Users     []object
	Passwords map[string]string
	Agents    map[string][]object
	Endpoints []object
	Events    []eventJSON
	Items     map[string][]object
	Secrets   map[string]string
	Admin     object
	Jobs      map[string]object
	JobSeq    int
	Backups   []object
	Trail     []auditJSON
}

func (s *store) toJSON() storeJSON {
	o := storeJSON{ProjectID: s.projectID, Project: s.project, Groups: s.groups, Users: s.users, Passwords: s.passwords,
		Agents: s.agents, Endpoints: s.endpoints, Items: s.items, Secrets: s.secrets, Admin: s.admin, Jobs: s.jobs,
		JobSeq: s.jobSeq, Backups: s.backups}
	for _, e := range s.events {
		o.Events = append(o.Events, eventJSON{e.at, e.kind, e.source, e.message})
	}
	for _, a := range s.trail {
		o.Trail = append(o.Trail, auditJSON{a.id, a.at, a.action, a.user, a.details})
	}
	return o
}

func (o storeJSON) toStore(cfg Config) *store {
	s := &store{cfg: cfg, projectID: o.ProjectID, project: o.Project, groups: o.Groups, users: o.Users, passwords: o.Passwords,
		agents: o.Agents, endpoints: o.Endpoints, items: o.Items, secrets: o.Secrets, admin: o.Admin, jobs: o.Jobs,
		jobSeq: o.JobSeq, backups: o.Backups}
	for _, e := range o.Events {
		s.events = append(s.events, event{e.At, e.Kind, e.Source, e.Message})
	}
	for _, a := range o.Trail {
		s.trail = append(s.trail, auditEntry{a.ID, a.At, a.Action, a.User, a.Details})
	}
	if s.passwords == nil {
		s.passwords = map[string]string{}
	}
	if s.items == nil {
		s.items = map[string][]object{}
	}
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	if s.jobs == nil {
		s.jobs = map[string]object{}
	}
	if s.agents == nil {
		s.agents = map[string][]object{}
	}
	return s
}

// plainAll turns every json.Number below v into an int or float64, as
// the store holds numbers (see plain).
func plainAll(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plainAll(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainAll(e)
		}
	default:
		return plain(v)
	}
	return v
}

func plainObjects(list []object) {
	for _, o := range list {
		plainAll(o)
	}
}

func statePath(cfg Config) string { return filepath.Join(cfg.StateDir, StateFileName) }

func freshHint(cfg Config) string { return simstate.FreshHint(cfg.StateDir, "server") }

// loadState reads cfg.StateDir's state file; nil, nil when there is none.
func loadState(cfg Config) (*stateFile, error) {
	path := statePath(cfg)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the simulator's state file %s: %w", path, err)
	}
	bad := func(why string, err error) (*stateFile, error) {
		if err != nil {
			return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s): %w; %s", path, why, err, freshHint(cfg))
		}
		return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s); %s", path, why, freshHint(cfg))
	}
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		return bad("not JSON", err)
	}
	switch {
	case st.Format != stateFormat:
		return bad(fmt.Sprintf("format %d, want %d", st.Format, stateFormat), nil)
	case st.Edge != cfg.Edge:
		return bad(fmt.Sprintf("edge %v, this server %v", st.Edge, cfg.Edge), nil)
	case len(st.Certificate) == 0 || len(st.Key) == 0:
		return bad("no certificate", nil)
	case len(st.Store.Users) == 0 || len(st.Store.Groups) == 0 || st.Store.Project == nil:
		return bad("no users, groups or project", nil)
	}
	if _, err := st.certificate(); err != nil {
		return bad("certificate", err)
	}
	for _, name := range []string{SvcConfigHTTPS, SvcConfigHTTP, SvcOPCUA, SvcRESTServer} {
		if p := st.Ports[name]; p <= 0 || p > 65535 {
			return bad(fmt.Sprintf("port %d for %s", p, name), nil)
		}
	}
	s := &st.Store
	plainAll(s.Project)
	plainAll(s.Admin)
	plainObjects(s.Groups)
	plainObjects(s.Users)
	plainObjects(s.Endpoints)
	plainObjects(s.Backups)
	for _, l := range s.Agents {
		plainObjects(l)
	}
	for _, l := range s.Items {
		plainObjects(l)
	}
	for _, j := range s.Jobs {
		plainAll(j)
	}
	return &st, nil
}

func (st *stateFile) certificate() (tls.Certificate, error) {
	return simstate.Certificate(st.Certificate, st.Key)
}

// portTaken is the error for a saved port another program holds.
func portTaken(cfg Config, name string, port int, err error) error {
	return simstate.PortTaken(cfg.StateDir, "server", name, port, err)
}

// persistLocked writes the state file when the server has a StateDir;
// mu held (so writes are in the order of the changes).
func (d *Device) persistLocked() error {
	if d.cfg.StateDir == "" {
		return nil
	}
	key, err := x509.MarshalPKCS8PrivateKey(d.cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("save the simulator's state: certificate key: %w", err)
	}
	st := stateFile{Format: stateFormat, Edge: d.cfg.Edge, Ports: d.Ports(), Certificate: d.cert.Certificate, Key: key,
		HTTPOn: d.httpOn, Store: d.st.toJSON()}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	if err := simstate.WriteAtomic(statePath(d.cfg), b); err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	return nil
}

// heldReply keeps a write's reply until the state file is written. It
// hijacks through to the real connection (DropNext).
type heldReply struct {
	w        http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (h *heldReply) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be hijacked")
	}
	c, rw, err := hj.Hijack()
	if err == nil {
		h.hijacked = true
	}
	return c, rw, err
}

func (h *heldReply) Header() http.Header { return h.w.Header() }
func (h *heldReply) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *heldReply) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

// send passes the held reply on.
func (h *heldReply) send() {
	if h.hijacked {
		return
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	h.w.WriteHeader(h.status)
	_, _ = h.w.Write(h.body.Bytes())
}

// handle serves one request. A request that may change the server (any
// but GET) has its reply held until the state file is written; when it
// cannot be, the reply is a 500 naming the error.
func (d *Device) handle(hw http.ResponseWriter, r *http.Request) {
	if d.cfg.StateDir == "" || r.Method == http.MethodGet {
		d.handleRequest(hw, r)
		return
	}
	held := &heldReply{w: hw}
	d.handleRequest(held, r)
	if held.hijacked {
		return
	}
	d.mu.Lock()
	err := d.persistLocked()
	d.mu.Unlock()
	if err != nil {
		writeMsg(hw, http.StatusInternalServerError, "simulator: "+err.Error())
		return
	}
	held.send()
}

// holdPort holds a service's port on start (simnet.Hold): the saved one
// with a state file, else an ephemeral one.
func holdPort(cfg Config, name string, saved map[string]int) (*simnet.Hold, error) {
	port, ok := saved[name]
	h, err := simnet.HoldPort("tcp4", net.JoinHostPort(cfg.Host, fmt.Sprint(port)))
	switch {
	case err != nil && ok:
		return nil, portTaken(cfg, name, port, err)
	case err != nil:
		return nil, fmt.Errorf("allocate %s port: %w", name, err)
	}
	return h, nil
}

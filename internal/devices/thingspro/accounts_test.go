package thingspro_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/probe"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// exchanges records the simulator's API traffic in order.
type exchanges struct {
	mu  sync.Mutex
	all []simthingspro.Exchange
}

func (x *exchanges) observe(e simthingspro.Exchange) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.all = append(x.all, e)
}

func (x *exchanges) list() []simthingspro.Exchange {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.all)
}

// firstTouch is the index of the first call that changes account id, or -1.
func firstTouch(xs []simthingspro.Exchange, id string) int {
	for i, e := range xs {
		if e.Method != "GET" && strings.HasPrefix(e.Path, "/api/v1/users/"+id) {
			return i
		}
	}
	return -1
}

// firstProof is the index of the first GET /users/{id} reply that shows
// the account holding role 1 (Administrator), in either form, or -1.
func firstProof(t *testing.T, xs []simthingspro.Exchange, id int) int {
	t.Helper()
	for i, e := range xs {
		if e.Method != "GET" || e.Status != 200 || e.Path != "/api/v1/users/"+strconv.Itoa(id) {
			continue
		}
		var env struct {
			Data struct {
				Roles []json.RawMessage `json:"roles"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.RespBody, &env); err != nil {
			t.Fatalf("GET %s reply: %v", e.Path, err)
		}
		for _, r := range env.Data.Roles {
			var n int
			var o struct{ ID int }
			if (json.Unmarshal(r, &n) == nil && n == 1) || (json.Unmarshal(r, &o) == nil && o.ID == 1) {
				return i
			}
		}
	}
	return -1
}

// TestAccountCandidates_Simulator runs the safe default-account
// procedure against every candidate behaviour of the gateway's account
// API: the personal administrator is created with its role in the
// object form, read back and proven before the default admin is touched;
// where no role form works, the default admin is never touched.
func TestAccountCandidates_Simulator(t *testing.T) {
	const pw = "Personal-Admin-2024!"
	for _, c := range simthingspro.AccountCandidates() {
		t.Run(c.Name, func(t *testing.T) {
			var x exchanges
			sim := startSim(t, c.Apply(simthingspro.Config{NoForcedChange: true, Observe: x.observe}))
			ctx := context.Background()
			d, err := thingspro.Connect(ctx, options(t, sim, "admin", "admin@123"))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close(context.Background())
			s0, err := d.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			to := s0.Clone()
			to.Users = append(to.Users, thingspro.User{Name: "jdoe", Active: true, Roles: []string{thingspro.AdminRole}})
			to.Secrets = map[string]string{"jdoe": pw}
			err = d.Stage(ctx, s0, to)

			if !c.Workable() {
				var pe *thingspro.ProofError
				var ae *thingspro.APIError
				if !errors.As(err, &pe) && !(errors.As(err, &ae) && ae.Status == 400) {
					t.Fatalf("no role form works, Stage = %v; want a ProofError or the gateway's 400", err)
				}
				// the admin's own driver tries to deactivate admin: the
				// fresh read shows no other administrator, so nothing is sent
				s1, err := d.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				to := s1.Clone()
				for i := range to.Users {
					if to.Users[i].Name == "admin" {
						to.Users[i].Active = false
					}
				}
				if err := d.Stage(ctx, s1, to); err == nil || !strings.Contains(err.Error(), "no other active administrator") {
					t.Errorf("deactivating admin with no proven other administrator: %v", err)
				}
				if i := firstTouch(x.list(), "1"); i >= 0 {
					t.Errorf("the default admin was touched (%s %s) although no administrator was proven", x.list()[i].Method, x.list()[i].Path)
				}
				if roles, active, _ := sim.UserRoles("admin"); !active || !slices.Contains(roles, 1) {
					t.Errorf("admin after the refusal: roles %v active %t", roles, active)
				}
				return
			}
			if err != nil {
				t.Fatalf("create the personal administrator: %v", err)
			}
			s1, err := d.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			j, ok := s1.UserByName("jdoe")
			if !ok || !j.Admin() || !j.RolesProven {
				t.Fatalf("jdoe after Stage = %+v (found %t), want a proven administrator", j, ok)
			}
			if a, _ := s1.UserByName("admin"); !a.Admin() {
				t.Errorf("admin's roles read as %v (reply form %v)", a.Roles, c.ReplyRoles)
			}
			// POST /users carried the object form first
			for _, e := range x.list() {
				if e.Method == "POST" && e.Path == "/api/v1/users" {
					if !strings.Contains(string(e.ReqBody), `"roles":[{"id":1}]`) {
						t.Errorf("first POST /users body roles: %s", e.ReqBody)
					}
					break
				}
			}

			// as jdoe, deactivate the default admin
			dj, err := thingspro.Connect(ctx, options(t, sim, "jdoe", pw))
			if err != nil {
				t.Fatal(err)
			}
			defer dj.Close(context.Background())
			s2, err := dj.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			to2 := s2.Clone()
			for i := range to2.Users {
				if to2.Users[i].Name == "admin" {
					to2.Users[i].Active = false
				}
			}
			if err := dj.Stage(ctx, s2, to2); err != nil {
				t.Fatalf("deactivate admin as jdoe: %v", err)
			}
			roles, active, _ := sim.UserRoles("admin")
			if active || !slices.Contains(roles, 1) {
				t.Errorf("admin after deactivation: roles %v active %t; want inactive with its Administrator role kept", roles, active)
			}
			xs := x.list()
			touch, proof := firstTouch(xs, "1"), firstProof(t, xs, j.ID)
			if touch < 0 || proof < 0 || proof > touch {
				t.Errorf("proof of jdoe at exchange %d, first change of admin at %d: the personal admin must be proven first", proof, touch)
			}
		})
	}
}

// TestPutSendsWholeState_Simulator: PUT /users/{id} carries every
// writable field as read just before, so a gateway that clears omitted
// fields clears nothing.
func TestPutSendsWholeState_Simulator(t *testing.T) {
	var x exchanges
	sim := startSim(t, simthingspro.Config{NoForcedChange: true, PutOmitted: simthingspro.ClearOmitted, Observe: x.observe})
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, options(t, sim, "admin", "admin@123"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	s0, _ := d.Read(ctx)
	to := s0.Clone()
	to.Users = append(to.Users, thingspro.User{Name: "ops", Active: true, Roles: []string{thingspro.AdminRole}})
	to.Secrets = map[string]string{"ops": "Ops-Admin-Pass-2024!"}
	if err := d.Stage(ctx, s0, to); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2031, 1, 31, 16, 0, 0, 0, time.UTC)
	if err := sim.SetUserDetails("ops", "ops@example.net", &exp); err != nil {
		t.Fatal(err)
	}
	s1, _ := d.Read(ctx)
	to = s1.Clone()
	for i := range to.Users {
		if to.Users[i].Name == "ops" {
			to.Users[i].Active = false
		}
	}
	if err := d.Stage(ctx, s1, to); err != nil {
		t.Fatal(err)
	}
	var put *simthingspro.Exchange
	for _, e := range x.list() {
		if e.Method == "PUT" && strings.HasPrefix(e.Path, "/api/v1/users/") && !strings.HasSuffix(e.Path, "/password") {
			put = &e
		}
	}
	if put == nil {
		t.Fatal("no PUT /users/{id} was sent")
	}
	var body map[string]any
	if err := json.Unmarshal(put.ReqBody, &body); err != nil {
		t.Fatal(err)
	}
	if body["email"] != "ops@example.net" || body["expiredAfter"] == nil || body["isActive"] != false {
		t.Errorf("PUT body = %s: want the e-mail, the expiry and isActive false", put.ReqBody)
	}
	if !strings.Contains(string(put.ReqBody), `"roles":[{"id":1}]`) {
		t.Errorf("PUT body roles: %s", put.ReqBody)
	}
	roles, active, _ := sim.UserRoles("ops")
	email, gotExp := sim.UserDetails("ops")
	if active || !slices.Contains(roles, 1) || email != "ops@example.net" || gotExp == nil || !gotExp.Equal(exp) {
		t.Errorf("ops after the PUT: roles %v active %t email %q expiry %v; nothing but isActive may change", roles, active, email, gotExp)
	}
}

// TestMissingFieldIsUnknown_Simulator: a discovery reply without
// "enable" is unknown, not the value of the reply decoded before it (the
// local console, turned off here).
func TestMissingFieldIsUnknown_Simulator(t *testing.T) {
	sim := startSim(t, simthingspro.Config{NoForcedChange: true, OmitFields: map[string][]string{"/system/discovery": {"enable"}}})
	ctx := context.Background()
	d, err := thingspro.Connect(ctx, options(t, sim, "admin", "admin@123"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	s0, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := s0.Clone()
	to.Services[thingspro.SvcLocalConsole] = false
	if err := d.Stage(ctx, s0, to); err != nil {
		t.Fatal(err)
	}
	s, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if on, ok := s.Services[thingspro.SvcLocalConsole]; !ok || on {
		t.Fatalf("local console = %t (known %t), want known and off", on, ok)
	}
	if on, ok := s.Services[thingspro.SvcDiscovery]; ok {
		t.Errorf("discovery = %t although its reply has no enable field: a value was inherited", on)
	}
	if !strings.Contains(s.Unknown[thingspro.SvcDiscovery], "/system/discovery") {
		t.Errorf("Unknown = %v, want discovery named with its endpoint", s.Unknown)
	}
	// turning it off is still sent: unknown is not "already off"
	to = s.Clone()
	to.Services[thingspro.SvcDiscovery] = false
	if err := d.Stage(ctx, s, to); err != nil {
		t.Fatal(err)
	}
	if p := sim.Ports(); p[simthingspro.PortDiscovery] == 0 {
		t.Fatal("no discovery port")
	}
	s2, _ := d.Read(ctx)
	if s2.Observed.Ports["discovery"].State == probe.Open {
		t.Errorf("discovery still answers after the tool turned it off: %+v", s2.Observed.Ports["discovery"])
	}
}

// TestTranscriptMasksSecrets_Simulator: the driver's transcript names
// every call and shows no password, token or key.
func TestTranscriptMasksSecrets_Simulator(t *testing.T) {
	_, d, buf := transcribed(t, simthingspro.Config{})
	ctx := context.Background()
	s, err := d.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := s.Clone()
	to.Users = append(to.Users, thingspro.User{Name: "jdoe", Active: true, Roles: []string{thingspro.AdminRole}})
	to.Secrets = map[string]string{"jdoe": "Transcript-Pass-2024!"}
	if err := d.Stage(ctx, s, to); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"POST /auth", "PUT /users/me/password", "POST /users", "GET /users/2"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	for _, secret := range []string{"admin@123", newPW, "Transcript-Pass-2024!", "sim."} {
		if strings.Contains(text, secret) {
			t.Errorf("transcript shows the secret %q", secret)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package kepware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/catalog/catalogtest"
	device "github.com/commission-tool/commission/internal/devices/kepware"
	simkepware "github.com/commission-tool/commission/internal/sim/kepware"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

func startKepware(t *testing.T, cfg simkepware.Config) (*simkepware.Device, *device.Device) {
	t.Helper()
	sim, err := simkepware.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	p := sim.Ports()
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	hp := sim.Host() + ":" + strconv.Itoa(p[simkepware.SvcConfigHTTPS])
	if err := pins.Trust(hp, sim.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	dev := device.New(device.Options{Options: access.Options{Host: sim.Host(), Ports: p, User: "Administrator",
		Password: simkepware.DefaultAdminPassword, Pins: pins, Timeout: 2 * time.Second, Since: time.Now().Add(-time.Minute)}})
	t.Cleanup(func() { dev.Close(context.Background()) })
	return sim, dev
}

var _ steps.Device[device.State] = (*device.Device)(nil)

func TestCatalogShape(t *testing.T) {
	cat := Catalog()
	ids := map[string]bool{}
	groups := map[string]bool{}
	for _, g := range catalog.Groups {
		groups[g] = true
	}
	for _, s := range cat.Steps {
		if !strings.HasPrefix(s.ID, "kepware.") || ids[s.ID] {
			t.Errorf("bad or duplicate id %q", s.ID)
		}
		ids[s.ID] = true
		if !groups[s.Group] || s.Title == "" || s.Why == "" || len(s.SRs) == 0 || s.Section == "" {
			t.Errorf("%s: incomplete meta %+v", s.ID, s.Meta)
		}
		if s.Kind == steps.Automatic && s.Check == nil {
			t.Errorf("%s: automatic step without check", s.ID)
		}
		if s.Kind == steps.Manual && s.Attest == "" {
			t.Errorf("%s: manual step without attestation text", s.ID)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for pw, want := range map[string]string{
		"Short1!":                 "too short",
		"alllowercase-long-12":    "upper-case",
		"NoDigitsHere-AtAll!":     "digit",
		"Password123!Password123": "", // long, mixed: accepted unless listed
		"Hardened-Kepware-2024!":  "",
	} {
		err := PasswordRules.Check(pw)
		switch {
		case want == "" && err != nil && !strings.Contains(err.Error(), "commonly used"):
			t.Errorf("%q: unexpected %v", pw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: got %v, want %q", pw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("the error echoes the password")
		}
	}
}

func audit(t *testing.T, dev *device.Device) *steps.Session[device.State] {
	t.Helper()
	s := steps.NewSession(Catalog(), dev, nil)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuditDefault(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{Edge: true})
	s := audit(t, dev)
	want := []string{"kepware.5.2.opc-da", "kepware.5.3.default-user", "kepware.5.3.server-users", "kepware.6.1.ua-group",
		"kepware.6.1.ua-endpoints", "kepware.6.2.mqtt", "kepware.6.3.rest-client", "kepware.6.4.rest-group", "kepware.6.4.rest-server-write",
		"kepware.6.4.rest-server-https", "kepware.6.4.rest-server-cors", "kepware.7.1.api-group", "kepware.7.1.config-http"}
	for _, id := range want {
		if r := s.Result(id); r.Outcome != steps.Deviation {
			t.Errorf("%s: %s, want deviation (%+v)", id, r.Outcome, r.Before)
		}
	}
	for _, id := range []string{"kepware.6.1.ua-anonymous", "kepware.8.2.diagnostics", "kepware.7.1.certificate", "kepware.7.1.ports"} {
		if r := s.Result(id); r.Outcome != steps.Compliant {
			t.Errorf("%s: %s, want compliant (%+v)", id, r.Outcome, r.Before)
		}
	}
	if r := s.Result("kepware.4.1.installer"); r.Outcome != steps.ManualPending {
		t.Errorf("installer: %s", r.Outcome)
	}
	if id := s.Identity(); id.Model != "Kepware Edge" || id.Family != "kepware" {
		t.Errorf("identity %+v", id)
	}
}

// TestKepwareAuditHardened: a hardened Kepware Server (012) and a
// hardened Kepware Edge (013) each audit cleanly, and no request of the
// audit is answered 404 (the driver asks only what the product has).
func TestAuditHardened(t *testing.T) {
	for _, edge := range []bool{false, true} {
		sim, dev := startKepware(t, simkepware.Config{Edge: edge})
		if err := sim.Harden(); err != nil {
			t.Fatal(err)
		}
		sim.ResetRequests()
		s := audit(t, dev)
		for _, r := range s.Results() {
			if r.Meta.Kind != steps.Automatic {
				continue
			}
			if r.Outcome != steps.Compliant && !(r.StepID == "kepware.6.1.ua-endpoints" && !edge && r.Outcome == steps.NotApplicable) {
				t.Errorf("edge %t: %s: %s (%+v)", edge, r.StepID, r.Outcome, r.Before)
			}
		}
		for _, q := range sim.Requests() {
			if q.Status == 404 || q.Status >= 405 && q.Status != 0 {
				t.Errorf("edge %t: %s %s answered %d", edge, q.Method, q.Path, q.Status)
			}
		}
	}
}

func TestAuditWindowsServer(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{})
	s := audit(t, dev)
	if r := s.Result("kepware.6.1.ua-endpoints"); r.Outcome != steps.NotApplicable || !strings.Contains(r.Reason, "Configuration Manager") {
		t.Errorf("ua-endpoints on Kepware Server: %s %q", r.Outcome, r.Reason)
	}
}

func TestSHA1Certificate(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{SHA1Cert: true})
	s := audit(t, dev)
	r := s.Result("kepware.7.1.certificate")
	if r.Outcome != steps.Deviation || r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), "ECDSA-SHA1, a broken hash") {
		t.Fatalf("SHA-1 certificate: %s %+v", r.Outcome, r.Before)
	}
}

func planApply(t *testing.T, s *steps.Session[device.State], id string, in steps.Values) {
	t.Helper()
	if _, err := s.Plan(id, in); err != nil {
		t.Fatalf("plan %s: %v", id, err)
	}
	if err := s.Apply(context.Background(), id); err != nil {
		t.Fatalf("apply %s: %v", id, err)
	}
}

func TestScriptedSession(t *testing.T) {
	sim, dev := startKepware(t, simkepware.Config{Edge: true})
	ctx := context.Background()
	s := audit(t, dev)
	pw := "Str0ng-Kepware-Pass!"
	pwIn := func(extra steps.Values) steps.Values {
		extra["password"], extra["confirm"] = pw, pw
		return extra
	}
	// bad inputs first: each refused with a clear message, nothing sent
	if _, err := s.Plan("kepware.5.3.default-user", steps.Values{"password": "short", "confirm": "short"}); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("weak password: %v", err)
	}
	if _, err := s.Plan("kepware.6.1.ua-group", pwIn(steps.Values{"group": "Administrators UA", "user": "Administrator"})); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user: %v", err)
	}
	if _, err := s.Plan("kepware.6.4.rest-server-cors", steps.Values{"origins": "*"}); err == nil || !strings.Contains(err.Error(), "'*'") {
		t.Errorf("CORS *: %v", err)
	}
	planApply(t, s, "kepware.5.2.opc-da", nil)
	planApply(t, s, "kepware.5.3.default-user", pwIn(steps.Values{}))
	planApply(t, s, "kepware.5.3.server-users", nil)
	planApply(t, s, "kepware.6.1.ua-group", pwIn(steps.Values{"group": "OPC UA Clients", "user": "ua-client"}))
	planApply(t, s, "kepware.6.1.ua-endpoints", nil)
	planApply(t, s, "kepware.6.2.mqtt", pwIn(steps.Values{"agent": "Plant Broker", "url": "ssl://broker.plant.example:8883", "username": "kepware-pub"}))
	planApply(t, s, "kepware.6.3.rest-client", pwIn(steps.Values{"agent": "Historian", "url": "https://historian.plant.example/api", "username": "kepware-pub"}))
	planApply(t, s, "kepware.6.4.rest-group", pwIn(steps.Values{"group": "REST Server Clients", "user": "rest-client"}))
	planApply(t, s, "kepware.6.4.rest-server-write", nil)
	planApply(t, s, "kepware.6.4.rest-server-https", nil)
	planApply(t, s, "kepware.6.4.rest-server-cors", steps.Values{"origins": "https://hmi.plant.example"})
	planApply(t, s, "kepware.7.1.api-group", pwIn(steps.Values{"group": "Config API Users", "user": "config-api"}))
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !sim.Login("Default User", pw) || !sim.Login("ua-client", pw) || sim.Login("Default User", "") {
		t.Error("the new passwords do not work on the server")
	}
	// HTTP off is done by hand in the tray settings; the tool re-reads.
	if err := sim.SetHTTP(false); err != nil {
		t.Fatal(err)
	}
	if err := s.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inst := filepath.Join(dir, "kepserverex.exe")
	if err := os.WriteFile(inst, []byte("installer bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("installer bytes"))
	bad := steps.Values{"file": inst, "sha256": strings.Repeat("ab", 32)}
	if err := s.Attest(ctx, "kepware.4.1.installer", bad, ""); err == nil || !strings.Contains(err.Error(), "MISMATCH") {
		t.Errorf("installer mismatch not refused: %v", err)
	}
	for _, r := range s.Results() {
		if r.Meta.Kind != steps.Manual {
			continue
		}
		in := steps.Values{}
		switch r.StepID {
		case "kepware.4.1.installer":
			in = steps.Values{"file": inst, "sha256": hex.EncodeToString(sum[:])}
		case "kepware.8.1.upgrades":
			in = steps.Values{"owner": "OT security lead"}
		}
		if err := s.Attest(ctx, r.StepID, in, ""); err != nil {
			t.Errorf("attest %s: %v", r.StepID, err)
		}
	}
	if r := s.Result("kepware.4.1.installer"); !strings.Contains(r.Evidence, hex.EncodeToString(sum[:])) {
		t.Errorf("installer evidence %q", r.Evidence)
	}
	for _, r := range s.Results() {
		if !r.Outcome.Final() {
			t.Errorf("%s: %s (%s) %+v", r.StepID, r.Outcome, r.Reason, r.After)
		}
	}
	sec := s.State().SecurityEvents()
	if len(sec) == 0 {
		t.Error("no security events since commissioning began")
	}
	// the same kind of signed record as the NPort
	catalogtest.RecordSession(t, Catalog(), s, pw)
}

func TestStaleProjectID(t *testing.T) {
	sim, dev := startKepware(t, simkepware.Config{})
	s := audit(t, dev)
	sim.BumpProjectID() // another client changed the project
	if _, err := s.Plan("kepware.5.2.opc-da", nil); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(context.Background(), "kepware.5.2.opc-da")
	var stale *device.StaleProjectError
	if !errors.As(err, &stale) || stale.Now != sim.ProjectID() || !strings.Contains(err.Error(), "someone else changed") {
		t.Fatalf("stale PROJECT_ID: %v", err)
	}
	if r := s.Result("kepware.5.2.opc-da"); r.Outcome != steps.Failed {
		t.Errorf("outcome %s", r.Outcome)
	}
	// the driver read the new revision: a second try goes through
	if _, err := s.Plan("kepware.5.2.opc-da", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(context.Background(), "kepware.5.2.opc-da"); err != nil {
		t.Fatalf("retry after re-read: %v", err)
	}
}

// TestKepwareGuardKeepsOwnAccess_Simulator: a plan that disables the tool's own
// account, moves it out of Administrators or disables Administrators is
// refused by the catalog's guards, both directly and when the engine
// plans it; changes to other accounts pass.
func TestGuardKeepsOwnAccess_Simulator(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{Edge: true})
	base := audit(t, dev).State()
	runGuards := func(st device.State) error {
		for _, g := range Catalog().Guards {
			if err := g(st); err != nil {
				return err
			}
		}
		return nil
	}
	if err := runGuards(base); err != nil {
		t.Fatalf("the read state is refused: %v", err)
	}
	mutate := map[string]func(*device.State){
		"own account disabled": func(s *device.State) {
			for i := range s.Users {
				if s.Users[i].Name == s.User {
					s.Users[i].Enabled = false
				}
			}
		},
		"own account out of Administrators": func(s *device.State) {
			for i := range s.Users {
				if s.Users[i].Name == s.User {
					s.Users[i].Group = device.GroupServerUsers
				}
			}
		},
		"Administrators disabled": func(s *device.State) {
			for i := range s.Groups {
				if s.Groups[i].Name == device.GroupAdministrators {
					s.Groups[i].Enabled = false
				}
			}
		},
	}
	for name, m := range mutate {
		st := base.Clone()
		m(&st)
		if err := runGuards(st); err == nil {
			t.Errorf("%s: not refused", name)
		}
		// through the engine: a step whose plan does it is refused, nothing sent
		cat := Catalog()
		cat.Steps = append(cat.Steps, steps.Step[device.State]{
			Meta:  steps.Meta{ID: "kepware.test.lockout", Section: "5.3", Group: "accounts", Title: "t", Why: "t", SRs: []string{"SR 1.1"}, Kind: steps.Automatic},
			Check: func(device.State) steps.Finding { return steps.Finding{Applicable: true} },
			Plan: func(device.State, steps.Values) (steps.Plan[device.State], error) {
				return steps.Plan[device.State]{Changes: []steps.Change{{Setting: name}}, Mutate: func(d *device.State) error { m(d); return nil }}, nil
			},
		})
		s := steps.NewSession(cat, dev, nil)
		if err := s.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, perr := s.Plan("kepware.test.lockout", nil)
		aerr := error(nil)
		if perr == nil {
			aerr = s.Apply(context.Background(), "kepware.test.lockout")
		}
		if perr == nil && aerr == nil {
			t.Errorf("%s: the engine planned and applied it", name)
		}
	}
	// changing another account is allowed
	st := base.Clone()
	for i := range st.Users {
		if st.Users[i].Name == device.UserDefault {
			st.Users[i].Enabled = false
		}
	}
	if err := runGuards(st); err != nil {
		t.Errorf("another account: %v", err)
	}
}

// TestKepwareRESTWriteEndpoint_Simulator: a REST Server that accepts writes is a
// deviation; the fix turns the write endpoint off on the server.
func TestRESTWriteEndpoint_Simulator(t *testing.T) {
	sim, dev := startKepware(t, simkepware.Config{})
	s := audit(t, dev)
	r := s.Result("kepware.6.4.rest-server-write")
	if r.Outcome != steps.Deviation || !strings.Contains(r.Before.Observed, "writes accepted") || r.Meta.Section != "6.4.1" {
		t.Fatalf("write endpoint: %s %+v", r.Outcome, r.Before)
	}
	planApply(t, s, "kepware.6.4.rest-server-write", nil)
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := s.Result("kepware.6.4.rest-server-write"); r.Outcome != steps.Fixed {
		t.Errorf("after the fix: %s %+v", r.Outcome, r.After)
	}
	var sent bool
	for _, q := range sim.Requests() {
		if b, ok := q.Body.(map[string]any); ok && q.Method == "PUT" && b["iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT"] == false {
			sent = true
		}
	}
	if !sent {
		t.Error("the write endpoint was not turned off on the server")
	}
}

// TestKepwareCertificateRules_Simulator: an expired, SHA-1 or 1024-bit RSA
// certificate is a deviation that says why.
func TestCertificateRules_Simulator(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  simkepware.Config
		want string
	}{
		"expired":  {simkepware.Config{CertExpired: true}, "expired on"},
		"SHA-1":    {simkepware.Config{SHA1Cert: true, CertRSABits: 2048}, "SHA1-RSA"},
		"1024-bit": {simkepware.Config{CertRSABits: 1024}, "1024-bit RSA key"},
	} {
		_, dev := startKepware(t, c.cfg)
		r := audit(t, dev).Result("kepware.7.1.certificate")
		if r.Outcome != steps.Deviation || r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), c.want) {
			t.Errorf("%s: %s %+v", name, r.Outcome, r.Before)
		}
	}
	_, dev := startKepware(t, simkepware.Config{CertRSABits: 2048})
	r := audit(t, dev).Result("kepware.7.1.certificate")
	if r.Outcome != steps.Compliant || !strings.Contains(r.Before.Observed, "RSA 2048-bit key") || !strings.Contains(r.Before.Observed, "SHA-256 ") {
		t.Errorf("good RSA certificate: %s %+v", r.Outcome, r.Before)
	}
}

// TestKepwareWordingSaysWhenChangesTakeEffect: Kepware applies at once;
// no step speaks of a restart or of serial links, and every step that
// changes the server says what the change interrupts.
func TestWordingSaysWhenChangesTakeEffect(t *testing.T) {
	for _, st := range Catalog().Steps {
		text := strings.ToLower(st.Title + " " + st.Why + " " + st.Caution + " " + st.Attest)
		if strings.Contains(text, "restart") || strings.Contains(text, "serial") || strings.Contains(text, "reboot") {
			t.Errorf("%s speaks of a restart or serial links: %q", st.ID, st.Caution)
		}
		if st.Plan != nil && !strings.Contains(st.Caution, "at once") {
			t.Errorf("%s changes the server but does not say when the change takes effect: %q", st.ID, st.Caution)
		}
	}
	tm := Timing()
	for _, text := range []string{tm.Apply, tm.Commit, tm.Delete} {
		low := strings.ToLower(text)
		if strings.Contains(low, "serial") || strings.Contains(low, "at the restart") || !strings.Contains(low, "at once") && !strings.Contains(low, "nothing restarts") {
			t.Errorf("timing %q", text)
		}
	}
}

// TestKepwareEventLogSaysWhenItStopped_Simulator: the event log step
// says whether the whole window was read, and when the paging stopped.
func TestEventLogSaysWhenItStopped_Simulator(t *testing.T) {
	sim, dev := startKepware(t, simkepware.Config{})
	r := audit(t, dev).Result("kepware.7.1.event-log")
	if r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), "the whole event log since") {
		t.Errorf("complete read: %+v", r.Before)
	}
	at := time.Now().Add(-30 * time.Second)
	for i := range 2100 {
		sim.AddEvent(at.Add(time.Duration(i)*time.Millisecond), "Security", "Test", "failed login")
	}
	r = audit(t, dev).Result("kepware.7.1.event-log")
	if r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), "not the whole window: stopped after 10 pages") {
		t.Errorf("bounded read: %+v", r.Before)
	}
}

// TestDeletesMarksRemovals_Simulator: of every change the catalog plans
// on a factory Kepware Edge, only revoking the Server Users permissions
// removes something from the server, and only it is marked Deletes; the
// rest switch settings, set passwords or create groups and users.
func TestDeletesMarksRemovals_Simulator(t *testing.T) {
	_, dev := startKepware(t, simkepware.Config{Edge: true})
	s := audit(t, dev)
	pw := "Str0ng-Kepware-Pass!"
	in := map[string]steps.Values{
		"kepware.6.2.mqtt":             {"url": "ssl://broker.plant.example:8883", "username": "kepware-pub"},
		"kepware.6.3.rest-client":      {"url": "https://historian.plant.example/api", "username": "kepware-pub"},
		"kepware.6.4.rest-server-cors": {"origins": "https://hmi.plant.example"},
	}
	var deleting []string
	planned := 0
	for _, st := range Catalog().Steps {
		if st.Plan == nil {
			continue
		}
		v := s.Defaults(st.ID)
		for k, x := range in[st.ID] {
			v[k] = x
		}
		v["password"], v["confirm"] = pw, pw
		ch, err := s.Plan(st.ID, v)
		if err != nil {
			t.Fatalf("plan %s: %v", st.ID, err)
		}
		planned++
		for _, c := range ch {
			if c.Deletes && !slices.Contains(deleting, st.ID) {
				deleting = append(deleting, st.ID)
			}
		}
		if err := s.Cancel(st.ID); err != nil {
			t.Fatal(err)
		}
	}
	if planned < 10 || !slices.Equal(deleting, []string{"kepware.5.3.server-users"}) {
		t.Errorf("%d steps planned; marked as deleting: %v", planned, deleting)
	}
}

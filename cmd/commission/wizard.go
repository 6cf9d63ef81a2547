package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/siteplan"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

const wizardHelp = `Usage: commission [wizard] [flags]

Opens the guided wizard: pick a device (typed by address, given with
--address, or found on the local network when you ask for it with "d" on
the device list), log in, walk every step of its hardening guide, restart
it once to apply the changes, and write the commissioning record.

Nothing is sent before you choose a device or ask for discovery. Discovery
sends each family's discovery request (the screen says what, before you
say yes) from the interface you pick, to that interface's broadcast
address (or --broadcast); --no-discover turns it off, as scripts and
plants that alarm on broadcasts want.

--address HOST:PORT sends PORT to the family's main service (the HTTPS
console or API); the other services keep their ports unless --port says
otherwise. A typed address in the wizard takes the same forms.

The wizard draws on stderr. Every step is journaled as it happens, so a
crash or a closed laptop resumes where it stopped.

Flags:
`

// defaultBroadcast is where discovery goes without a chosen interface.
const defaultBroadcast = "255.255.255.255"

// app holds what the wizard needs beyond the device: where pins, journals
// and records live, and how to find devices.
type app struct {
	pins       *transport.PinStore
	journalDir string
	outDir     string
	timeout    time.Duration
	// known are devices listed at start without sending anything.
	known []tui.Candidate
	// discover looks for devices, only when the technician asks; nil
	// turns discovery off. ports gives per-family port overrides.
	discover func(ctx context.Context, from tui.Interface) ([]tui.Candidate, error)
	// discoverSends says what one discovery sends, for the confirm screen.
	discoverSends string
	ports         func(family, address string) map[string]int
	started       time.Time
	mode          string
	keyFile       string // --key; empty: ssh-agent, then the usual key files
	// newKey is where a new signing key goes when the technician agrees.
	newKey string
	// simulated marks a demo session: its record says SIMULATED DEVICE.
	simulated bool
	// plan, when set, fills the steps' inputs (--plan); the record names it.
	plan *siteplan.Plan
}

func (a *app) newKeyPath() string {
	if a.newKey != "" {
		return a.newKey
	}
	p, _ := keys.DefaultNewKeyPath()
	return p
}

func runWizard(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	a, err := newWizardApp(args, stderr)
	if err != nil || a == nil {
		return err
	}
	return a.runTUI(ctx, stdin, stdout, stderr)
}

// newWizardApp reads the wizard's flags; a nil app and error is --help.
func newWizardApp(args []string, stderr io.Writer) (*app, error) {
	fs := flag.NewFlagSet("wizard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), wizardHelp); fs.PrintDefaults() }
	out := fs.String("out", "commission-records", "folder for the record bundles")
	pinsPath := fs.String("pins", "", "file of pinned TLS fingerprints (default: the user's commission config folder)")
	timeout := fs.Duration("timeout", 2*time.Second, "timeout for each network operation")
	keyFile := fs.String("key", "", "private key file that signs the record (default: ssh-agent, then ~/.ssh/id_ed25519, id_rsa)")
	family := fs.String("device", "", "with --address: the device family ("+strings.Join(families, ", ")+")")
	address := fs.String("address", "", "the device to commission, HOST or HOST:PORT (PORT goes to its HTTPS console or API); listed at start")
	noDiscover := fs.Bool("no-discover", false, "never send a discovery broadcast (the device is typed or given with --address)")
	planPath := fs.String("plan", "", "site plan (commission plan init) whose values fill the steps' inputs; the record names it by its SHA-256")
	broadcast := fs.String("broadcast", defaultBroadcast, "where discovery sends when no interface is chosen: an IPv4 address, or ADDRESS:PORT to send every family's discovery to that port")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, withCode(ExitError, err)
	}
	if len(rest) > 0 {
		return nil, usageErr("the wizard takes no arguments, only flags (got %q)", rest[0])
	}
	var known []tui.Candidate
	if *address != "" || *family != "" {
		if *address == "" || *family == "" {
			return nil, usageErr("--address and --device go together: give the device's family and address")
		}
		if _, ok := lookupFamily(*family); !ok {
			return nil, usageErr("unknown device family %q: use one of %s", *family, strings.Join(families, ", "))
		}
		if _, _, err := parseAddress(*address); err != nil {
			return nil, withCode(ExitError, err)
		}
		known = []tui.Candidate{{Family: *family, Address: *address, Label: *address, Detail: "given with --address"}}
	}
	if host, _, err := parseAddress(*broadcast); err != nil || net.ParseIP(host) == nil || net.ParseIP(host).To4() == nil {
		return nil, usageErr("--broadcast %q: give an IPv4 address, such as 192.168.127.255, optionally with :PORT", *broadcast)
	}
	var plan *siteplan.Plan
	if *planPath != "" {
		if plan, err = planSchema().Load(*planPath); err != nil {
			return nil, withCode(ExitError, fmt.Errorf("the site plan cannot be used: %w (commission plan check %s lists every problem)", err, *planPath))
		}
	}
	pins, err := openPins(*pinsPath)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	jdir, err := record.DefaultDir()
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("prepare the session journal folder: %w", err))
	}
	a := &app{pins: pins, journalDir: jdir, outDir: *out, timeout: *timeout, mode: "wizard", keyFile: *keyFile,
		known: known, ports: func(string, string) map[string]int { return nil }, plan: plan}
	if !*noDiscover {
		a.discover = discovery(*broadcast, 2*time.Second)
		a.discoverSends = discoverySends(*broadcast)
	}
	return a, nil
}

// discovery runs every family's discovery, when the technician asks for
// it: from the chosen interface's address to its directed broadcast
// address, or to fallback without one. fallback may carry a port, which
// then replaces each family's own; it is a parameter so that tests use
// loopback.
func discovery(fallback string, wait time.Duration) func(ctx context.Context, from tui.Interface) ([]tui.Candidate, error) {
	return func(ctx context.Context, from tui.Interface) ([]tui.Candidate, error) {
		host, port, _ := parseAddress(fallback)
		if b := interfaceBroadcast(from); b != "" {
			host = b
		}
		var (
			mu   sync.Mutex
			cs   []tui.Candidate
			errs []error
			wg   sync.WaitGroup
		)
		for _, f := range registry {
			if f.Discovery == nil {
				continue
			}
			p := f.Discovery.Port
			if port != 0 {
				p = port
			}
			dst := net.JoinHostPort(host, strconv.Itoa(p))
			wg.Go(func() {
				found, err := f.Discovery.Find(ctx, from.Address, []string{dst}, wait)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s discovery: %w", f.Label, err))
				}
				for _, d := range found {
					cs = append(cs, tui.Candidate{Family: f.Name, Label: d.Label, Address: d.Address, Detail: "via " + dst + ", " + d.Detail})
				}
			})
		}
		wg.Wait()
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Address < cs[j].Address })
		return cs, errors.Join(errs...)
	}
}

// discoverySends says what one discovery sends, family by family.
func discoverySends(fallback string) string {
	var parts []string
	for _, f := range registry {
		if f.Discovery != nil {
			parts = append(parts, f.Label+": "+f.Discovery.Sends)
		}
	}
	return strings.Join(parts, "; ") + ". It goes from the interface you pick to its broadcast address, or to " + fallback + " when you pick none"
}

// interfaceBroadcast is the directed broadcast address of the interface
// whose IPv4 address is from.Address ("" when it has none).
func interfaceBroadcast(from tui.Interface) string {
	if from.Address == "" {
		return ""
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || ipn.IP.String() != from.Address {
				continue
			}
			ip, mask := ipn.IP.To4(), net.IP(ipn.Mask).To4()
			if mask == nil {
				return ""
			}
			b := make(net.IP, 4)
			for i := range b {
				b[i] = ip[i] | ^mask[i]
			}
			return b.String()
		}
	}
	return ""
}

// localInterfaces lists the up, broadcast-capable IPv4 interfaces that
// discovery may send from.
func localInterfaces() ([]tui.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list the network interfaces: %w", err)
	}
	var out []tui.Interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagBroadcast == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok && ipn.IP.To4() != nil {
				out = append(out, tui.Interface{Name: ifc.Name, Address: ipn.IP.String()})
			}
		}
	}
	return out, nil
}

// config wires the wizard to this app.
func (a *app) config() tui.Config {
	cfg := tui.Config{
		Known:    a.known,
		Families: families,
		Connect:  a.connect,
		Trust:    a.pins.Trust,
		Finish:   a.finish,
		SigningKey: func() tui.KeyStatus {
			ks := keyStatus(a.keyFile)
			if !ks.Found && a.newKey != "" {
				ks.CreatePath = a.newKey
			}
			return ks
		},
		Version: version,
		NoColor: os.Getenv("NO_COLOR") != "",
		// Read for the connected family once the session is open, not before the first frame.
		TimingOf: timingOf,
		// A record with open steps is signed only with a reason: the
		// wizard asks for it again when Finish says it is missing.
		ErrNeedsReason: record.ErrIncompleteNoReason,
	}
	if a.discover != nil {
		cfg.Discover = a.discover
		cfg.Interfaces = localInterfaces
		cfg.DiscoverSends = a.discoverSends
	}
	if offer, err := a.resumeOffer(); err == nil && offer != nil {
		cfg.Resume = offer
	}
	return cfg
}

// runTUI runs the wizard on stderr and prints the outcome on stdout.
func (a *app) runTUI(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	sum, err := tui.Run(ctx, a.config(), stdin, stderr)
	fmt.Fprintln(stdout, sum.String())
	return wizardOutcome(sum, err)
}

// wizardOutcome is the exit status of a wizard session: a STOP on a
// changed certificate or host key ends with ExitTrustChanged.
func wizardOutcome(sum tui.Summary, err error) error {
	switch {
	case sum.Stopped || errors.Is(err, tui.ErrTrustChanged):
		if err == nil {
			err = tui.ErrTrustChanged
		}
		return withCode(ExitTrustChanged, fmt.Errorf("the session stopped: %w", err))
	case err != nil:
		return withCode(ExitError, err)
	}
	return nil
}

// resumeOffer finds the newest unfinished session journal.
func (a *app) resumeOffer() (*tui.ResumeOffer, error) {
	us, err := record.FindUnfinished(a.journalDir)
	if err != nil || len(us) == 0 {
		return nil, err
	}
	// The newest journal with a readable header; the others that are
	// damaged beyond resume are named, never skipped in silence.
	var u *record.Unfinished
	var lost []string
	for i := range us {
		if d := us[i].Damage; d != nil && d.Line <= 1 {
			lost = append(lost, us[i].Path)
			continue
		}
		if u == nil {
			u = &us[i]
		}
	}
	if u == nil {
		return &tui.ResumeOffer{Label: "damaged session journals that cannot be resumed: " + strings.Join(lost, ", ")}, nil
	}
	label := fmt.Sprintf("%s at %s, started %s, %d steps decided", u.Header.Family, u.Header.Address, u.Header.Started.Local().Format("2006-01-02 15:04"), u.Decided)
	if n := len(u.AwaitingRestart); n > 0 {
		label += fmt.Sprintf("; %d changes were sent and still await the restart", n)
	}
	if u.Damage != nil {
		label += "; " + u.Damage.Error() + " (resume continues from there)"
	}
	if len(lost) > 0 {
		label += "; cannot be resumed: " + strings.Join(lost, ", ")
	}
	return &tui.ResumeOffer{
		Label:  label,
		Target: tui.Target{Family: u.Header.Family, Address: u.Header.Address},
		Path:   u.Path,
	}, nil
}

// connect opens a session on the target with a journal beside it.
func (a *app) connect(ctx context.Context, t tui.Target, rep steps.Reporter) (tui.Session, error) {
	f, ok := lookupFamily(t.Family)
	if !ok {
		return nil, fmt.Errorf("unknown device family %q", t.Family)
	}
	host, port, err := parseAddress(t.Address)
	if err != nil {
		return nil, err
	}
	ports, err := targetPorts(f, port, a.ports(t.Family, t.Address))
	if err != nil {
		return nil, err
	}
	tg := target{Family: t.Family, Address: host, User: t.User, Password: t.Password, NewPassword: t.NewPassword,
		Ports: ports, Pins: a.pins, Timeout: a.timeout}
	var restored []steps.Result
	var j *record.Journal
	_, guide, err := stepMetas(t.Family)
	if err != nil {
		return nil, err
	}
	if t.ResumePath != "" {
		if _, err := os.Stat(t.ResumePath); err != nil {
			return nil, fmt.Errorf("the unfinished session's journal is gone: %w", err)
		}
		var damage *record.DamagedError
		_, restored, damage, err = record.ReplayPartial(t.ResumePath)
		if err != nil {
			return nil, fmt.Errorf("read the unfinished session: %w", err)
		}
		if damage != nil {
			j, err = record.ResumeDamaged(t.ResumePath) // the offer named the damage
		} else {
			j, err = record.OpenJournal(t.ResumePath)
		}
	} else {
		j, err = record.CreateJournal(a.journalDir, record.Header{Family: t.Family, Address: t.Address, Guide: guide, Started: time.Now().UTC()})
	}
	if err != nil {
		return nil, fmt.Errorf("open the session journal: %w", err)
	}
	tg.Since = j.Header().Started
	eng, err := newEngine(tg, steps.Reporters{rep, j})
	if err != nil {
		j.Close()
		return nil, err
	}
	if a.plan != nil {
		eng = &plannedEngine{engine: eng, plan: a.plan}
	}
	eng.Restore(restored)
	if err := eng.Open(ctx); err != nil {
		j.Close()
		if t.ResumePath == "" {
			os.Remove(j.Path())
		}
		return nil, err
	}
	a.started = j.Header().Started
	return &journaled{engine: eng, j: j}, nil
}

// journaled closes the journal when the session closes.
type journaled struct {
	engine
	j *record.Journal
}

// FromPlan is what the site plan gives for a step (nil without --plan),
// so that the wizard marks those inputs "from the site plan".
func (s *journaled) FromPlan(id string) steps.Values {
	if p, ok := s.engine.(*plannedEngine); ok {
		return p.FromPlan(id)
	}
	return nil
}

func (s *journaled) Close() {
	s.engine.Close()
	s.j.Close()
}

// finish writes the record bundle of a wizard session.
func (a *app) finish(ctx context.Context, s tui.Session, f tui.FinishInfo) (tui.FinishResult, error) {
	eng, ok := s.(*journaled)
	if !ok {
		return tui.FinishResult{}, errors.New("internal: unexpected session type")
	}
	// The observations are taken before the session is stamped finished,
	// so that no time the record holds is after Finished.
	facts := evidenceOf(eng)
	meta := record.Meta{
		Tool: record.Tool{Name: "commission", Version: version}, Mode: a.mode,
		Device: eng.Identity(), Guide: eng.Guide(),
		Technician: record.Technician{Name: f.Technician, Email: f.Email, Company: f.Company}, Site: f.Site,
		Simulated: a.simulated,
		Started:   a.started, Finished: time.Now().UTC(),
		Observations: facts.Observations, Restarted: facts.Restarted,
		IncompleteReason: f.IncompleteReason,
	}
	if f.AcceptedBy != "" {
		meta.Acceptance = &record.Acceptance{Name: f.AcceptedBy, Role: f.AcceptedRole}
	}
	if len(f.Waivers) > 0 {
		meta.Waivers = make(map[string]record.Waiver, len(f.Waivers))
		for id, w := range f.Waivers {
			meta.Waivers[id] = record.Waiver{Approver: w.Approver, Expires: w.Expires}
		}
	}
	if a.plan != nil {
		meta.Plan = &record.Plan{Name: filepath.Base(a.plan.Name()), SHA256: a.plan.Digest()}
		meta.PlanValues = a.plan.FamilyValues(eng.Family())
	}
	rec := record.Build(meta, eng.Results(), eng.Steps())
	if errs := record.Check(rec, eng.Steps()); len(errs) > 0 {
		return tui.FinishResult{}, fmt.Errorf("the record is not consistent, so it was not written: %w", errors.Join(errs...))
	}
	if err := eng.j.Err(); err != nil {
		return tui.FinishResult{}, fmt.Errorf("the session journal could not be written: %w", err)
	}
	sg := signing{KeyFile: a.keyFile, Identity: f.Email, Passphrase: []byte(f.Passphrase)}
	if f.CreateKey {
		sg.CreateAt = a.newKeyPath()
	}
	dir, err := writeBundle(a.outDir, rec, facts, sg)
	if err != nil {
		return tui.FinishResult{}, err
	}
	eng.Close()
	return tui.FinishResult{Dir: dir, VerifyCommand: verifyCommand(dir)}, nil
}

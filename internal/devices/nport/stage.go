package nport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transport"
)

// Stage submits the pages whose fields differ between from and to (one
// submit per page), then the account changes: additions (password from
// to.Secrets), password, active and level changes, deletions. It never
// restarts the device. It stops at the first error, wrapped with the
// page's name.
func (d *Driver) Stage(ctx context.Context, from, to State) error {
	s, err := d.ensure(ctx)
	if err != nil {
		return err
	}
	for _, sp := range settingsPages(s.serialPorts()) {
		if !sp.differs(from, to) {
			continue
		}
		p, err := s.open(ctx, sp.menu)
		if err != nil {
			return fmt.Errorf("%s: %w", sp.menu, err)
		}
		f, err := settingsForm(p, sp.menu)
		if err != nil {
			return err
		}
		if err := sp.set(f, to); err != nil {
			return fmt.Errorf("%s: %w", sp.menu, err)
		}
		if _, err := s.submit(ctx, p, f, quirks.Submit, sp.menu); err != nil {
			return err
		}
		// the proof is a fresh read of the page, never a marker string
		if err := d.reread(ctx, s, sp, to); err != nil {
			return err
		}
	}
	return d.stageAccounts(ctx, s, from, to)
}

// reread opens the page again and checks that it now shows to.
func (d *Driver) reread(ctx context.Context, s *session, sp settingsPage, to State) error {
	p, err := s.open(ctx, sp.menu)
	if err != nil {
		return fmt.Errorf("%s: read back after the submit: %w", sp.menu, err)
	}
	f, err := settingsForm(p, sp.menu)
	if err != nil {
		return err
	}
	var got State
	got.Ports = nil
	if err := sp.read(f, &got); err != nil {
		return fmt.Errorf("%s: read back after the submit: %w", sp.menu, err)
	}
	want := to.Clone()
	want.Ports = nil
	for _, pt := range to.Ports {
		if slices.ContainsFunc(got.Ports, func(g SerialPort) bool { return g.Number == pt.Number }) {
			want.Ports = append(want.Ports, pt)
		}
	}
	if sp.differs(got, want) {
		return fmt.Errorf("%s: the device answered the submit but the page still shows the old values: the change did not take", sp.menu)
	}
	return nil
}

func (d *Driver) stageAccounts(ctx context.Context, s *session, from, to State) error {
	for _, a := range to.Accounts {
		old, exists := from.Account(a.Name)
		pw, hasPW := to.Secrets[a.Name]
		var err error
		switch {
		case a.Delete && exists:
			err = d.deleteAccount(ctx, s, a.Name)
		case a.Delete:
			continue
		case !exists:
			if !hasPW {
				return fmt.Errorf("add account %q: no password given", a.Name)
			}
			err = d.addAccount(ctx, s, a, pw)
		case hasPW && s.prof.PasswordPage != "" && a.Name == s.user:
			// the generation's own-password page (GA: ChPassword.htm)
			err = d.changeOwnPassword(ctx, s, pw)
			switch {
			case errors.Is(err, errNoPasswordPage):
				// this unit has no such page: the User Account page, as the guide shows
				err = d.editAccount(ctx, s, a, pw, true)
			case err == nil && (old.Active != a.Active || old.Admin != a.Admin):
				err = d.editAccount(ctx, s, a, "", false)
			}
		case hasPW || old.Active != a.Active || old.Admin != a.Admin:
			err = d.editAccount(ctx, s, a, pw, hasPW)
		default:
			continue
		}
		if err != nil {
			return err
		}
		d.mu.Lock()
		if a.Name == defaultUser {
			d.defLog = nil
		}
		switch {
		case a.Delete:
		case hasPW && !exists && a.Admin && a.Active:
			// a personal admin account is the preferred login after Commit
			d.pending = append([]cred{{a.Name, pw}}, d.pending...)
		case hasPW && a.Name == d.o.User:
			d.pending = append(d.pending, cred{a.Name, pw})
		}
		d.mu.Unlock()
	}
	return nil
}

func (d *Driver) accountsPage(ctx context.Context, s *session) (*page, error) {
	return s.open(ctx, quirks.MenuAccounts)
}

// toolbar follows the User Account toolbar's action (Add, Edit, Delete)
// for the row of account ("" for none), as the guide describes: a row is
// selected, then the toolbar acts on it. A table whose account names are
// links is also understood (the link opens the edit page).
func (d *Driver) toolbar(ctx context.Context, s *session, list *page, action, account string) (*page, error) {
	if account != "" {
		if rowSelect(list, account) {
			if f, ok := list.formWithSubmit(action); ok {
				return s.submit(ctx, list, f, action, quirks.MenuAccounts+" "+action)
			}
		}
	}
	if f, ok := list.formWithSubmit(action); ok && account == "" {
		return s.submit(ctx, list, f, action, quirks.MenuAccounts+" "+action)
	}
	if account == "" {
		href, ok := list.link(action)
		if !ok {
			return nil, fmt.Errorf("no %q button or link on %s", action, quirks.MenuAccounts)
		}
		u, err := list.resolve(href)
		if err != nil {
			return nil, err
		}
		return s.get(ctx, u)
	}
	u, err := accountLink(list, account)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, u)
}

// rowSelect checks the selection control (radio or checkbox) in the row
// of account and clears the others; false when the table has none.
func rowSelect(p *page, account string) bool {
	rows, _, ni, _, err := accountsTable(p)
	if err != nil {
		return false
	}
	var sel *control
	var all []*control
	for _, r := range rows {
		if len(r) <= ni {
			continue
		}
		for _, c := range r {
			for _, ctl := range c.Controls {
				if ctl.Type == "radio" && !ctl.Disabled && ctl.Name != "" {
					all = append(all, ctl)
					if printable.String(r[ni].Text) == account {
						sel = ctl
					}
				}
			}
		}
	}
	if sel == nil {
		return false
	}
	for _, c := range all {
		c.Checked = c == sel
	}
	return true
}

// accountChanged re-reads the User Account table and checks that ok
// holds for the named account (absent: nil account).
func (d *Driver) accountChanged(ctx context.Context, s *session, name, what string, ok func(a *Account) bool) error {
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return fmt.Errorf("%s: read back: %w", what, err)
	}
	accs, err := readAccounts(list)
	if err != nil {
		return fmt.Errorf("%s: read back: %w", what, err)
	}
	var a *Account
	for i := range accs {
		if accs[i].Name == name {
			a = &accs[i]
		}
	}
	if !ok(a) {
		return fmt.Errorf("%s: the device answered but the User Account table does not show the change", what)
	}
	return nil
}

func (d *Driver) addAccount(ctx context.Context, s *session, a Account, pw string) error {
	name := "Add account " + a.Name
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p, err := d.toolbar(ctx, s, list, quirks.Add, "")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f, err := settingsForm(p, name)
	if err != nil {
		return err
	}
	level := quirks.ReadOnly
	if a.Admin {
		level = quirks.ReadWrite
	}
	if err := errors.Join(f.setText(quirks.EditName, a.Name), f.setText(quirks.Password, pw),
		f.setText(quirks.Confirm, pw), f.setChoice(quirks.AccLevel, level)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err = s.submit(ctx, p, f, quirks.Submit, name); err != nil {
		return err
	}
	return d.accountChanged(ctx, s, a.Name, name, func(x *Account) bool { return x != nil && x.Admin == a.Admin })
}

func (d *Driver) editPage(ctx context.Context, s *session, account, name string) (*page, error) {
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, err := d.toolbar(ctx, s, list, quirks.Edit, account)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

func (d *Driver) editAccount(ctx context.Context, s *session, a Account, pw string, hasPW bool) error {
	name := "Edit account " + a.Name
	p, err := d.editPage(ctx, s, a.Name, name)
	if err != nil {
		return err
	}
	f, err := settingsForm(p, name)
	if err != nil {
		return err
	}
	level := quirks.ReadOnly
	if a.Admin {
		level = quirks.ReadWrite
	}
	errs := []error{f.setEnabled(quirks.EditActive, a.Active), f.setChoice(quirks.AccLevel, level)}
	if hasPW {
		errs = append(errs, f.setEnabled(quirks.ChangePassword, true), f.setText(quirks.Password, pw), f.setText(quirks.Confirm, pw))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err = s.submit(ctx, p, f, quirks.Submit, name); err != nil {
		return err
	}
	return d.accountChanged(ctx, s, a.Name, name, func(x *Account) bool { return x != nil && x.Active == a.Active && x.Admin == a.Admin })
}

// changeOwnPassword changes the logged-in user's password on the
// profile's password page: the form holding the old- and new-password
// fields is filled as its page script would (the visible password inputs
// sent empty) and submitted with the form's own method. The new password
// takes effect at Save/Restart; the login after the restart proves it.
// errNoPasswordPage is a profile's password page that the unit does not serve.
var errNoPasswordPage = errors.New("the unit has no own-password page")

func (d *Driver) changeOwnPassword(ctx context.Context, s *session, pw string) error {
	pr := s.prof
	name := "Change password of " + s.user
	ref, err := url.Parse(pr.PasswordPage)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	resp, p, err := s.fetch(ctx, s.base.ResolveReference(ref).String())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch resp.Status {
	case http.StatusOK:
	case http.StatusNotFound:
		return errNoPasswordPage
	default:
		return fmt.Errorf("%s: %s: HTTP status %d", name, pr.PasswordPage, resp.Status)
	}
	if s.sessionGone(p) {
		return fmt.Errorf("%s: %w (the login page came back)", name, errSessionEnded)
	}
	var f *form
	for _, cand := range p.Forms {
		_, okOld := formControl(cand, pr.OldHashField)
		_, okNew := formControl(cand, pr.NewHashField)
		if okOld && okNew {
			f = cand
			break
		}
	}
	if f == nil {
		return fmt.Errorf("%s: %s has no form with %s and %s: the page differs from what this tool knows, so nothing was changed; run `commission capture` and send the transcript",
			name, pr.PasswordPage, pr.OldHashField, pr.NewHashField)
	}
	// the old password is the one saved last: a password staged before
	// (by an earlier step) has replaced the one the driver logged in with
	d.mu.Lock()
	oldPW := d.o.Password
	for _, c := range d.pending {
		if c.user == s.user {
			oldPW = c.password
		}
	}
	d.mu.Unlock()
	oldHash, newHash, err := pr.passwordAnswer(oldPW, pw)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.rec.Secret(pw, oldHash, newHash)
	for _, c := range f.Controls {
		switch {
		case c.Name == pr.OldHashField:
			c.Value = oldHash
		case c.Name == pr.NewHashField:
			c.Value = newHash
		case c.Type == "password":
			c.Value = "" // the page script empties the visible inputs
		}
	}
	_, err = s.submit(ctx, p, f, quirks.Submit, name)
	return err
}

func (d *Driver) deleteAccount(ctx context.Context, s *session, account string) error {
	name := "Delete account " + account
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if rowSelect(list, account) {
		if f, ok := list.formWithSubmit(quirks.Delete); ok {
			if _, err := s.submit(ctx, list, f, quirks.Delete, name); err != nil {
				return err
			}
			return d.accountChanged(ctx, s, account, name, func(x *Account) bool { return x == nil })
		}
	}
	p, err := d.editPage(ctx, s, account, name)
	if err != nil {
		return err
	}
	f, ok := p.formWithSubmit(quirks.Delete)
	if !ok {
		return fmt.Errorf("%s: no %q button", name, quirks.Delete)
	}
	if _, err = s.submit(ctx, p, f, quirks.Delete, name); err != nil {
		return err
	}
	return d.accountChanged(ctx, s, account, name, func(x *Account) bool { return x == nil })
}

// Commit runs Save/Restart, waits (at most Options.RestartWait) for the
// device to restart and answer again, then logs in with the credentials
// Stage set (a personal admin account first, else the current user's new
// password, else the old credentials) and so proves them.
func (d *Driver) Commit(ctx context.Context, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	s, err := d.ensure(ctx)
	if err != nil {
		return err
	}
	p, err := s.open(ctx, quirks.MenuSaveRestart)
	if err != nil {
		return fmt.Errorf("%s: %w", quirks.MenuSaveRestart, err)
	}
	f, err := saveRestartForm(p)
	if err != nil {
		return err
	}
	progress("saving and restarting")
	if _, err := s.submit(ctx, p, f, quirks.SaveRestart, quirks.MenuSaveRestart); err != nil && !closedAtOnce(err) {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.RestartWait)
	defer cancel()
	start := time.Now()
	// the poll interval is derived from the measured round trip, so that
	// the device is seen back within a few of them of its serving again
	tick := time.NewTicker(pollEvery(d.rtt.get(), d.o.Timeout))
	defer tick.Stop()
	lastShown := time.Duration(0)
	var lastErr error
	wait := func() error {
		select {
		case <-ctx.Done():
			if lastErr != nil && closedAtOnce(lastErr) {
				return fmt.Errorf("the device came back but closes every connection from this laptop (%v): the Accessible IP list may not cover this laptop; reach it from an allowed host or reset it", lastErr)
			}
			return fmt.Errorf("the device did not come back within %s after Save/Restart: check its power and cable, then read it again", d.o.RestartWait)
		case <-tick.C:
		}
		if el := time.Since(start).Truncate(time.Second); el >= lastShown+time.Second {
			lastShown = el
			progress(fmt.Sprintf("waiting for the device: %s", el))
		}
		return nil
	}
	// 1. wait until the old session is gone (the device restarted). Only
	// a sign of the restart counts: the login page instead of the old
	// session, a refused or reset connection. A request that merely timed
	// out (a busy laptop, a slow link) proves nothing: logging in again
	// then could land before the restart and read settings not in effect.
	for {
		_, err := s.open(ctx, quirks.MenuOverview)
		if wentDown(err) {
			break
		}
		if err := wait(); err != nil {
			return err
		}
	}
	d.drop()
	// 2. log in again
	d.mu.Lock()
	c := d.current()
	if len(d.pending) > 0 {
		c = d.pending[0]
	}
	d.mu.Unlock()
	for {
		if !d.listening(ctx) {
			if err := wait(); err != nil {
				return err
			}
			continue
		}
		ns, via, err := d.connect(ctx, c.user, c.password)
		if err == nil {
			progress("device is back")
			d.mu.Lock()
			d.sess, d.via = ns, via
			d.o.User, d.o.Password = c.user, c.password
			d.prove(c.user)
			d.pending = nil
			d.mu.Unlock()
			progress("logged in as " + c.user)
			return nil
		}
		var ue *transport.UnreachableError
		lastErr = err
		switch {
		case errors.As(err, &ue), errors.Is(err, ErrTooManySessions), errors.Is(err, errExpired), closedAtOnce(err):
			// the device is still restarting, or just came back
		case errors.Is(err, ErrWrongPassword):
			return fmt.Errorf("the device is back but refused the new password for %q: the change did not take effect as planned; log in with the previous password and check the account", c.user)
		default:
			return fmt.Errorf("log in after the restart: %w", err)
		}
		if err := wait(); err != nil {
			return err
		}
	}
}

// closedAtOnce reports a connection the device accepted and then closed
// or reset without an answer: normal while it restarts.
// wentDown reports whether err, from a request on the old session after
// Save/Restart, shows that the device restarted: the session ended (the
// login page came back), the connection was refused, reset or closed.
// A timeout is not such a sign.
func wentDown(err error) bool {
	if err == nil {
		return false
	}
	var ue *transport.UnreachableError
	if errors.As(err, &ue) {
		return ue.Kind == transport.Refused
	}
	return errors.Is(err, errSessionEnded) || closedAtOnce(err) || errors.Is(err, syscall.ECONNREFUSED)
}

func closedAtOnce(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED)
}

// listening reports whether the restarting device accepts a connection
// on its console port again: a connect bounded by a few round trips, so
// that a device still off the network (no answer at all) costs a poll,
// not a timeout, and a full login is tried only when it can answer.
func (d *Driver) listening(ctx context.Context) bool {
	c, cancel := context.WithTimeout(ctx, dialFor(d.rtt.recent(), d.o.Timeout))
	defer cancel()
	d.mu.Lock()
	via := d.via
	d.mu.Unlock()
	svcs := []string{"https", "http"}
	switch {
	case via == "http":
		svcs = svcs[1:]
	case d.o.HTTPSOnly:
		svcs = svcs[:1]
	}
	for _, sv := range svcs {
		conn, err := transport.Dialer(0).DialContext(c, "tcp", d.hostport(sv))
		if err == nil {
			conn.Close()
			return true
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return false // no answer: still off the network
		}
	}
	return false
}

// saveRestartForm is the form of the Save/Restart page: the one with a
// Save/Restart button, else its only form with a submit button.
func saveRestartForm(p *page) (*form, error) {
	if f, ok := p.formWithSubmit(quirks.SaveRestart); ok {
		return f, nil
	}
	f, err := settingsForm(p, quirks.MenuSaveRestart)
	if err != nil {
		return nil, fmt.Errorf("%s: no %q button: nothing was restarted", quirks.MenuSaveRestart, quirks.SaveRestart)
	}
	return f, nil
}

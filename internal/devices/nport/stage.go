package nport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

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
		if _, err := s.submit(ctx, p, f, quirks.Submit, quirks.Saved, sp.menu); err != nil {
			return err
		}
	}
	return d.stageAccounts(ctx, s, from, to)
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

func (d *Driver) addAccount(ctx context.Context, s *session, a Account, pw string) error {
	name := "Add account " + a.Name
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	href, ok := list.link(quirks.Add)
	if !ok {
		return fmt.Errorf("%s: no %q link on %s", name, quirks.Add, quirks.MenuAccounts)
	}
	u, err := list.resolve(href)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p, err := s.get(ctx, u)
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
	_, err = s.submit(ctx, p, f, quirks.Submit, quirks.Saved, name)
	return err
}

func (d *Driver) editPage(ctx context.Context, s *session, account, name string) (*page, error) {
	list, err := d.accountsPage(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	u, err := accountLink(list, account)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, err := s.get(ctx, u)
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
	_, err = s.submit(ctx, p, f, quirks.Submit, quirks.Saved, name)
	return err
}

func (d *Driver) deleteAccount(ctx context.Context, s *session, account string) error {
	name := "Delete account " + account
	p, err := d.editPage(ctx, s, account, name)
	if err != nil {
		return err
	}
	f, ok := p.formWithSubmit(quirks.Delete)
	if !ok {
		return fmt.Errorf("%s: no %q button", name, quirks.Delete)
	}
	_, err = s.submit(ctx, p, f, quirks.Delete, quirks.Saved, name)
	return err
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
	f, ok := p.formWithSubmit(quirks.SaveRestart)
	if !ok {
		return fmt.Errorf("%s: no %q button", quirks.MenuSaveRestart, quirks.SaveRestart)
	}
	progress("saving and restarting")
	if _, err := s.submit(ctx, p, f, quirks.SaveRestart, quirks.RestartOK, quirks.MenuSaveRestart); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.RestartWait)
	defer cancel()
	start := time.Now()
	tick := time.NewTicker(d.pollEvery())
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
	// 1. wait until the old session is gone (the device restarted)
	for {
		if _, err := s.open(ctx, quirks.MenuOverview); err != nil {
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
func closedAtOnce(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED)
}

// pollEvery is the restart poll interval.
func (d *Driver) pollEvery() time.Duration {
	return min(d.o.Timeout/6, 500*time.Millisecond)
}

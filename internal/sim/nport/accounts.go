package nport

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

const lastAdminMsg = "Cannot delete the last administrator account"

func level(rw bool) string {
	if rw {
		return "Read Write"
	}
	return "Read Only"
}

var levels = []string{"Read Write", "Read Only"}

// accountsPage is the User Account table (saved accounts). On GA each
// account name links to its edit page; on G-sec a row is selected and the
// toolbar (Add, Edit, Delete) acts on it, as the guide describes. msg is
// shown as the result of the last action: an error unless it is savedMsg.
func (d *Device) accountsPage(w http.ResponseWriter, token, msg string) {
	s := d.Saved()
	sec := d.cfg.Generation == GenSec
	var b strings.Builder
	b.WriteString("<html><head><title>User Account</title></head><body><h2>User Account</h2>\n")
	switch {
	case msg == savedMsg:
		fmt.Fprintf(&b, "<div class=\"ok\">%s</div>\n", msg)
	case msg != "":
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", html.EscapeString(msg))
	}
	if sec {
		fmt.Fprintf(&b, "<form name=\"account\" method=\"get\" action=\"/account.htm\">\n<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n", token)
		b.WriteString("<div class=\"toolbar\"><input type=\"submit\" name=\"add\" value=\"Add\"> <input type=\"submit\" name=\"edit\" value=\"Edit\"> <input type=\"submit\" name=\"delete\" value=\"Delete\"> <a href=\"/savRst.htm\">Save/Restart</a></div>\n")
		b.WriteString("<table>\n<tr><th></th><th>Active</th><th>Account Name</th><th>User Level</th></tr>\n")
	} else {
		b.WriteString("<div class=\"toolbar\"><a href=\"/account_add.htm\">Add</a> <a href=\"/SaveRestart.htm\">Save/Restart</a></div>\n")
		b.WriteString("<table>\n<tr><th>Active</th><th>Account Name</th><th>User Level</th></tr>\n")
	}
	for _, a := range s.Accounts {
		c := ""
		if a.Active {
			c = " checked"
		}
		if sec {
			fmt.Fprintf(&b, "<tr><td><input type=\"radio\" name=\"selAcc\" value=\"%s\"></td><td><input type=\"checkbox\" disabled%s></td><td>%s</td><td>%s</td></tr>\n",
				html.EscapeString(a.Name), c, html.EscapeString(a.Name), level(a.ReadWrite))
			continue
		}
		fmt.Fprintf(&b, "<tr><td><input type=\"checkbox\" disabled%s></td><td><a href=\"/account_edit.htm?%s\">%s</a></td><td>%s</td></tr>\n",
			c, html.EscapeString(url.Values{"name": {a.Name}}.Encode()), html.EscapeString(a.Name), level(a.ReadWrite))
	}
	b.WriteString("</table>\n")
	if sec {
		b.WriteString("</form>\n")
	}
	b.WriteString("</body></html>\n")
	fmt.Fprint(w, b.String())
}

// accountForm handles the Edit Account, Add Account and delete requests.
func (d *Device) accountForm(w http.ResponseWriter, r *http.Request, user, token string) {
	add := r.URL.Path == "/account_add.htm"
	name := r.URL.Query().Get("name")
	if !add {
		if d.Saved().account(name) < 0 {
			http.NotFound(w, r)
			return
		}
	}
	if r.Method != http.MethodPost {
		if r.URL.Path == "/account_delete.htm" {
			http.Redirect(w, r, "/accounts.htm", http.StatusFound)
			return
		}
		d.renderAccount(w, add, name, token, "")
		return
	}
	if d.dropSubmit(w) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	msg := d.checkSubmit(r, user, token)
	logMsg := ""
	if msg == "" {
		d.mu.Lock()
		s := d.saved.clone()
		pol := d.effective.Policy
		switch r.URL.Path {
		case "/account_delete.htm":
			msg, logMsg = deleteAccount(&s, name)
		case "/account_add.htm":
			msg, logMsg = addAccount(&s, pol, r.PostForm)
		default:
			msg, logMsg = editAccount(&s, pol, name, r.PostForm)
		}
		if msg == "" {
			d.saved = s
			d.logLocked("Config", printableName(user)+": "+logMsg)
		}
		d.mu.Unlock()
	}
	if msg != "" {
		d.renderAccount(w, add, name, token, msg)
		return
	}
	if !d.saveState(w) {
		return
	}
	d.accountsPage(w, token, savedMsg)
}

func deleteAccount(s *Settings, name string) (string, string) {
	i := s.account(name)
	if i < 0 {
		return "No such account", ""
	}
	a := s.Accounts[i]
	if a.Active && a.ReadWrite && s.activeAdmins() <= 1 {
		return lastAdminMsg, ""
	}
	s.Accounts = append(s.Accounts[:i], s.Accounts[i+1:]...)
	return "", "Account " + name + " Deleted"
}

func addAccount(s *Settings, pol Policy, f url.Values) (string, string) {
	name := strings.TrimSpace(f.Get("acc_name"))
	if !validAccountName(name) {
		return "Account Name must be 1 to 16 printable characters", ""
	}
	if s.account(name) >= 0 {
		return "Account Name already exists", ""
	}
	if len(s.Accounts) >= 16 {
		return "At most 16 accounts can be created", ""
	}
	pw := f.Get("acc_pw")
	if m := pol.checkPassword(pw); m != "" {
		return m, ""
	}
	if pw != f.Get("acc_pw2") {
		return "Password and Confirm Password do not match", ""
	}
	lv := "Read Only"
	if m := formSelect(f, "acc_level", levels, &lv, "User Level"); m != "" {
		return m, ""
	}
	s.Accounts = append(s.Accounts, Account{Name: name, Password: pw, Active: true, ReadWrite: lv == "Read Write"})
	return "", "Account " + name + " Added"
}

func editAccount(s *Settings, pol Policy, name string, f url.Values) (string, string) {
	i := s.account(name)
	if i < 0 {
		return "No such account", ""
	}
	a := s.Accounts[i]
	a.Active = checked(f, "acc_active")
	lv := level(a.ReadWrite)
	if m := formSelect(f, "acc_level", levels, &lv, "User Level"); m != "" {
		return m, ""
	}
	a.ReadWrite = lv == "Read Write"
	logMsg := "Account " + name + " Changed"
	if checked(f, "acc_chpw") {
		pw := f.Get("acc_pw")
		if m := pol.checkPassword(pw); m != "" {
			return m, ""
		}
		if pw != f.Get("acc_pw2") {
			return "Password and Confirm Password do not match", ""
		}
		a.Password = pw
		logMsg = "Account " + name + " Password Changed"
	}
	s.Accounts[i] = a
	if s.activeAdmins() == 0 {
		return "Cannot deactivate or downgrade the last administrator account", ""
	}
	return "", logMsg
}

func (d *Device) renderAccount(w http.ResponseWriter, add bool, name, token, msg string) {
	s := d.Saved()
	var b strings.Builder
	title := "Edit Account"
	action := accountEditURL(name)
	if add {
		title, action = "Add Account", "/account_add.htm"
	}
	fmt.Fprintf(&b, "<html><head><title>%s</title></head><body><h2>%s</h2>\n", title, title)
	if msg != "" {
		fmt.Fprintf(&b, "<div class=\"error\">%s</div>\n", html.EscapeString(msg))
	}
	fmt.Fprintf(&b, "<form method=\"post\" action=\"%s\">\n<input type=\"hidden\" name=\"%s\" value=\"%s\">\n<table>\n",
		html.EscapeString(action), d.tokenName(), token)
	pw := `<input type="password" name="acc_pw" value="" maxlength="16">`
	pw2 := `<input type="password" name="acc_pw2" value="" maxlength="16">`
	if add {
		row(&b, "Account Name", `<input type="text" name="acc_name" value="" maxlength="16">`)
		row(&b, "Password", pw)
		row(&b, "Confirm Password", pw2)
		row(&b, "User Level", selectBox("acc_level", levels, "Read Only"))
	} else if i := s.account(name); i >= 0 {
		a := s.Accounts[i]
		row(&b, "Active", checkBox("acc_active", a.Active))
		row(&b, "Account Name", fmt.Sprintf(`<input type="text" name="acc_name" value="%s" readonly>`, html.EscapeString(a.Name)))
		row(&b, "Change Password", checkBox("acc_chpw", false))
		row(&b, "Password", pw)
		row(&b, "Confirm Password", pw2)
		row(&b, "User Level", selectBox("acc_level", levels, level(a.ReadWrite)))
	}
	b.WriteString("</table>\n<input type=\"submit\" name=\"Submit\" value=\"Submit\">\n</form>\n")
	if !add && d.cfg.Generation != GenSec {
		fmt.Fprintf(&b, "<form method=\"post\" action=\"%s\">\n<input type=\"hidden\" name=\"%s\" value=\"%s\">\n<input type=\"submit\" name=\"Delete\" value=\"Delete\">\n</form>\n",
			html.EscapeString("/account_delete.htm?"+url.Values{"name": {name}}.Encode()), d.tokenName(), token)
	}
	b.WriteString("</body></html>\n")
	fmt.Fprint(w, b.String())
}

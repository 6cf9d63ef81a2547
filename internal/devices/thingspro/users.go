package thingspro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/commission-tool/commission/internal/printable"
)

// Accounts: Moxa's schema types the role items of POST /users and
// PUT /users/{id} as integers, every example of the specification sends
// {"id": N}, and nothing says what PUT does with an omitted field. So
// the driver sends the object form, accepts either form back, sends the
// whole writable state of a user it changes, and reads every account it
// creates or changes back before it trusts its roles.

// apiRole is one role of a User reply: {"id": N, "name": "..."}, or a
// bare id.
type apiRole struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func (r *apiRole) UnmarshalJSON(b []byte) error {
	var n int
	if json.Unmarshal(b, &n) == nil {
		*r = apiRole{ID: n}
		return nil
	}
	var o struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return errors.New("a role is neither an id nor an object")
	}
	*r = apiRole(o)
	return nil
}

// roleObjects is the examples' form of a role list.
func roleObjects(ids []int) []map[string]int {
	out := make([]map[string]int, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]int{"id": id})
	}
	return out
}

// roleForms are the two forms, in the order the driver tries them.
var roleForms = []struct {
	name string
	body func([]int) any
}{
	{"objects", func(ids []int) any { return roleObjects(ids) }},
	{"integers", func(ids []int) any { return append([]int{}, ids...) }},
}

// apiRoleList is GET /roles.
type apiRoleList []struct {
	ID          int       `json:"id"`
	Name        string    `json:"name"`
	Permissions []apiPerm `json:"permissions"`
}

// readAccounts reads /roles then /users, each into a fresh value, and
// names the roles a reply gives only by id.
func (d *Driver) readAccounts(ctx context.Context) ([]User, []Role, error) {
	roles, err := d.getRoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	var users []apiUser
	if err := d.c.get(ctx, "/users", &users); err != nil {
		return nil, nil, fmt.Errorf("read users: %w", err)
	}
	return usersOf(users, roles), roles, nil
}

// getRoles reads /roles.
func (d *Driver) getRoles(ctx context.Context) ([]Role, error) {
	var roles apiRoleList
	if err := d.c.get(ctx, "/roles", &roles); err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	var out []Role
	for _, r := range roles {
		nr := Role{ID: r.ID, Name: printable.String(r.Name)}
		for _, p := range r.Permissions {
			nr.Permissions = append(nr.Permissions, printable.String(string(p)))
		}
		out = append(out, nr)
	}
	return out, nil
}

// usersOf converts a /users reply, naming roles given by id from roles.
func usersOf(users []apiUser, roles []Role) []User {
	names := map[int]string{}
	for _, r := range roles {
		names[r.ID] = r.Name
	}
	var us []User
	for _, u := range users {
		us = append(us, u.user(names))
	}
	return us
}

// user converts a reply; roles given by id are named from names.
func (u apiUser) user(names map[int]string) User {
	nu := User{ID: u.ID, Name: printable.String(u.Name), Active: u.IsActive, RolesProven: true,
		PasswordChanged: u.ChangedPasswordAt != nil && *u.ChangedPasswordAt != ""}
	for _, r := range u.Roles {
		n := r.Name
		if n == "" {
			n = names[r.ID]
		}
		if n == "" {
			n = "role " + strconv.Itoa(r.ID)
		}
		nu.Roles = append(nu.Roles, printable.String(n))
	}
	return nu
}

// roleIDsOf returns the ids of a reply's roles, naming objects that carry
// only a name through roles.
func roleIDsOf(u apiUser, roles []Role) []int {
	var ids []int
	for _, r := range u.Roles {
		id := r.ID
		if id == 0 && r.Name != "" {
			for _, k := range roles {
				if strings.EqualFold(k.Name, r.Name) {
					id = k.ID
				}
			}
		}
		if id != 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func (d *Driver) getUser(ctx context.Context, id int) (apiUser, error) {
	var u apiUser // fresh for every reply
	if err := d.c.get(ctx, "/users/"+strconv.Itoa(id), &u); err != nil {
		return apiUser{}, err
	}
	return u, nil
}

// ProofError is an account whose roles the gateway does not show after
// the driver set them: nothing else is changed on the accounts.
type ProofError struct {
	User      string
	Want, Got []string
}

func (e *ProofError) Error() string {
	got := strings.Join(e.Got, ", ")
	if got == "" {
		got = "no role"
	}
	return fmt.Sprintf("the gateway does not show the role %s on account %s after it was set (it shows %s), in either the object or the integer form: "+
		"the tool changes no other account; give %s the role in the web console (Users) and check again",
		strings.Join(e.Want, ", "), e.User, got, e.User)
}

// prove reads the account back and checks that it holds every wanted role.
func (d *Driver) prove(ctx context.Context, id int, want []int, roles []Role) (apiUser, bool, error) {
	u, err := d.getUser(ctx, id)
	if err != nil {
		return apiUser{}, false, fmt.Errorf("read the account back: %w", err)
	}
	have := roleIDsOf(u, roles)
	for _, w := range want {
		if !slices.Contains(have, w) {
			return u, false, nil
		}
	}
	return u, true, nil
}

func roleNames(ids []int, roles []Role) []string {
	var out []string
	for _, id := range ids {
		n := "role " + strconv.Itoa(id)
		for _, r := range roles {
			if r.ID == id {
				n = r.Name
			}
		}
		out = append(out, n)
	}
	return out
}

// formOrder lists the role forms, the last one proven first.
func (d *Driver) formOrder() []int {
	if d.roleForm == 1 {
		return []int{1, 0}
	}
	return []int{0, 1}
}

// createUser posts the account with its roles in the object form (the
// integer form if the gateway refuses objects with a 400), then reads it
// back; when the roles did not take, it sets them with PUT in each form
// and reads again. It returns a *ProofError when no form took.
func (d *Driver) createUser(ctx context.Context, name, pw string, ids []int, roles []Role) error {
	var created apiUser
	var firstErr error
	used := -1
	for _, fi := range d.formOrder() {
		body := map[string]any{"name": name, "password": pw, "isActive": true, "roles": roleForms[fi].body(ids), "expiredAfter": nil}
		created = apiUser{}
		err := d.c.do(ctx, http.MethodPost, "/users", request{json: body}, &created)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			if firstErr == nil {
				firstErr = err
			}
			continue // perhaps this role form; try the other
		}
		if err != nil {
			return err
		}
		used = fi
		break
	}
	if used < 0 {
		return firstErr
	}
	if created.ID == 0 || !strings.EqualFold(created.Name, name) {
		us, _, err := d.readAccounts(ctx)
		if err != nil {
			return err
		}
		created.ID = 0
		for _, u := range us {
			if u.Name == name {
				created.ID = u.ID
			}
		}
		if created.ID == 0 {
			return fmt.Errorf("the gateway accepted account %s but does not list it", name)
		}
	}
	_, ok, err := d.prove(ctx, created.ID, ids, roles)
	if err != nil {
		return err
	}
	if ok {
		d.roleForm = used
		return nil
	}
	return d.changeUser(ctx, created.ID, name, func(w *writable) { w.roles = ids })
}

// writable is what PUT /users/{id} carries, as read just before.
type writable struct {
	email        *string
	expiredAfter *string
	isActive     bool
	roles        []int
}

// changeUser reads the account, applies change, and sends its whole
// writable state, so a gateway that clears omitted fields clears
// nothing. It then reads the account back and proves its roles and
// state; when the roles did not take in one form it sends the other. It
// returns a *ProofError when neither took.
func (d *Driver) changeUser(ctx context.Context, id int, name string, change func(*writable)) error {
	cur, err := d.getUser(ctx, id)
	if err != nil {
		return fmt.Errorf("read the account before changing it: %w", err)
	}
	_, roles, err := d.readAccounts(ctx)
	if err != nil {
		return err
	}
	w := writable{email: cur.Email, expiredAfter: cur.ExpiredAfter, isActive: cur.IsActive, roles: roleIDsOf(cur, roles)}
	change(&w)
	got := cur
	for _, fi := range d.formOrder() {
		body := map[string]any{"isActive": w.isActive, "roles": roleForms[fi].body(w.roles), "expiredAfter": w.expiredAfter}
		if w.email != nil && *w.email != "" {
			body["email"] = *w.email
		}
		err := d.c.do(ctx, http.MethodPut, "/users/"+strconv.Itoa(id), request{json: body}, nil)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			continue
		}
		if err != nil {
			return err
		}
		var ok bool
		if got, ok, err = d.prove(ctx, id, w.roles, roles); err != nil {
			return err
		}
		if ok && got.IsActive == w.isActive {
			d.roleForm = fi
			return nil
		}
	}
	var have []string
	for _, r := range got.Roles {
		n := r.Name
		if n == "" {
			n = strings.Join(roleNames([]int{r.ID}, roles), "")
		}
		have = append(have, printable.String(n))
	}
	return &ProofError{User: name, Want: roleNames(w.roles, roles), Got: have}
}

// requireOtherAdmin reads the accounts again and refuses unless another
// active account than id holds the Administrator role as the gateway
// reports it: the proof that removing id leaves a way in.
func (d *Driver) requireOtherAdmin(ctx context.Context, id int, name string) error {
	us, _, err := d.readAccounts(ctx)
	if err != nil {
		return fmt.Errorf("read the accounts before removing %s: %w", name, err)
	}
	for _, u := range us {
		if u.ID != id && u.Active && u.Admin() {
			return nil
		}
	}
	return fmt.Errorf("the gateway shows no other active administrator than %s: the tool does not remove or deactivate it; create a personal administrator first and check that it holds the Administrator role", name)
}

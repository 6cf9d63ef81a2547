package thingspro

// Where Moxa's published specification does not settle how the gateway
// behaves, the simulator can be set to each candidate behaviour, and the
// driver's tests run against all of them (thingspro.md §3, §11).

// RoleHandling is how the gateway treats one form of role item in the
// body of POST /users and PUT /users/{id}: the schema types the items as
// integers, every example sends {"id": N}.
type RoleHandling int

// Candidate handlings of one role form.
const (
	// RolesAccepted takes the form (the default for both forms).
	RolesAccepted RoleHandling = iota
	// RolesIgnored answers 200 but drops the roles given in this form.
	RolesIgnored
	// RolesRejected answers 400.
	RolesRejected
)

func (h RoleHandling) String() string {
	switch h {
	case RolesIgnored:
		return "ignored"
	case RolesRejected:
		return "rejected"
	}
	return "accepted"
}

// RoleReply is the form of the roles in a User reply.
type RoleReply int

// Candidate reply forms.
const (
	// RolesAsObjects answers [{"id": 1, "name": "Administrator"}] (the examples; default).
	RolesAsObjects RoleReply = iota
	// RolesAsIDs answers [1], the request schema's form.
	RolesAsIDs
)

// Omitted is what PUT /users/{id} does with a writable field the body
// leaves out; nothing in the specification says.
type Omitted int

// Candidate treatments of omitted fields.
const (
	// KeepOmitted leaves an omitted field as it was (default).
	KeepOmitted Omitted = iota
	// ClearOmitted resets an omitted field: no roles, inactive, no
	// e-mail, no expiry.
	ClearOmitted
)

func (o Omitted) String() string {
	if o == ClearOmitted {
		return "clear-omitted"
	}
	return "keep-omitted"
}

// Candidate is one named combination of the unknown account behaviours.
type Candidate struct {
	Name        string
	IntRoles    RoleHandling
	ObjectRoles RoleHandling
	ReplyRoles  RoleReply
	PutOmitted  Omitted
}

// Apply sets the candidate's behaviours on cfg.
func (c Candidate) Apply(cfg Config) Config {
	cfg.IntRoles, cfg.ObjectRoles, cfg.ReplyRoles, cfg.PutOmitted = c.IntRoles, c.ObjectRoles, c.ReplyRoles, c.PutOmitted
	return cfg
}

// Workable reports whether some role form gives a user its roles, so a
// client that tries both can succeed.
func (c Candidate) Workable() bool {
	return c.IntRoles == RolesAccepted || c.ObjectRoles == RolesAccepted
}

// AccountCandidates lists every combination of the unknown account
// behaviours: each role form accepted, ignored or rejected, roles
// answered as objects or as ids, and omitted PUT fields kept or cleared.
func AccountCandidates() []Candidate {
	var out []Candidate
	forms := []RoleHandling{RolesAccepted, RolesIgnored, RolesRejected}
	for _, obj := range forms {
		for _, ints := range forms {
			for _, reply := range []RoleReply{RolesAsObjects, RolesAsIDs} {
				for _, put := range []Omitted{KeepOmitted, ClearOmitted} {
					name := "objects-" + obj.String() + "/ints-" + ints.String() + "/" + put.String()
					if reply == RolesAsIDs {
						name += "/reply-ids"
					}
					out = append(out, Candidate{Name: name, IntRoles: ints, ObjectRoles: obj, ReplyRoles: reply, PutOmitted: put})
				}
			}
		}
	}
	return out
}

package nport

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Profile is one generation of the NPort web console, as data: how to
// recognise its login page, how to answer its login, which words mark a
// refused login, and which interstitial pages follow a login. The driver
// picks the profile from what the login page shows, never from a model
// name (nport-web-evidence.md sections 1 and 2). A new firmware is a new
// row in Profiles, made from a `commission capture` transcript.
type Profile struct {
	// Name is the generation: "GA", "G-sec", "G1".
	Name string
	// Server is the Server header this generation is known to send
	// ("MoxaHttp/2.2"); informative, not used to choose.
	Server string
	// Refused, when set, is why the tool will not drive this generation.
	Refused string

	// Recognise: every name in Fields is a control of the login form; for
	// a generation whose challenge is set by script, ScriptChallenge is the
	// element id the script sets.
	Fields          []string
	ScriptChallenge string

	// Login answer.
	Scheme         string      // "md5xor" (GA) or "sha256" (G-sec)
	UserField      string      // the visible user name field ("" when not sent)
	PasswordField  string      // sent empty: the password never crosses the wire
	HashField      string      // the computed answer
	UserHashField  string      // G-sec: EncUser
	ChallengeField string      // FakeChallenge
	LoginExtra     [][2]string // sent after the fields above

	// Words that mark a refused login, compared lower case.
	LoginFailed, LockedOut, TooManyUsers, Expired []string

	// FailLog is the failed-login record interstitial: a form with a hidden
	// field FailLogFunc (its setfunc) and the buttons FailLogContinue
	// (non-destructive) and FailLogClear.
	FailLogFunc, FailLogContinue, FailLogClear string
	// NagSkip is the button of the default-password nag.
	NagSkip string

	// NoSessionCookie is why a login whose replies set no session cookie
	// failed: public code run against real GA units treats a login POST
	// answered without a cookie as a failed login (nport-web-evidence.md
	// section 1). Empty: no public code checks it on this generation (the
	// G-sec login is a redirect, and a session-less reply lands on the
	// login page, which the refusal words judge).
	NoSessionCookie string

	// Own password change. PasswordPage is the known URL of the page that
	// changes the logged-in user's password (GA: ChPassword.htm, ipchange);
	// its form carries OldHashField (the proof of the old password) and
	// NewHashField (the new password), computed by PasswordScheme, with
	// its visible password inputs sent empty. PasswordMax is the longest
	// password the scheme carries. Empty PasswordPage: passwords change on
	// the User Account page only.
	PasswordPage, OldHashField, NewHashField, PasswordScheme string
	PasswordMax                                              int

	// PageReaders is how many console pages are read at once, over as
	// many kept-alive connections of the one session (inferred: no public
	// source says how many connections a unit's web server serves at a
	// time; 0 reads one page at a time; the HTTP client keeps at most
	// four connections).
	PageReaders int
}

// errorClass is the class of the elements that carry a device's
// rejection of a submit (an inference: capture a real rejection).
const errorClass = "error"

// scriptCall says how to read one kind of page-script call.
type scriptCall struct {
	nameArg, valueArg int
	typ               string // control type for field-writing calls
	setsID            bool   // sets the text of an element by id instead
}

// scriptCallTable lists the page-script calls that write form fields or
// page values (gsvpiko reads inputText/inputTextEx; WhatWeb reads set()).
// The argument positions of inputTextEx and inputPassword are inferred.
var scriptCallTable = map[string]scriptCall{
	"inputText":     {nameArg: 0, valueArg: 2, typ: "text"},
	"inputTextEx":   {nameArg: 0, valueArg: 2, typ: "text"},
	"inputPassword": {nameArg: 0, valueArg: 2, typ: "password"},
	"set":           {nameArg: 0, valueArg: 1, setsID: true},
}

// identityIDs maps the element ids the Overview script sets to identity
// fields (WhatWeb's Moxa-NPort-Device plugin).
var identityIDs = map[string]string{
	"modelname": "model", "mac": "mac", "serialno": "serial", "ver": "firmware", "servername": "name",
}

// Profiles is every console generation the tool knows, most specific first.
var Profiles = []Profile{
	{
		Name: "G-sec", Server: "MoxaHttp",
		Fields: []string{"EncPasswd", "EncUser", "FakeChallenge"},
		Scheme: "sha256", UserField: "", PasswordField: "", HashField: "EncPasswd", UserHashField: "EncUser",
		ChallengeField: "FakeChallenge",
		LoginFailed:    []string{"login failed", "login fail", "authentication failed", "incorrect", "invalid user", "invalid password"},
		LockedOut:      []string{"locked"},
		TooManyUsers:   []string{"maximum number of login users", "already login", "too many users"},
		Expired:        []string{"session expired", "expired"},
		FailLogFunc:    "clearWebLogAction", FailLogContinue: "continue", FailLogClear: "clearLog",
		NagSkip:     "Skip",
		PageReaders: 4,
	},
	{
		Name: "GA", Server: "MoxaHttp/2.2",
		Fields: []string{"FakeChallenge", "MD5Password", "Username"},
		Scheme: "md5xor", UserField: "Username", PasswordField: "Password", HashField: "MD5Password",
		ChallengeField: "FakeChallenge", LoginExtra: [][2]string{{"Submit.x", "0"}, {"Submit.y", "0"}},
		LoginFailed:  []string{"login failed", "login fail", "authentication failed", "incorrect"},
		LockedOut:    []string{"locked"},
		TooManyUsers: []string{"maximum number of login users", "already login"},
		Expired:      []string{"session expired", "expired"},
		FailLogFunc:  "clearWebLogAction", FailLogContinue: "continue", FailLogClear: "clearLog",
		NagSkip:         "Skip",
		NoSessionCookie: "the device answered the login without setting a session cookie, so no session was opened (on this firmware that is a failed login: check the user name and password, and that no other session holds the console, which GA allows only one of); nothing was changed",
		// PasswordPage is where ipchange changes the password; a unit that
		// answers it 404 is changed on the User Account page instead.
		PasswordPage: "/ChPassword.htm", OldHashField: "pwd", NewHashField: "newpwd", PasswordScheme: "md5-xorfill",
		PasswordMax: 16,
		PageReaders: 4,
	},
	{
		Name: "G1", Server: "MoxaHttp/1.0", ScriptChallenge: "FakeChallenge",
		Refused: "this is first-generation firmware (MoxaHttp/1.0, a password-only login), below the hardening guide's floor: upgrade the firmware to a current release, then run commission again",
	},
}

// formControl returns the named control of f.
func formControl(f *form, name string) (*control, bool) {
	for _, c := range f.Controls {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// match reports whether the login page p is this generation's, and the
// login form (nil for a script-challenge generation).
func (pr *Profile) match(p *page) (*form, bool) {
	if pr.ScriptChallenge != "" {
		if _, ok := p.Scripted[pr.ScriptChallenge]; ok {
			return nil, true
		}
		return nil, false
	}
	for _, f := range p.Forms {
		all := true
		for _, n := range pr.Fields {
			if _, ok := formControl(f, n); !ok {
				all = false
				break
			}
		}
		if all {
			return f, true
		}
	}
	return nil, false
}

// detect chooses the profile of a login page.
func detect(p *page, server string) (*Profile, *form, error) {
	for i := range Profiles {
		pr := &Profiles[i]
		if f, ok := pr.match(p); ok {
			if pr.Refused != "" {
				return pr, nil, fmt.Errorf("%w: %s", ErrUnsupportedFirmware, pr.Refused)
			}
			return pr, f, nil
		}
	}
	return nil, nil, &UnknownConsoleError{URL: p.URL.Redacted(), Title: p.Title, Server: server, Fields: pageFields(p)}
}

// pageFields lists the names of a page's form fields, for the technician.
func pageFields(p *page) []string {
	var out []string
	for _, f := range p.Forms {
		for _, c := range f.Controls {
			if c.Name != "" && !slices.Contains(out, c.Name) {
				out = append(out, c.Name)
			}
		}
	}
	for k := range p.Scripted {
		out = append(out, "script:"+k)
	}
	slices.Sort(out)
	return out
}

// challengeResponse is the GA login answer: lowercase hex of
// MD5(challenge)[i] XOR pw[i] for the first 16 password bytes.
func challengeResponse(challenge, pw string) string {
	sum := md5.Sum([]byte(challenge))
	n := min(len(pw), 16)
	out := make([]byte, n)
	for i := range n {
		out[i] = sum[i] ^ pw[i]
	}
	return hex.EncodeToString(out)
}

// encPasswd is the G-sec password answer: hex SHA-256(user+password+challenge).
func encPasswd(user, pw, challenge string) string {
	sum := sha256.Sum256([]byte(user + pw + challenge))
	return hex.EncodeToString(sum[:])
}

// encUser is the G-sec user answer: the 32 bytes of SHA-256(challenge as
// text) with the first len(user) bytes XORed with the user name, as hex.
func encUser(user, challenge string) string {
	sum := sha256.Sum256([]byte(challenge))
	for i := 0; i < len(user) && i < len(sum); i++ {
		sum[i] ^= user[i]
	}
	return hex.EncodeToString(sum[:])
}

// passwordAnswer computes the fields of an own-password change: the
// proof of the old password and the encoded new one. "md5-xorfill"
// (GA, ipchange): old is hex MD5(old password); new is MD5(old password)
// with its first len(new) bytes XORed with the new password's ASCII
// codes, all 16 bytes as hex.
func (pr *Profile) passwordAnswer(oldPW, newPW string) (oldHash, newHash string, err error) {
	switch pr.PasswordScheme {
	case "md5-xorfill":
	default:
		return "", "", fmt.Errorf("password change scheme %q is not known", pr.PasswordScheme)
	}
	if len(newPW) == 0 || len(newPW) > pr.PasswordMax {
		return "", "", fmt.Errorf("the %s console carries a new password of 1 to %d characters, this one has %d", pr.Name, pr.PasswordMax, len(newPW))
	}
	for i := range len(newPW) {
		if newPW[i] <= 0x20 || newPW[i] >= 0x7f {
			return "", "", fmt.Errorf("the %s console carries only printable ASCII passwords without spaces", pr.Name)
		}
	}
	sum := md5.Sum([]byte(oldPW))
	oldHash = hex.EncodeToString(sum[:])
	for i := range len(newPW) {
		sum[i] ^= newPW[i]
	}
	return oldHash, hex.EncodeToString(sum[:]), nil
}

// loginPairs builds the fields of the login submit from the login form:
// every field of the form as the page has it, with the profile's answer
// filled in, the visible password emptied, and the extras appended.
func (pr *Profile) loginPairs(f *form, user, pw string) ([][2]string, error) {
	ch, ok := formControl(f, pr.ChallengeField)
	if !ok || ch.Value == "" {
		return nil, fmt.Errorf("the login page of this %s console has no %s value", pr.Name, pr.ChallengeField)
	}
	challenge := ch.Value
	set := map[string]string{pr.ChallengeField: challenge}
	switch pr.Scheme {
	case "md5xor":
		set[pr.HashField] = challengeResponse(challenge, pw)
	case "sha256":
		set[pr.HashField] = encPasswd(user, pw, challenge)
		set[pr.UserHashField] = encUser(user, challenge)
	default:
		return nil, fmt.Errorf("login scheme %q is not known", pr.Scheme)
	}
	if pr.UserField != "" {
		set[pr.UserField] = user
	}
	if pr.PasswordField != "" {
		set[pr.PasswordField] = ""
	}
	var out [][2]string
	seen := map[string]bool{}
	for _, c := range f.Controls {
		if c.Name == "" || seen[c.Name] {
			continue
		}
		v, ours := set[c.Name]
		switch {
		case ours:
		case c.Type == "submit" || c.Type == "image" || c.Type == "button" || c.Type == "reset":
			continue
		case c.Type == "password" || c.Type == "text" && pr.UserField == "":
			// the script disables the visible inputs before the submit
			continue
		case c.Type == "checkbox" || c.Type == "radio":
			if !c.Checked {
				continue
			}
			v = c.Value
		default:
			v = c.Value
		}
		seen[c.Name] = true
		out = append(out, [2]string{c.Name, v})
	}
	for k, v := range set {
		if !seen[k] {
			out = append(out, [2]string{k, v})
			seen[k] = true
		}
	}
	// a stable order for the transcript: the form's, then the rest sorted
	slices.SortStableFunc(out[len(out)-countMissing(f, set):], func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return append(out, pr.LoginExtra...), nil
}

func countMissing(f *form, set map[string]string) int {
	n := 0
	for k := range set {
		if _, ok := formControl(f, k); !ok {
			n++
		}
	}
	return n
}

// has reports whether low (lower case) contains any of words.
func has(low string, words []string) bool {
	for _, w := range words {
		if w != "" && strings.Contains(low, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

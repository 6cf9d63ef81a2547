// Package secret holds the one list that decides which names hold a
// secret: a form field, a JSON or query key, a step input. Whatever the
// name is attached to (a request transcript, a journal line, the record),
// a value under such a name never reaches a file, a log or the screen.
package secret

import "strings"

// words are the fragments that mark a name as secret, in any case.
var words = []string{
	"pass", "pw", // password, passwd, passphrase, pwd
	"secret", "key", "private", "psk",
	"community",              // SNMP
	"chall", "token", "csrf", // login handshakes: FakeChallenge, ChallID
	"md5", "hash", "encuser", // a password or user name transformed for a login (MD5Password, EncUser)
	"cookie", "session", "authorization", // HTTP credentials
}

// Name reports whether a value named name is a secret: the name contains
// one of the list's fragments (password, key, community, token, ...).
func Name(name string) bool {
	n := strings.ToLower(name)
	for _, w := range words {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

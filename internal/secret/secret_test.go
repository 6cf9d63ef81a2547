package secret

import "testing"

func TestName(t *testing.T) {
	for _, s := range []string{"password", "Password", "confirm_password", "passwd", "pwd", "newPW", "passphrase",
		"ssh-password", "key", "private_key", "read_community", "challenge", "csrf_token", "X-CSRF-Token",
		"Cookie", "session_id", "Authorization", "client_secret", "wpa-psk",
		"FakeChallenge", "ChallID", "MD5Password", "EncUser", "EncPasswd", "newpwd", "passhash", "token_text"} {
		if !Name(s) {
			t.Errorf("Name(%q) = false, want a secret", s)
		}
	}
	for _, s := range []string{"user", "username", "server", "message", "rules", "lifetime", "url", "sha256", "sha512",
		"owner", "group", "zone", "origins", "agent", "cert", "file", "action", "delete", "keep", "name", "role",
		"reference", "sequence", "frequency", "Username", "setfunc"} {
		if Name(s) {
			t.Errorf("Name(%q) = true, want public", s)
		}
	}
}

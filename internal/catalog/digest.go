package catalog

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// digest is a vendor-published hash that a downloaded file must match
// before it is installed (firmware, installers).
type digest struct {
	name   string // "SHA-256"
	new    func() hash.Hash
	what   string // "firmware file", "installer"
	source string // where the published value comes from
}

var (
	moxaFirmwareDigest = digest{name: "SHA-512", new: sha512.New, what: "firmware file", source: "moxa.com"}
	ptcInstallerDigest = digest{name: "SHA-256", new: sha256.New, what: "installer", source: "PTC's validation article"}
)

func normHex(v string) string { return strings.ToLower(strings.Join(strings.Fields(v), "")) }

// validate checks the shape of a published value.
func (d digest) validate(v string) error {
	v = normHex(v)
	digits := d.new().Size() * 2
	if len(v) != digits {
		return fmt.Errorf("a %s has %d hex digits; this has %d: copy it again from %s", d.name, digits, len(v), d.source)
	}
	if _, err := hex.DecodeString(v); err != nil {
		return fmt.Errorf("a %s has only the digits 0-9 and a-f", d.name)
	}
	return nil
}

// validateFile checks that a path names a readable file.
func (d digest) validateFile(v string) error {
	st, err := os.Stat(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("cannot open %q: check the path", v)
	}
	if st.IsDir() {
		return fmt.Errorf("%q is a folder: give the %s", v, d.what)
	}
	return nil
}

// matches hashes the file and compares it, in constant time, with the
// published value. It returns evidence text, or an error that tells the
// technician not to install the file.
func (d digest) matches(ctx context.Context, path, published string) (string, error) {
	if err := d.validate(published); err != nil {
		return "", err
	}
	want, _ := hex.DecodeString(normHex(published))
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open the %s: %w", d.what, err)
	}
	defer f.Close()
	h := d.new()
	n, err := io.Copy(h, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", fmt.Errorf("read the %s: %w", d.what, err)
	}
	got := h.Sum(nil)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return "", fmt.Errorf("MISMATCH: the %s's %s is %s…, not the value %s publishes (%s…): do not install it; download it again and check again",
			d.what, d.name, hex.EncodeToString(got)[:16], d.source, hex.EncodeToString(want)[:16])
	}
	return fmt.Sprintf("%s (%d bytes) %s %s matches the published value", baseName(path), n, d.name, hex.EncodeToString(got)), nil
}

// FileSHA512Matches checks a Moxa firmware file against its published SHA-512.
func FileSHA512Matches(ctx context.Context, path, published string) (string, error) {
	return moxaFirmwareDigest.matches(ctx, path, published)
}

// ValidateMoxaSHA512 checks the shape of a SHA-512 that Moxa publishes
// for a firmware file: 128 hex digits (spaces ignored, any case).
func ValidateMoxaSHA512(v string) error { return moxaFirmwareDigest.validate(v) }

// ValidateMoxaFirmwareFile checks that a path names a firmware file that
// can be opened, not a folder.
func ValidateMoxaFirmwareFile(v string) error { return moxaFirmwareDigest.validateFile(v) }

// FileSHA256Matches checks a Kepware installer against PTC's published SHA-256.
func FileSHA256Matches(ctx context.Context, path, published string) (string, error) {
	return ptcInstallerDigest.matches(ctx, path, published)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

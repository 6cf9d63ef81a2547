package catalog

// ValidatePTCSHA256 checks the shape of a SHA-256 that PTC publishes for
// a Kepware installer: 64 hex digits (spaces ignored, any case).
func ValidatePTCSHA256(v string) error { return ptcInstallerDigest.validate(v) }

// ValidatePTCInstallerFile checks that a path names an installer file
// that can be opened, not a folder.
func ValidatePTCInstallerFile(v string) error { return ptcInstallerDigest.validateFile(v) }

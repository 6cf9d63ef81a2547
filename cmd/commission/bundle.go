package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/commission-tool/commission/internal/record"
)

// bundleOptions says how to sign a bundle.
type bundleOptions struct {
	KeyFile string // private key file; empty: ssh-agent, if any
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// bundleDir names the folder of a record: model, MAC or address, date.
func bundleDir(out string, r record.Record) string {
	id := r.Device.MAC
	if id == "" {
		id = r.Device.Address
	}
	name := fmt.Sprintf("%s-%s-%s", r.Device.Model, id, r.Finished.UTC().Format("20060102-150405"))
	name = strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	return filepath.Join(out, name)
}

// writeBundle writes the record bundle and returns its folder.
func writeBundle(_ context.Context, out string, r record.Record, _ bundleOptions) (string, error) {
	dir := bundleDir(out, r)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the record folder: %w", err)
	}
	data, err := record.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode the record: %w", err)
	}
	if err := record.WriteFileAtomic(filepath.Join(dir, "record.json"), data, 0o644); err != nil {
		return "", fmt.Errorf("write the record: %w", err)
	}
	return dir, nil
}

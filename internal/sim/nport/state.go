package nport

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/commission-tool/commission/internal/sim/simnet"
	"github.com/commission-tool/commission/internal/sim/simstate"
)

// StateFileName is the name of the state file in Config.StateDir.
const StateFileName = "state.json"

// stateFormat is the version of the state file's layout.
const stateFormat = 1

// stateFile is what a device keeps in Config.StateDir between runs: the
// simulated device's own factory/demo state (its accounts and passwords
// as the device holds them, not the tool's secrets), its identity and
// certificate, and its ports.
type stateFile struct {
	Format     int            `json:"format"`
	Generation Generation     `json:"generation"`
	Model      string         `json:"model"`
	MAC        string         `json:"mac"`
	Serial     string         `json:"serial"`
	Ports      map[string]int `json:"ports"`
	// Certificate is the HTTPS certificate chain (DER), Key its private
	// key (PKCS #8 DER), so that a pinned fingerprint stays valid.
	Certificate [][]byte `json:"certificate"`
	Key         []byte   `json:"key"`
	Saved       Settings `json:"saved"`
	Effective   Settings `json:"effective"`
	Restarts    int      `json:"restarts"`
}

// statePath is the state file of a device configured with cfg.
func statePath(cfg Config) string { return filepath.Join(cfg.StateDir, StateFileName) }

// freshHint is the advice every state error ends with.
func freshHint(cfg Config) string { return simstate.FreshHint(cfg.StateDir, "device") }

// loadState reads the state file of cfg.StateDir. It returns nil, nil
// when there is none yet (a fresh device).
func loadState(cfg Config) (*stateFile, error) {
	path := statePath(cfg)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the simulator's state file %s: %w", path, err)
	}
	var st stateFile
	bad := func(why string, err error) (*stateFile, error) {
		if err != nil {
			return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s): %w; %s", path, why, err, freshHint(cfg))
		}
		return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s); %s", path, why, freshHint(cfg))
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return bad("not JSON", err)
	}
	switch {
	case st.Format != stateFormat:
		return bad(fmt.Sprintf("format %d, want %d", st.Format, stateFormat), nil)
	case st.Generation != cfg.Generation:
		return bad(fmt.Sprintf("it is a %s device, this one is %s", st.Generation, cfg.Generation), nil)
	case len(st.Certificate) == 0 || len(st.Key) == 0:
		return bad("no certificate", nil)
	case len(st.Saved.Accounts) == 0 || len(st.Effective.Accounts) == 0:
		return bad("no accounts", nil)
	case len(st.Saved.PortModes) != cfg.SerialPorts || len(st.Effective.PortModes) != cfg.SerialPorts:
		return bad(fmt.Sprintf("settings for %d serial ports, this device has %d", len(st.Saved.PortModes), cfg.SerialPorts), nil)
	}
	if _, err := net.ParseMAC(st.MAC); err != nil {
		return bad("MAC address", err)
	}
	if _, err := st.certificate(); err != nil {
		return bad("certificate", err)
	}
	for name, p := range st.Ports {
		if p <= 0 || p > 65535 {
			return bad(fmt.Sprintf("port %d for %s", p, name), nil)
		}
	}
	if st.Saved.Logs == nil {
		st.Saved.Logs = map[string]LogTarget{}
	}
	if st.Effective.Logs == nil {
		st.Effective.Logs = map[string]LogTarget{}
	}
	return &st, nil
}

// certificate rebuilds the HTTPS certificate from the file.
func (st *stateFile) certificate() (tls.Certificate, error) {
	return simstate.Certificate(st.Certificate, st.Key)
}

// portTaken is the error for a saved port another program holds.
func portTaken(cfg Config, name string, port int, err error) error {
	return simstate.PortTaken(cfg.StateDir, "device", name, port, err)
}

// persist writes the state file, when the device has a StateDir. A
// Save/Restart that was accepted but has not finished yet is written as
// done: a process killed mid-restart comes back restarted, its saved
// settings effective, as a real unit that lost power during its reboot
// boots on the settings it had saved.
func (d *Device) persist() error {
	if d.cfg.StateDir == "" {
		return nil
	}
	d.persistMu.Lock()
	defer d.persistMu.Unlock()
	d.mu.Lock()
	st := stateFile{Format: stateFormat, Generation: d.cfg.Generation, Model: d.cfg.Model, MAC: d.cfg.MAC, Serial: d.cfg.Serial,
		Ports: d.Ports(), Certificate: d.cert.Certificate, Key: d.keyDER,
		Saved: d.saved.clone(), Effective: d.effective.clone(), Restarts: d.restarts}
	if d.restartPending {
		st.Effective = d.saved.clone()
		st.Restarts++
	}
	d.mu.Unlock()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	if err := simstate.WriteAtomic(statePath(d.cfg), b); err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	return nil
}

// holdSaved holds a service's port (simnet.Hold): the saved one when
// there is one, else a free one.
func holdSaved(cfg Config, name string, udp bool, saved map[string]int) (*simnet.Hold, error) {
	port, ok := saved[name]
	network := "tcp4"
	if udp {
		network = "udp4"
	}
	h, err := simnet.HoldPort(network, net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
	if err != nil {
		if ok {
			return nil, portTaken(cfg, name, port, err)
		}
		return nil, fmt.Errorf("allocate %s port: %w", name, err)
	}
	return h, nil
}

// saveState writes the state file after a change, before the device
// answers. When it cannot, it answers 500 naming the error and reports
// false: the change is made but would not survive the process.
func (d *Device) saveState(w http.ResponseWriter) bool {
	if err := d.persist(); err != nil {
		stateError(w, err)
		return false
	}
	return true
}

// stateError answers a request whose state could not be saved.
func stateError(w http.ResponseWriter, err error) {
	http.Error(w, "simulator: "+err.Error(), http.StatusInternalServerError)
}

package steps

import (
	"encoding/json"
	"fmt"

	"github.com/commission-tool/commission/internal/devices"
)

// Observations returns the state the session's last read produced, as
// JSON: what every automatic step's outcome was derived from, for the
// record to keep and for verify to check again (see catalog.Recheck).
// Secret fields of a State are tagged json:"-" and so never appear.
func (s *Session[S]) Observations() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opened {
		return nil, fmt.Errorf("observations: the device has not been read yet")
	}
	b, err := json.Marshal(s.current)
	if err != nil {
		return nil, fmt.Errorf("observations: %w", err)
	}
	return b, nil
}

// evidencer is a family State that offers evidence files for the record.
type evidencer interface {
	Evidence() []devices.EvidenceFile
}

// Evidence returns the evidence files the state last read offers (a
// certificate seen, probe results, a device log, API replies), or nil if
// the family's State offers none.
func (s *Session[S]) Evidence() []devices.EvidenceFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opened {
		return nil
	}
	if e, ok := any(s.current).(evidencer); ok {
		return e.Evidence()
	}
	return nil
}

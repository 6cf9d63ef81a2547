package devices

// EvidenceFile is one file a family offers as evidence for the record: a
// certificate seen, a probe transcript, a device log, an API reply that
// decided a step. Data must hold no secret.
type EvidenceFile struct {
	Name        string // file name inside the bundle's evidence folder, e.g. "tls-443.pem"
	Description string // one line for the record and the PDF
	Data        []byte
}

package oscal

import (
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/record"
)

func TestStatusIsExported(t *testing.T) {
	sch := compileSchema(t)
	for _, c := range []struct {
		simulated bool
		want      string
	}{{false, `"value": "` + record.StatusOf(sampleRecord()).State + `"`}, {true, `"value": "simulated"`}} {
		r := sampleRecord()
		r.Simulated = c.simulated
		r.Status = record.StatusOf(r)
		b, err := AssessmentResults(r, strings.Repeat("ab", 32))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, sch, b); err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, `"name": "record-status"`)
		if i < 0 || !strings.Contains(s[i:min(len(s), i+200)], c.want) || !strings.Contains(s, record.Headline(r)) {
			t.Errorf("simulated %v: the export lacks the status %s", c.simulated, c.want)
		}
	}
}

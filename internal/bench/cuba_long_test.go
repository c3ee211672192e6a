package bench

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestCUBALong(t *testing.T) {
	if os.Getenv("AERIE_LONG") == "" {
		t.Skip("set AERIE_LONG=1")
	}
	// The acceptance figures of docs/chip.md: over 3 seeds, mean rates
	// within 5 % of 5.5 Hz and mean CV(ISI) within 0.05 of 0.71.
	var e, i, cv float64
	for _, seed := range []uint64{1, 2, 3} {
		r, err := RunCUBA(context.Background(), seed, chip.Default(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: E %.3f Hz I %.3f Hz CV %.3f (E %.3f I %.3f) rtf %.3f", seed, val(r.RateExcHz), val(r.RateInhHz), val(r.CVISI), val(r.CVISIExc), val(r.CVISIInh), val(r.RTF))
		e, i, cv = e+val(r.RateExcHz)/3, i+val(r.RateInhHz)/3, cv+val(r.CVISI)/3
	}
	t.Logf("mean: E %.3f Hz I %.3f Hz CV %.3f", e, i, cv)
	if math.Abs(e/5.5-1) > 0.05 || math.Abs(i/5.5-1) > 0.05 || math.Abs(cv-0.71) > 0.05 {
		t.Errorf("mean rates E %.3f / I %.3f Hz, CV %.3f: outside 5.5 Hz ± 5 %% or 0.71 ± 0.05", e, i, cv)
	}
}

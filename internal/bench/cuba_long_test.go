package bench

import (
	"context"
	"os"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestCUBALong(t *testing.T) {
	if os.Getenv("AERIE_LONG") == "" {
		t.Skip("set AERIE_LONG=1")
	}
	for _, seed := range []uint64{1, 2, 3} {
		p := DefaultCUBA()
		p.Seed = seed
		r, err := RunCUBA(context.Background(), p, chip.Default(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: E %.3f Hz I %.3f Hz CV %.3f (E %.3f I %.3f) rtf %.3f", seed, r.RateExcHz, r.RateInhHz, r.CVISI, r.CVISIExc, r.CVISIInh, r.RTF)
	}
}

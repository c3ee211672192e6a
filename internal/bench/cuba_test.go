package bench

import (
	"context"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestCUBAShort(t *testing.T) {
	r, err := RunCUBA(context.Background(), DefaultCUBA(), chip.Default(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *r)
}

func BenchmarkCUBA(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := RunCUBA(context.Background(), DefaultCUBA(), chip.Default(), 1, w)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.RTF, "rtf")
			}
		})
	}
}

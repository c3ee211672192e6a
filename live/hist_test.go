package live

import (
	"github.com/aerie-neuro/aerie/chip"
	"testing"
	"time"
)

func TestHistBuckets(t *testing.T) {
	prev := -1
	for _, us := range []uint64{0, 1, 31, 32, 33, 63, 64, 100, 1000, 1 << 20, 1 << 30} {
		i := histIndex(us)
		if i <= prev && us > 0 {
			t.Errorf("index of %d (%d) not above the previous (%d)", us, i, prev)
		}
		prev = i
		lo := histValue(i)
		if lo > us || float64(us-lo) > 0.04*float64(us)+1 {
			t.Errorf("%d µs in bucket %d whose lower edge is %d", us, i, lo)
		}
	}
	var h durHist
	for i := 1; i <= 1000; i++ {
		h.observe(time.Duration(i) * time.Microsecond)
	}
	if p := h.quantile(0.5); p < 480 || p > 500 {
		t.Errorf("p50 %v, want about 500", p)
	}
	if p := h.quantile(0.99); p < 950 || p > 990 {
		t.Errorf("p99 %v, want about 990", p)
	}
}

func TestTickQueue(t *testing.T) {
	q := newTickQueue(5, 3)
	if q.horizon() != 8 {
		t.Fatalf("horizon %d, want 8", q.horizon())
	}
	for i, tick := range []uint64{3, 3, 10} {
		if !q.push(tick, portEvent(uint32(i))) {
			t.Fatalf("push %d refused", i)
		}
	}
	if q.push(4, portEvent(9)) {
		t.Error("push beyond the limit accepted")
	}
	got := q.take(3, nil)
	if len(got) != 2 || got[0].Channel != 0 || got[1].Channel != 1 || q.n != 1 {
		t.Errorf("take(3) = %v, %d left", got, q.n)
	}
	if got := q.take(10, nil); len(got) != 1 || got[0].Channel != 2 {
		t.Errorf("take(10) = %v", got)
	}
}

func portEvent(ch uint32) chipPortEvent { return chipPortEvent{Channel: ch} }

type chipPortEvent = chip.PortEvent

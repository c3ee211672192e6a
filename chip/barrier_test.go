package chip

import (
	"sync"
	"testing"
)

// BenchmarkBarrier is the cost of one tick's synchronisation with no work:
// two workers meeting, the last running an empty serial section.
func BenchmarkBarrier(b *testing.B) {
	bar := newBarrier(2)
	var wg sync.WaitGroup
	wg.Add(1)
	n := b.N
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			bar.wait(func() {})
		}
	}()
	for i := 0; i < n; i++ {
		bar.wait(func() {})
	}
	wg.Wait()
}

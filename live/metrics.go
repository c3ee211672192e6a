package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The Prometheus metrics of a server: counters read from the server's
// atomics when scraped (nothing is done per event), a histogram of tick
// durations, and the Go and process collectors (resident memory among
// them). Every name starts with aerie_serve_.

var (
	descTicks      = prometheus.NewDesc("aerie_serve_ticks_total", "Ticks run.", nil, nil)
	descPackets    = prometheus.NewDesc("aerie_serve_packets_in_total", "Datagrams received.", nil, nil)
	descBytes      = prometheus.NewDesc("aerie_serve_bytes_in_total", "Bytes received.", nil, nil)
	descEventsIn   = prometheus.NewDesc("aerie_serve_events_in_total", "Events in valid datagrams from allowed senders.", nil, nil)
	descApplied    = prometheus.NewDesc("aerie_serve_events_applied_total", "Input events handed to the chip.", nil, nil)
	descEventsOut  = prometheus.NewDesc("aerie_serve_events_out_total", "Output-port spikes.", nil, nil)
	descLate       = prometheus.NewDesc("aerie_serve_late_events_total", "Events stamped for a tick that had run.", nil, nil)
	descDropped    = prometheus.NewDesc("aerie_serve_dropped_events_total", "Input events dropped, by reason.", []string{"reason"}, nil)
	descLost       = prometheus.NewDesc("aerie_serve_lost_packets", "Datagrams missing from sequenced streams (can fall when late ones arrive).", nil, nil)
	descDuplicate  = prometheus.NewDesc("aerie_serve_duplicate_packets_total", "Duplicated datagrams of sequenced streams.", nil, nil)
	descMalformed  = prometheus.NewDesc("aerie_serve_malformed_packets_total", "Datagrams that failed to decode.", nil, nil)
	descRefused    = prometheus.NewDesc("aerie_serve_refused_packets_total", "Datagrams from senders outside --allow.", nil, nil)
	descCommands   = prometheus.NewDesc("aerie_serve_commands_total", "EIEIO command packets and SCP requests.", nil, nil)
	descSendErrors = prometheus.NewDesc("aerie_serve_send_errors_total", "Failed output sends.", nil, nil)
	descOverruns   = prometheus.NewDesc("aerie_serve_overruns_total", "Real-time ticks that took longer than their period.", nil, nil)
	descQueue      = prometheus.NewDesc("aerie_serve_queue_depth", "Input events waiting for their tick.", nil, nil)
	descQueueCap   = prometheus.NewDesc("aerie_serve_queue_capacity", "Bound of the input queue.", nil, nil)
	descDests      = prometheus.NewDesc("aerie_serve_destinations", "Output destinations.", nil, nil)
	descCycles     = prometheus.NewDesc("aerie_serve_emulated_cycles_total", "Emulated chip cycles.", nil, nil)
	descEnergy     = prometheus.NewDesc("aerie_serve_emulated_energy_joules_total", "Emulated chip energy.", nil, nil)
)

type collector struct{ s *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTicks, descPackets, descBytes, descEventsIn, descApplied, descEventsOut, descLate,
		descDropped, descLost, descDuplicate, descMalformed, descRefused, descCommands, descSendErrors, descOverruns, descQueue,
		descQueueCap, descDests, descCycles, descEnergy} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	k := &c.s.c
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descTicks, k.ticks.Load())
	counter(descPackets, k.packets.Load())
	counter(descBytes, k.bytes.Load())
	counter(descEventsIn, k.eventsIn.Load())
	counter(descApplied, k.applied.Load())
	counter(descEventsOut, k.eventsOut.Load())
	counter(descLate, k.late.Load())
	counter(descDropped, k.dropQueue.Load(), "queue_full")
	counter(descDropped, k.dropFuture.Load(), "future")
	counter(descDropped, k.dropLate.Load(), "late")
	counter(descDropped, k.dropUnmapped.Load(), "unmapped")
	counter(descDropped, k.dropShutdown.Load(), "shutdown")
	gauge(descLost, float64(k.lost.Load()))
	counter(descDuplicate, k.duplicate.Load())
	counter(descMalformed, k.malformed.Load())
	counter(descRefused, k.refused.Load())
	counter(descCommands, k.commands.Load())
	counter(descSendErrors, k.sendErrors.Load())
	counter(descOverruns, k.overruns.Load())
	gauge(descQueue, float64(k.queueDepth.Load()))
	gauge(descQueueCap, float64(c.s.cfg.Queue))
	gauge(descDests, float64(k.destinations.Load()))
	counter(descCycles, k.cycles.Load())
	ch <- prometheus.MustNewConstMetric(descEnergy, prometheus.CounterValue, math.Float64frombits(k.energyBits.Load()))
}

func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.promTick = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "aerie_serve_tick_duration_seconds",
		Help:    "Wall time of one tick: the chip's step and the output sends.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 2, 18), // 1 µs … 131 ms
	})
	s.reg.MustRegister(collector{s}, s.promTick,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Registry is the server's Prometheus registry (for tests and embedding).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// metricsServer serves /metrics (Prometheus text) and /status (the
// Summary so far, JSON).
type metricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// ServeMetrics binds addr for the metrics endpoint; Run serves it and
// shuts it down on exit. Call it before Run.
func (s *Server) ServeMetrics(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Snapshot())
	})
	s.metrics = &metricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	return ln.Addr(), nil
}

func (m *metricsServer) start() {
	go func() {
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener was closed under it: nothing to do
		}
	}()
}

func (m *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if m.srv.Shutdown(ctx) != nil {
		m.srv.Close()
	}
	m.ln.Close()
}

// statusLoop prints a one-line status every StatusEvery until done.
func (s *Server) statusLoop(done <-chan struct{}) {
	t := time.NewTicker(s.cfg.StatusEvery)
	defer t.Stop()
	start := time.Now()
	var lastIn, lastOut uint64
	last := start
	printed := false
	for {
		select {
		case <-done:
			if printed {
				fmt.Fprintln(s.cfg.Status)
			}
			return
		case now := <-t.C:
			in, out := s.c.eventsIn.Load(), s.c.eventsOut.Load()
			dt := now.Sub(last).Seconds()
			fmt.Fprintf(s.cfg.Status, "\r\x1b[Kaerie serve %s: tick %d, in %.3g ev/s, out %.3g ev/s, queue %d, late %d, dropped %d, malformed %d, refused %d, overruns %d",
				time.Since(start).Truncate(time.Second), s.c.ticks.Load(), float64(in-lastIn)/dt, float64(out-lastOut)/dt,
				s.c.queueDepth.Load(), s.c.late.Load(), s.c.dropped(), s.c.malformed.Load(), s.c.refused.Load(), s.c.overruns.Load())
			lastIn, lastOut, last, printed = in, out, now, true
		}
	}
}

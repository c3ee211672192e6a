// Package bench builds the standard benchmark networks for aerie's chips and
// measures them: the statistics that say the integer emulator reproduces the
// published float network, and the speed and accounting figures.
//
// CUBA (Brette et al. 2007, J Comput Neurosci 23:349; the Brian variant,
// brian2 examples/CUBA.py): 4,000 LIF neurons, 3,200 excitatory and 800
// inhibitory, connected with probability 0.02 per ordered pair; τm 20 ms,
// threshold −50 mV, reset −60 mV, rest E_L −49 mV (intrinsically driven),
// refractory 5 ms, τe 5 ms, τi 10 ms, dt 0.1 ms, one-tick synaptic delay;
// each spike adds 1.62 mV to ge (excitatory) or −9 mV to gi (inhibitory).
//
// # Mapping CUBA onto the integer datapath
//
// The membrane is measured from the reset potential, so reset-to-zero is
// exact: v = 0 is −60 mV, the threshold is 10 mV and E_L is 11 mV. With
// λ = 1 − d/4096 the integer update is
//
//	u_e ← decay(u_e, du_e) + (w_e·n_e << 6)        u_i likewise
//	v   ← decay(v, dv) + u_e + u_i + bias
//
// the exact-integration form of dv/dt = (ge + gi − (v − E_L))/τm with
// u = (1 − λ_m)·g. Decay constants are the exact propagators rounded to
// the 12-bit grid: dv = round(4096·(1 − e^(−dt/τm))) = 20 (τm becomes
// 20.26 ms), du_e + 1 = 81 (τe 5.01 ms), du_i + 1 = 41 (τi 9.99 ms); the
// "+1" is Loihi's hidden offset on du. The weights carry the ratio of the
// jumps exactly: w_e = 45, w_i = −250 (−9/1.62 = −250/45), and the unit is
// fixed by w_e: one mV is 64·45·4096/(dv·1.62) ≈ 364,089 units, so the
// threshold is vth = 56,889 (≪ 6) and the bias (11 mV·dv/4096) is
// 2,444 ≪ 3. The refractory counter is 49: Brian integrates again
// round(5 ms / dt) = 50 steps after a spike, and aerie's counter holds the
// membrane for the ticks in between. Truncating decays bias small states toward zero by at most one
// unit per tick, 3·10⁻⁶ mV: negligible at this scale, which is why the
// truncation that Loihi uses does not move CUBA's statistics (a coarser
// scale would: the same truncation at 16-bit states shortens effective time
// constants by up to a few percent).
package bench

"""CUBA (Brette et al. 2007, Brian's example) in Brian2's C++ standalone mode,
one thread, recording off: the reference figure for `aerie bench cuba`.

    python3 cuba_brian2.py [SECONDS] [SEED]

prints the wall time of the simulation loop (device._last_run_time) and the
real-time factor."""
import sys, time
from brian2 import *

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
seed_ = int(sys.argv[2]) if len(sys.argv) > 2 else 1
set_device('cpp_standalone', directory='cuba_out', build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms
seed(seed_)
taum = 20*ms; taue = 5*ms; taui = 10*ms
Vt = -50*mV; Vr = -60*mV; El = -49*mV
eqs = '''
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
'''
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms, method='exact')
P.v = 'Vr + rand() * (Vt - Vr)'
P.ge = 0*mV
P.gi = 0*mV
we = (60*0.27/10)*mV
wi = (-20*4.5/10)*mV
Ce = Synapses(P, P, on_pre='ge += we')
Ci = Synapses(P, P, on_pre='gi += wi')
Ce.connect('i<3200', p=0.02)
Ci.connect('i>=3200', p=0.02)
count = SpikeMonitor(P, record=False)  # counts only
run(seconds * second)
t0 = time.time()
device.build(directory='cuba_out', compile=True, run=True, debug=False)
print(f"brian2 {__import__('brian2').__version__} cpp_standalone: {seconds} s biological, "
      f"run {device._last_run_time:.3f} s wall, RTF {device._last_run_time/seconds:.4f}, "
      f"mean rate {count.num_spikes/4000/seconds:.2f} Hz")

"""Song, Miller & Abbott (2000) in Brian2's C++ standalone mode: the side of
`synforge bench --brian2` that synforge does not run itself.

The network of Brian2's STDP example (its documentation's examples/synapses/STDP.py), written
out here: 1000 Poisson inputs at 15 Hz onto one conductance-based LIF neuron through additive
pair-STDP synapses with hard bounds, depression 5 % stronger than potentiation, dt 0.1 ms.
`examples/song-brian2.toml` is synforge's config of the same network (its neuron is
current-based; see there).

Prints one JSON line: steps, dt, the compiled program's run time (Brian2's own measurement of
the network run, without compilation), the whole program's wall time, the compilation time,
the output rate and the final weights' histogram in tenths of gmax.
"""
import argparse
import json
import os
import time

import numpy as np
from brian2 import (Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, defaultclock,
                    device, mV, ms, prefs, run, second, seed, set_device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=100.0, help="simulated time, s")
    ap.add_argument("--dir", default="build/bench-brian2", help="Brian2's build folder")
    a = ap.parse_args()
    set_device("cpp_standalone", directory=None, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 0  # one thread, as the bit-accurate model
    defaultclock.dt = 0.1 * ms
    seed(1)

    n = 1000
    taum, taue = 10 * ms, 5 * ms
    e_exc, e_leak = 0 * mV, -74 * mV
    v_th, v_reset = -54 * mV, -60 * mV
    rate = 15 * Hz
    gmax = 0.01
    taupre = taupost = 20 * ms
    a_pre = 0.01 * gmax
    a_post = -0.01 * gmax * 1.05  # taupre / taupost = 1

    inputs = PoissonGroup(n, rates=rate)
    neuron = NeuronGroup(
        1,
        """dv/dt = (ge * (e_exc - v) + e_leak - v) / taum : volt
           dge/dt = -ge / taue : 1""",
        threshold="v > v_th", reset="v = v_reset", method="euler")
    neuron.v = v_reset
    syn = Synapses(
        inputs, neuron,
        """w : 1
           dapre/dt = -apre / taupre : 1 (event-driven)
           dapost/dt = -apost / taupost : 1 (event-driven)""",
        on_pre="""ge += w
                  apre += a_pre
                  w = clip(w + apost, 0, gmax)""",
        on_post="""apost += a_post
                   w = clip(w + apre, 0, gmax)""")
    syn.connect()
    syn.w = "rand() * gmax"
    spikes = SpikeMonitor(neuron)
    run(a.seconds * second)

    t0 = time.perf_counter()
    device.build(directory=a.dir, compile=True, run=False, clean=False)
    t1 = time.perf_counter()
    device.run(directory=a.dir, with_output=False, run_args=[])
    t2 = time.perf_counter()
    w = np.asarray(syn.w[:]) / gmax
    print(json.dumps({
        "steps": int(round(a.seconds / float(defaultclock.dt))),
        "dt_ms": float(defaultclock.dt / ms),
        "run_s": float(device._last_run_time),
        "program_s": t2 - t1,
        "compile_s": t1 - t0,
        "output_hz": spikes.num_spikes / a.seconds,
        "w_tenths": np.histogram(w, bins=10, range=(0, 1))[0].tolist(),
    }))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()

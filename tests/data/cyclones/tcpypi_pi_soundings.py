import numpy as np, json
from tcpyPI import pi
P = np.array([1000,925,850,700,600,500,400,300,250,200,150,100,70,50,30,20,10], float)
T0 = np.array([26.0,22.0,17.5,9.0,2.5,-6.8,-17.3,-32.5,-42.0,-53.5,-66.8,-73.5,-69.0,-63.0,-55.0,-50.0,-42.0])
R0 = np.array([18.0,15.0,12.0,7.5,4.8,3.0,1.6,0.5,0.2,0.06,0.01,0.005,0,0,0,0,0])
rows = []
for sst in (26.0, 28.0, 30.0):
    for dt in (-1.0, 0.0, 1.5):
        for q in (0.8, 1.0):
            for msl in (1010.0, 1014.0):
                T = T0 + dt * np.where(P >= 100, 1.0, 0.3)
                R = R0 * q
                v, pm, ifl, to, otl = pi(sst, msl, P, T, R)
                rows.append(dict(sst=sst, msl=msl, dt=dt, q=q, vmax=float(v), pmin=float(pm), ifl=int(ifl), to=float(to), otl=float(otl)))
import csv, sys
w = csv.writer(sys.stdout)
w.writerow(["sst_c","msl_hpa","t_shift_k","q_factor","vmax_m_s","pmin_hpa","ifl","t_outflow_k","p_outflow_hpa"])
for r in rows:
    w.writerow([r["sst"], r["msl"], r["dt"], r["q"], repr(r["vmax"]), repr(r["pmin"]), r["ifl"], repr(r["to"]), repr(r["otl"])])

"""GPyTorch side of benches/gpytorch_side_by_side.sh: the same whitened SVGP as svgp's
`kernel_steps` (M = 50 inducing points initialised from DIR/*_z.csv, zero mean, Gaussian
likelihood with noise variance 0.01, Adam lr 1e-2, full batch), on the same files, timed per
training step (zero_grad, forward, -ELBO, backward, Adam step). Prints one JSON line.

    python gpytorch_reference.py --kernel rbf-ard|matern52|co2 --data DIR [--steps S]
        [--dtype float64|float32] [--threads T]   (T = 0: torch's default)
"""
import argparse
import json
import time

import numpy as np
import torch
import gpytorch


class Svgp(gpytorch.models.ApproximateGP):
    def __init__(self, z, kernel):
        q = gpytorch.variational.CholeskyVariationalDistribution(z.size(0))
        # VariationalStrategy whitens by default (q over L_zz^-1 u), as svgp does.
        strategy = gpytorch.variational.VariationalStrategy(self, z, q, learn_inducing_locations=True)
        super().__init__(strategy)
        self.mean_module = gpytorch.means.ZeroMean()
        self.covar_module = kernel

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


def kernel_for(name, d):
    k = gpytorch.kernels
    if name == "rbf-ard":
        kern = k.ScaleKernel(k.RBFKernel(ard_num_dims=d))
        kern.base_kernel.lengthscale = 1.0
    elif name == "matern52":
        kern = k.ScaleKernel(k.MaternKernel(nu=2.5, ard_num_dims=d))
        kern.base_kernel.lengthscale = 1.0
    elif name == "co2":
        # RBF trend (sd 1, 50 yr) + periodic (variance 0.05, period 1 yr, lengthscale 1) x RBF
        # decay (60 yr), as kernel_steps sets it.
        trend = k.ScaleKernel(k.RBFKernel())
        trend.base_kernel.lengthscale = 50.0
        per, decay = k.PeriodicKernel(), k.RBFKernel()
        per.period_length, per.lengthscale, decay.lengthscale = 1.0, 1.0, 60.0
        seasonal = k.ScaleKernel(per * decay)
        seasonal.outputscale = 0.05
        trend.outputscale = 1.0
        return trend + seasonal
    else:
        raise SystemExit(f"unknown kernel {name}")
    kern.outputscale = 1.0
    return kern


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    file = "co2" if a.kernel == "co2" else "synth"
    xy = np.loadtxt(f"{a.data}/{file}.csv", delimiter=",", ndmin=2)
    zz = np.loadtxt(f"{a.data}/{file}_z.csv", delimiter=",", ndmin=2)
    x = torch.tensor(xy[:, :-1], dtype=dtype)
    y = torch.tensor(xy[:, -1], dtype=dtype)
    z = torch.tensor(zz[:, :-1], dtype=dtype)
    n, d = x.shape
    model = Svgp(z, kernel_for(a.kernel, d)).to(dtype)
    lik = gpytorch.likelihoods.GaussianLikelihood().to(dtype)
    lik.noise = 0.01
    model.train()
    lik.train()
    opt = torch.optim.Adam(list(model.parameters()) + list(lik.parameters()), lr=1e-2)
    mll = gpytorch.mlls.VariationalELBO(lik, model, num_data=n)
    times, first, loss = [], None, None
    for s in range(a.steps + 5):
        t = time.perf_counter()
        opt.zero_grad()
        out = model(x)
        loss = -mll(out, y)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t
        if s == 0:
            first = loss.item() * n
        if s >= 5:
            times.append(dt)
    print(json.dumps({
        "kernel": a.kernel, "n": n, "d": d, "m": z.shape[0], "steps": a.steps,
        "step_ms": 1e3 * float(np.median(times)), "loss0": first, "loss": loss.item() * n,
        "dtype": a.dtype, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "gpytorch": gpytorch.__version__,
    }))


if __name__ == "__main__":
    main()

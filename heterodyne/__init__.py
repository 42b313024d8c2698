"""Heterodyne two-time XPCS analysis (He et al., PNAS 2024 and 2025).

The Python API (:mod:`heterodyne.api`) is loaded on first use, so ``import heterodyne`` stays
fast and does no JAX work: the command line sets thread budgets before jax starts.

    import heterodyne as ht
    config = ht.load_config("run.yaml")
    data = ht.load_data(config)
    fit = ht.fit_nlsq(config, data)
    posterior = ht.sample_cmc(config, data, nlsq_result=fit)
"""

from importlib.metadata import version

__version__ = version("heterodyne")

API = ("load_config", "load_data", "fit_nlsq", "sample_cmc", "cmc_plan", "sample_cmc_shard", "combine_cmc",
       "compare_models", "load_run", "plot_results", "simulate", "NlsqResult", "CmcResult", "Run")
__all__ = ["__version__", *API]


def __getattr__(name: str):
    if name in API:
        from heterodyne import api

        return getattr(api, name)
    raise AttributeError(f"module 'heterodyne' has no attribute {name!r}")

"""Consensus Monte Carlo (docs/cmc.md): shard plan, per-shard NUTS, diagnostics, combination."""

"""Consensus Monte Carlo (spec/cmc.md): shard plan, per-shard NUTS, diagnostics, combination."""

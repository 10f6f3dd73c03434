"""Machinery the checks share that is the product's own: latency sampling and histograms."""

"""Nonlinear least squares: the joint multi-angle fit of the heterodyne model."""

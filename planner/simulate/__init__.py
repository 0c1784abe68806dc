"""Failure simulations that read a plan: incident replay and availability Monte Carlo."""

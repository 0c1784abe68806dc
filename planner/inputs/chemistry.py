"""Constants the input validators need: battery chemistry names and IEEE 485's
temperature table. The discharge models that use them live in :mod:`planner.power.battery`."""

from __future__ import annotations

#: The battery chemistries the power models know (``planner.power.battery.CHEMISTRIES``).
CHEMISTRY_NAMES: tuple[str, ...] = ("lfp", "vrla")

#: IEEE 485 Table 1: cell temperature [deg C] -> capacity correction factor (25 C = 1).
IEEE485_TEMPERATURE_TABLE: tuple[tuple[float, float], ...] = (
    (-3.9, 1.520),
    (-1.1, 1.430),
    (1.7, 1.350),
    (4.4, 1.300),
    (7.2, 1.250),
    (10.0, 1.190),
    (12.8, 1.150),
    (15.6, 1.110),
    (18.3, 1.080),
    (21.1, 1.040),
    (23.9, 1.005),
    (25.0, 1.000),
)

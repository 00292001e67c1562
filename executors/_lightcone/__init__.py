"""Lightcone's hosted computers through the official SDK (extra ``screenloop[lightcone]``)."""

from executors._lightcone._computer import LIGHTCONE_CAPABILITIES, LightconeComputer

__all__ = ["LIGHTCONE_CAPABILITIES", "LightconeComputer"]

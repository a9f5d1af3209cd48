"""maiga: Make AI Goodness Again.

An emotional network that maps text, thought by thought, to emotion strengths learnt from many
people's reactions; the later stages of the essay build on it.
"""

from maiga.errors import MaigaError

__version__ = "0.1.0"
__all__ = ["MaigaError", "__version__"]

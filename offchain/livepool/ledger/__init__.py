"""The ledger package: the only code that speaks SQL (see :mod:`livepool.ledger.database`).

A re-export shim so ``from livepool.ledger import Ledger`` keeps working while the package
is being restructured on main; main's own ``__init__`` supersedes this file at merge.
"""

from livepool.ledger.database import *  # noqa: F403
from livepool.ledger.database import __all__ as __all__

"""The pool service: FastAPI app serving proofs, statements, stats and authenticated ingest.

Build it with :func:`livepool.api.app.create_app`; run it with ``livepool serve``.
"""

__all__: list[str] = []

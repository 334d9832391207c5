"""The disclosure service: records arrive over HTTP, approvers decide on web pages, approvals are signed.

``clearance serve`` runs it (FastAPI on uvicorn, SQLAlchemy on SQLite or PostgreSQL). The service
re-evaluates every submitted version with its own policy and never trusts a client's decision.
"""

DEFAULT_PORT = 8750
DEFAULT_HOST = "127.0.0.1"
API_PREFIX = "/api/v1"

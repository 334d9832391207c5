"""The service's tables. Migrations in ``migrations/`` must produce exactly this schema (a test checks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("artist", "approver", "admin", "legal")
"""legal registers and withdraws consent entries (the consent registry); it decides nothing else."""
RECORD_STATUSES = ("notified", "waiting", "approved", "denied", "prohibited", "revoked")
"""notified: disclosed, no approval needed; waiting: an approval request awaits a decision;
approved / denied: the latest version was decided; prohibited: cannot be approved; revoked: its approval was revoked."""
REQUEST_STATUSES = ("waiting", "approved", "denied", "superseded")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Production(Base):
    __tablename__ = "productions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # On: an artist sees, lists and versions only the records of their own vendor (approvers, admins: all).
    vendor_isolation: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    roles: Mapped[list[Role]] = relationship(back_populates="user", lazy="selectin")


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "production_id", "role", name="uq_roles_user_production_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    production_id: Mapped[int] = mapped_column(ForeignKey("productions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    vendor: Mapped[str | None] = mapped_column(String(200), nullable=True)  # whose records an artist works on

    user: Mapped[User] = relationship(back_populates="roles")
    production: Mapped[Production] = relationship(lazy="joined")


class ApiToken(Base):
    """Only the sha256 of a token is kept: the token itself is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A web login. The cookie carries a signed random id; only its sha256 is stored."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PublicKey(Base):
    """A signing key's public half as GET /api/v1/keys shows it, published by the host that holds the private
    half: every host serves every key, so an approval from any host verifies after a pull from any."""

    __tablename__ = "public_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServerSecret(Base):
    """Secrets every server process behind a load balancer must share (the session-cookie key)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (Index("ix_records_production_status", "production_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    production_id: Mapped[int] = mapped_column(ForeignKey("productions.id"))
    status: Mapped[str] = mapped_column(String(20))
    latest_version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    vendor: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)  # the latest version's
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    production: Mapped[Production] = relationship(lazy="joined")
    versions: Mapped[list[RecordVersion]] = relationship(
        back_populates="record", order_by="RecordVersion.version", lazy="raise"
    )


class RecordVersion(Base):
    """Every submitted version is kept. Same record id and content digest = a retry, never a new row."""

    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint("record_id", "version", name="uq_record_versions_record_version"),
        UniqueConstraint("record_id", "content_digest", name="uq_record_versions_record_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(80))
    decision_digest: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(200), default="")
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    record: Mapped[Record] = relationship(back_populates="versions")


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Approval(Base):
    """A signed approval, the JSON document kept verbatim as it was signed and sent."""

    __tablename__ = "approvals"

    approval_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(100))
    signed_json: Mapped[str] = mapped_column(Text)


class Denial(Base):
    __tablename__ = "denials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    denied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class Revocation(Base):
    __tablename__ = "revocations"

    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.approval_id", ondelete="CASCADE"), primary_key=True)
    revoked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One state change or refusal. ``hash`` chains every entry to the one before (see audit.py)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    object: Mapped[str] = mapped_column(String(200))
    production: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry's seq and hash, one row. Writers lock it, so the chain has one order across processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Preview(Base):
    """A small picture of one target of a record, sent by the client; shown on the approver's pages."""

    __tablename__ = "previews"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str] = mapped_column(String(400), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Consent(Base):
    """A consent registry entry (clearance.consent.ConsentEntry). The signed document stays with legal."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    production_id: Mapped[int] = mapped_column(ForeignKey("productions.id"), index=True)
    talent: Mapped[str] = mapped_column(String(300))
    given_by: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(Text)
    guild_terms: Mapped[str] = mapped_column(Text, default="")
    document_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    signed_json: Mapped[str] = mapped_column(Text)

    production: Mapped[Production] = relationship(lazy="joined")

"""The packet's readable content: one entry per use, the per-shot map from the cut, an Article 50 assessment.

Article 50(4) of the EU AI Act (Regulation (EU) 2024/1689), applying from 2 August 2026: deployers of an AI
system that generates or manipulates image, audio or video content constituting a deep fake shall disclose
that the content has been artificially generated or manipulated; where the content forms part of an
evidently artistic, creative, satirical, fictional or analogous work, the obligation is limited to
disclosing it in an appropriate manner that does not hamper the display or enjoyment of the work. A deep
fake (Article 3(60)) is AI-generated or manipulated image, audio or video content that resembles existing
persons, objects, places, entities or events and would falsely appear to a person to be authentic or
truthful.

The assessment is the policy's when the record was decided under a policy with the ``DISCLOSURE-DEEPFAKE``
rule; otherwise it is read from the record's realism, talent and media answers. Either way it is a
suggestion for the people who sign the delivery off, with the reason stated, never a legal opinion.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from clearance.approvals import Revocations, SignedApproval, TrustedKeys, parse_approval
from clearance.packet.sources import PacketSource
from clearance.record import UseRecord, record_from_data

DEEPFAKE_RULE = "DISCLOSURE-DEEPFAKE"
AUDIOVISUAL = ("image", "video", "audio", "voice", "3d")
FICTIONAL = ("fiction",)

Verdict = Literal["yes", "no", "unsure"]


@dataclass
class ApprovalView:
    approval_id: str
    approver: str
    issued_at: str
    expires_at: str
    conditions: str
    key_id: str
    state: str
    reason: str


@dataclass
class UseView:
    record: UseRecord
    record_id: str
    decision: dict[str, Any]
    status: str
    approvals: list[ApprovalView]
    denial: str = ""

    @property
    def outcome(self) -> str:
        return str(self.decision.get("outcome") or "")

    @property
    def rules(self) -> list[str]:
        return [str(f.get("rule")) for f in self.decision.get("findings") or [] if f.get("outcome") != "notify"]

    def finding(self, rule: str) -> dict[str, Any] | None:
        return next((f for f in self.decision.get("findings") or [] if f.get("rule") == rule), None)

    @property
    def cleared(self) -> bool:
        """May it go out (clearance.standing: not needed, or approved)?"""
        return self.status in ("not needed", "approved")


@dataclass
class Assessment:
    deep_fake: Verdict
    why: str
    disclosure: str
    artistic: bool


@dataclass
class ClipView:
    name: str
    track: str
    timecode_in: str
    timecode_out: str
    record_id: str | None
    status: str
    media: str


@dataclass
class ShotView:
    shot: str
    clips: list[ClipView] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    untagged_ai: list[ClipView] = field(default_factory=list)
    assessment: Assessment | None = None

    @property
    def timecode_in(self) -> str:
        return min((c.timecode_in for c in self.clips), default="")

    @property
    def timecode_out(self) -> str:
        return max((c.timecode_out for c in self.clips), default="")


def revocation_documents(bundle: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The signed revocation lists a packet carries (``{"documents": [...]}``; one bare list is accepted too)."""
    if bundle is None:
        return []
    if isinstance(bundle.get("documents"), list):
        return [d for d in bundle["documents"] if isinstance(d, dict)]
    return [bundle]


class _NoOutbox:
    def entries(self, record_id: str) -> list[Any]:
        return []


def uses(source: PacketSource, now: datetime) -> list[UseView]:
    """Each record with where it stands, judged by clearance.standing from the packet's own signed documents.

    The packet states the approvals as of its making: its revocation list is the reference, however old.
    What the service said (waiting, denied) is unsigned and can only explain or tighten a standing.
    """
    from clearance.decision import Decision
    from clearance.standing import Judge
    from clearance.trust import TrustInputs

    keys = TrustedKeys.from_document(source.keys, "packet keys") if source.keys else TrustedKeys()
    revocations = None
    for document in revocation_documents(source.revocations):
        found = Revocations.from_document(document, keys=keys, source="packet revocation list")
        revocations = found if revocations is None else revocations.union(found)
    by_record: dict[str, list[SignedApproval]] = {}
    for doc in source.approvals:
        approval = parse_approval(doc, "packet approval")
        by_record.setdefault(str(approval.statement.record_id), []).append(approval)
    age = now - (revocations.as_of() or now) if revocations is not None else timedelta(0)
    trust = TrustInputs(
        keys=keys, key_source="packet", revocations=revocations, max_revocation_age=max(age, timedelta(0)),
        approvals_for=lambda record_id: list(by_record.get(str(record_id), [])),
        facts_for=lambda record_id: source.views.get(str(record_id)), now=now,
    )
    judge = Judge(None, trust)
    judge._outbox = _NoOutbox()  # a packet is judged from its own documents, never this machine's outbox
    out = []
    for record_id, data in source.records.items():
        record = record_from_data(data, f"record {record_id}")
        decision = Decision.model_validate(source.decisions[record_id])
        standing = judge.standing(record, None, decision=decision)
        views = []
        for approval, state, reason in judge.approval_states(record):
            st = approval.statement
            views.append(ApprovalView(
                approval_id=st.approval_id, approver=st.approver,
                issued_at=st.issued_at.isoformat(timespec="minutes"),
                expires_at=st.expires_at.isoformat(timespec="minutes") if st.expires_at else "",
                conditions=st.conditions, key_id=approval.key_id, state=state,
                reason="" if state == "valid" else reason,
            ))
        out.append(UseView(record=record, record_id=record_id, decision=source.decisions[record_id],
                           status=standing.verdict.replace("_", " "), approvals=views,
                           denial=source.denials.get(record_id, "") or (standing.denial_reason or "")))
    out.sort(key=lambda u: (u.record.production, u.record.description, u.record_id))
    return out


def assess(views: list[UseView]) -> Assessment:
    """Article 50(4) for the uses seen in one shot (or one use)."""
    if not views:
        return Assessment("no", "no GenAI use is tagged here", "", False)
    artistic = all(v.record.use.content_type in FICTIONAL for v in views)
    for view in views:
        finding = view.finding(DEEPFAKE_RULE)
        if finding is not None:
            text = str(finding.get("remedy") or "")
            return Assessment("yes", str(finding.get("message") or "the policy found a deep fake"),
                              text or suggested_text(views, artistic), artistic)
    reasons: list[str] = []
    unsure: list[str] = []
    for view in views:
        r = view.record
        if r.use.media not in AUDIOVISUAL:
            continue
        name = _label(view)
        disclosed = _audience_disclosure(r)
        places = getattr(r.realism, "depicts_real_places", "no")  # record v2
        if getattr(r.realism, "photorealistic", "unsure") == "no":
            continue  # v2: not realistic enough to appear authentic, so not a deep fake (Art. 3(60))
        if r.talent.digital_replica == "yes":
            reasons.append(f"{name}: a digital replica of a real performer")
        elif r.realism.depicts_real_people_or_events == "yes":
            reasons.append(f"{name}: depicts real people or events")
        elif places == "yes":
            reasons.append(f"{name}: depicts real places or objects")
        elif r.talent.alteration in ("significant", "new_performance"):
            reasons.append(f"{name}: alters a real performance ({r.talent.alteration.replace('_', ' ')})")
        elif "unsure" in (r.realism.depicts_real_people_or_events, r.talent.digital_replica):
            unsure.append(f"{name}: whether it depicts real people or events is unanswered")
        if reasons and disclosed in ("on_screen_label", "credits") and reasons[-1].startswith(name):
            reasons[-1] += f" (already disclosed: {disclosed.replace('_', ' ')})"
    if reasons:
        return Assessment("yes", "; ".join(reasons), suggested_text(views, artistic), artistic)
    if unsure:
        return Assessment("unsure", "; ".join(unsure) + " - answer it in the record",
                          suggested_text(views, artistic), artistic)
    media = sorted({v.record.use.media for v in views})
    return Assessment("no", f"generated {', '.join(media)} that depicts no real person, place or event", "", artistic)


def _audience_disclosure(record: UseRecord) -> str:
    value = getattr(record, "audience_disclosure", None) or getattr(record.realism, "audience_disclosure", None)
    return str(value or "")


def _label(view: UseView) -> str:
    return (view.record.description or view.record_id)[:60]


def suggested_text(views: list[UseView], artistic: bool) -> str:
    voices = any(v.record.use.media in ("voice", "audio") for v in views)
    pictures = any(v.record.use.media in ("image", "video", "3d") for v in views)
    what = " and ".join(w for w, on in (("images", pictures), ("voices", voices)) if on) or "content"
    if artistic:
        return (f"End credits: \"Some {what} of real people or places in this programme were created or altered "
                "with artificial intelligence.\"")
    return (f"On-screen label while shown: \"AI-generated {what[:-1] if what.endswith('s') else what}: this "
            "depiction was created or altered with artificial intelligence.\"")


def shots(report: Any, views: dict[str, UseView]) -> list[ShotView]:
    """Clips of the cut grouped by shot (the tag's shot target, else the clip name), in timeline order."""
    groups: OrderedDict[str, ShotView] = OrderedDict()
    for clip in report.clips:
        target = clip.target or ""
        if target.startswith("shot:"):
            shot = target.split(":", 1)[1]
        elif target and ":" not in target:
            shot = target  # a bare reference is the shot code the tag was given
        else:
            shot = clip.name
        entry = groups.setdefault(shot, ShotView(shot=shot))
        view = ClipView(clip.name, clip.track, clip.timecode_in, clip.timecode_out, clip.record_id, clip.status,
                        clip.media)
        if clip.status == "untagged_ai":
            entry.untagged_ai.append(view)
        entry.clips.append(view)
        if clip.record_id and clip.record_id not in entry.record_ids:
            entry.record_ids.append(clip.record_id)
    for entry in groups.values():
        entry.assessment = assess([views[r] for r in entry.record_ids if r in views])
        if entry.untagged_ai and entry.assessment.deep_fake == "no":
            entry.assessment = Assessment("unsure", "AI media found untagged: nobody has said what it depicts",
                                          suggested_text([], True), True)
    return list(groups.values())

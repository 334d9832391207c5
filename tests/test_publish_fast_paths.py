"""The collector's and validators' fast paths give what the plain paths give.

- ``create_instances`` makes the instances ``context.create_instance`` makes (and makes them that way when
  anything about pyblish differs from what its fast path expects);
- the collector takes the record id a host handed on with its digests, and computes it otherwise;
- ``tool_registered`` and ``temp_not_final`` say what the per-item checks said, item by item.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pyblish.api
import pyblish.plugin
import pytest
from records import make_record

from clearance.items import GenAIItem
from clearance.policy import load_policy
from clearance.policy.settings import ValidatorSetting
from clearance.pyblish import checks, instances
from clearance.pyblish.collect import CHECKS_KEY, ItemCheck, collect_checks
from clearance.record import Target, UseRecord, content_digest, decision_digest

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _entries(count: int) -> list[tuple[str, dict[str, Any]]]:
    return [(f"item{i}", {"family": "clearance.genai", "families": [], "label": f"Item {i}", "optional": False,
                          "publish": True, "clearance_families": ["render"], "clearance_record_ids": [str(i)]})
            for i in range(count)]


def _shape(instance: Any) -> tuple[Any, ...]:
    """Everything about an instance but its id."""
    return (type(instance), sorted(vars(instance)), type(instance.data), sorted(vars(instance.data)),
            instance.data._parent is instance, instance.name, list(instance.data.items()), instance.parent)


def test_random_ids_are_version_4_uuids() -> None:
    ids = instances.random_ids(2000)
    assert len(set(ids)) == 2000
    for made in ids:
        assert UUID4.match(made), made
        assert uuid.UUID(made).version == 4 and str(uuid.UUID(made)) == made
    assert {made[19] for made in ids} == set("89ab")  # every variant digit drawn, none other
    assert instances.random_ids(0) == []


def test_instances_are_made_as_create_instance_makes_them() -> None:
    entries = _entries(50)
    plain = pyblish.api.Context()
    expected = [plain.create_instance(name, **data) for name, data in entries]
    fast = pyblish.api.Context()
    made = instances.create_instances(fast, entries)
    assert list(fast) == made and len(made) == 50
    for mine, theirs in zip(made, expected, strict=True):
        assert _shape(mine)[:-1] == _shape(theirs)[:-1]
        assert mine.parent is fast and mine.context is fast
        assert UUID4.match(mine.id)
        assert fast[mine.id] is mine and mine.id in fast and mine == fast.get(mine.id)
        assert mine.data("name") == mine.name
    assert len({i.id for i in made}) == 50
    assert instances.create_instances(pyblish.api.Context(), []) == []
    with pytest.raises(TypeError):  # as create_instance(name, name=...) raises
        instances.create_instances(pyblish.api.Context(), [*entries[:3], ("x", {"name": "y"})])


def test_a_context_that_makes_its_own_instances_makes_every_one() -> None:
    made_by_context: list[str] = []

    class StudioContext(pyblish.plugin.Context):
        def create_instance(self, name: str, **kwargs: Any) -> Any:
            made_by_context.append(name)
            return super().create_instance(name, studio=True, **kwargs)

    context = StudioContext()
    made = instances.create_instances(context, _entries(20))
    assert made_by_context == [f"item{i}" for i in range(20)]
    assert all(i.data["studio"] is True for i in made)


def test_an_instance_unlike_the_expected_one_makes_every_one_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another pyblish version's instance (here: one more attribute) turns the fast path off."""
    init = pyblish.plugin.AbstractEntity.__init__

    def with_more(self: Any, name: str, parent: Any = None) -> None:
        init(self, name, parent)
        self._created_by = "another pyblish"

    monkeypatch.setattr(pyblish.plugin.AbstractEntity, "__init__", with_more)
    made = instances.create_instances(pyblish.api.Context(), _entries(20))
    assert [i._created_by for i in made] == ["another pyblish"] * 20


def test_instance_data_unlike_the_expected_data_makes_every_one_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    init = pyblish.plugin.Instance.__init__

    def with_more(self: Any, name: str, parent: Any = None, **kwargs: Any) -> None:
        init(self, name, parent, **kwargs)
        self.data["created"] = "now"

    monkeypatch.setattr(pyblish.plugin.Instance, "__init__", with_more)
    made = instances.create_instances(pyblish.api.Context(), _entries(20))
    assert [i.data["created"] for i in made] == ["now"] * 20


# ------------------------------------------------------------------------------------------ the collector


def _item(record: UseRecord, index: int, *, handed: bool, record_id: str | None = None) -> GenAIItem:
    extra: dict[str, Any] = {}
    if handed:
        extra = {"record_id": record_id or str(record.id), "record_digest": decision_digest(record),
                 "content_digest": content_digest(record)}
    return GenAIItem(host="blender", handle=f"objects:O{index}", label=f"O{index}",
                     target=Target(kind="asset", ref=f"objects:O{index}"), record=record, extra=extra)


def _collected(items: list[GenAIItem]) -> list[ItemCheck]:
    context = pyblish.api.Context()
    context.data["clearance_policy"] = load_policy([])
    context.data["clearance_items"] = items
    return collect_checks(context)


def _answers(found: list[ItemCheck]) -> list[tuple[Any, ...]]:
    return [(c.name, c.record_id, c.content, c.digest, c.decision.outcome if c.decision else None,
             c.decision.rules if c.decision else None, c.instance.data["clearance_record_ids"]) for c in found]


def test_handed_on_facts_give_the_same_checks_as_computed_ones() -> None:
    records = [make_record(kind) for kind in ("notify", "approval", "prohibited", "approval")]
    handed = _collected([_item(r, i, handed=True) for i, r in enumerate(records)])
    computed = _collected([_item(r, i, handed=False) for i, r in enumerate(records)])
    assert _answers(handed) == _answers(computed)
    assert [c.record_id for c in computed] == [str(r.id) for r in records]


def test_a_record_id_without_the_hosts_digests_is_not_taken() -> None:
    """Only a host that checked the record against its tag (and says so with the digests) hands the id on."""
    record = make_record()
    item = GenAIItem(host="nuke", handle="Read1", label="Read1", target=Target(kind="node", ref="Read1"),
                     record=record, extra={"record_id": "not the record's id"})
    assert _collected([item])[0].record_id == str(record.id)
    odd = _item(record, 0, handed=True)
    odd.extra["record_id"] = uuid.UUID(str(record.id))  # not text: computed again
    assert _collected([odd])[0].record_id == str(record.id)


# ------------------------------------------------------------------------------------------ the validators


def _plain_tool_registered(context: Any, items: list[ItemCheck]) -> tuple[list[Any], list[Any]]:
    """The check item by item, as it was written before its answers were shared between records."""
    policy = context.data["clearance_policy"]
    known = checks._registry(policy)
    failures, warnings = [], []
    for check in items:
        if check.record is None:
            continue
        unknown = [t.name for t in check.record.tools if t.name.casefold() not in known] or (
            [] if check.record.tools else ["(no tool named)"])
        if unknown:
            finding = checks._failure(check, f"tool {', '.join(unknown)} is not in the policy's tool registry")
            (failures if policy.publish.block_unknown_tools else warnings).append(finding)
    return failures, warnings


def _plain_temp_not_final(context: Any, items: list[ItemCheck]) -> list[Any]:
    finals = set(context.data["clearance_policy"].publish.final_deliverable_families)
    failures = []
    for check in items:
        record = check.record
        if record is None:
            continue
        final_family = [f for f in check.families if f in finals]
        if not final_family and not check.item.deliverable:
            continue
        where = f"family {final_family[0]}" if final_family else "a final deliverable"
        if record.use.stage in checks.TEMPORARY_STAGES:
            failures.append(checks._failure(check, f"{record.use.stage} material going into {where}"))
        elif record.use.in_final_deliverable == "no":
            failures.append(checks._failure(
                check, f"the record says in_final_deliverable: no, but it is going into {where}"))
    return failures


def _varied_checks() -> list[ItemCheck]:
    """Records sharing tool lists, records of their own, one on many items, no tools, known and unknown tools,
    temporary and final material in final and other families."""
    shared = make_record("approval")
    tools = [
        [{"name": "Firefly", "environment": "enterprise"}],
        [{"name": "UnheardOf", "environment": "consumer"}],
        [{"name": "firefly"}, {"name": "Mystery Model"}],
        [],
    ]
    records: list[UseRecord] = []
    for index in range(24):
        if index % 5 == 4:
            records.append(shared)
            continue
        kind = ("notify", "approval")[index // 4 % 2]
        record = make_record(kind)
        record = record.model_copy(update={"tools": [record.tools[0].model_copy(update=t) for t in
                                                     tools[index % len(tools)]]})
        records.append(record)
    made = []
    for index, record in enumerate(records):
        item = GenAIItem(host="standalone", handle=f"i{index}", label=f"i{index}",
                         target=Target(kind="asset", ref=f"i{index}"), record=record, deliverable=index % 3 == 0)
        families = [["render"], ["review"], ["review", "comp"], []][index % 4]
        made.append(ItemCheck(item=item, name=f"i{index}", families=families, record=record,
                              record_id=str(record.id)))
    untagged = GenAIItem(host="standalone", handle="u", label="u", target=Target(kind="asset", ref="u"))
    made.append(ItemCheck(item=untagged, name="u", families=["render"]))
    return made


@pytest.mark.parametrize("block", [False, True])
def test_tool_registered_says_what_the_item_by_item_check_says(block: bool, tmp_path: Any) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"publish:\n  block_unknown_tools: {str(block).lower()}\n", encoding="utf-8")
    context = pyblish.api.Context()
    context.data["clearance_policy"] = load_policy([str(policy_file)])
    items = _varied_checks()
    out = checks.tool_registered(context, items, ValidatorSetting())
    failures, warnings = _plain_tool_registered(context, items)
    assert (out.failures, out.warnings) == (failures, warnings)
    assert failures or warnings  # the data has unknown tools
    assert any("(no tool named)" in f.message for f in failures + warnings)


def test_temp_not_final_says_what_the_item_by_item_check_says() -> None:
    context = pyblish.api.Context()
    context.data["clearance_policy"] = load_policy([])
    context.data[CHECKS_KEY] = items = _varied_checks()
    out = checks.temp_not_final(context, items, ValidatorSetting())
    assert out.failures == _plain_temp_not_final(context, items)
    assert {"family render", "family comp", "a final deliverable"} <= {
        f.message.rsplit("into ", 1)[1] for f in out.failures}

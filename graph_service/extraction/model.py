"""The data an extraction works with and returns: known names, evidence, proposals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityProposal", "Evidence", "Extraction", "GazetteerEntry", "LinkProposal"]


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    """A known name: a division of the register or a node of the graph.

    Attributes
    ----------
    name : str
        The name as stored (``台头村``, ``平原县``, ``“红色硒谷”党建联盟``).
    label : str
        The schema label (``Village``, ``Region``, ``PartyOrganization`` …).
    node_id : str or None
        The graph node's id, when the name is a node.
    kind : str or None
        The schema kind (``乡镇``, ``党支部`` …).
    region_code : str or None
        The division code: a region's or village's own code, else the code of the region
        the node sits in.
    aliases : tuple of str
        Other spellings (``台头``, ``台头村委会``).
    """

    name: str
    label: str
    node_id: str | None = None
    kind: str | None = None
    region_code: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence of a document and where it is: ``text[start:end] == sentence``."""

    sentence: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EntityProposal:
    """An entity found in a text, proposed for the graph.

    Attributes
    ----------
    key : str
        Stable within one extraction (``e1``, ``e2`` …); links refer to it.
    name : str
        The name as first written in the text.
    label : str
        The schema label.
    kind : str or None
        The schema kind when the name's suffix tells it.
    region_code : str or None
        The division code of a known region or village, else the code of the region the
        text places it in (the nearest region mentioned before it).
    node_id : str or None
        The id of the known node it names, ``None`` for a new one.
    mentions : tuple of (int, int)
        Character offsets of every mention in the text.
    evidence : Evidence
        The first sentence mentioning it.
    confidence : float
        0–1: how sure the rule that found it is.
    """

    key: str
    name: str
    label: str
    kind: str | None
    region_code: str | None
    node_id: str | None
    mentions: tuple[tuple[int, int], ...]
    evidence: Evidence
    confidence: float


@dataclass(frozen=True, slots=True)
class LinkProposal:
    """A link between two proposed entities, found from a trigger phrase.

    Attributes
    ----------
    key : str
        Stable within one extraction (``l1``, ``l2`` …).
    type : str
        The schema link type; its ends satisfy :func:`graph_service.schema.link_allows`.
    source, target : str
        Keys of :class:`EntityProposal`.
    phrase : str
        The trigger phrase found in the sentence (``结对帮扶``, ``领办`` …).
    valid_from : str or None
        ISO date the sentence states (``2020年4月28日`` → ``2020-04-28``).
    figures : tuple of dict
        Figures stated in the sentence: ``label``, ``value``, ``unit``, ``text``.
    evidence : Evidence
        The sentence.
    confidence : float
        0–1.
    """

    key: str
    type: str
    source: str
    target: str
    phrase: str
    valid_from: str | None
    figures: tuple[dict[str, Any], ...]
    evidence: Evidence
    confidence: float


@dataclass(frozen=True, slots=True)
class Extraction:
    """What :func:`graph_service.extraction.extract` found in one text."""

    entities: tuple[EntityProposal, ...] = field(default=())
    links: tuple[LinkProposal, ...] = field(default=())
    sentences: int = 0

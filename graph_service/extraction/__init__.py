"""Offline extraction of entities and links from an article about 党建联建.

Pure functions: no store, no network, no model. A :class:`Gazetteer` of known names (the
division register, the graph) is built once; :func:`extract` finds in a text the entities
the domain's grammar of names describes (a proper-name stem and a suffix of
:mod:`graph_service.vocabulary`; coordinate lists; nested names; quoted brand names;
``X产业``; a person after a title) and the links its trigger phrases state, each with the
sentence it came from.
"""

from __future__ import annotations

from graph_service.extraction.gazetteer import Gazetteer
from graph_service.extraction.model import (
    EntityProposal,
    Evidence,
    Extraction,
    GazetteerEntry,
    LinkProposal,
)
from graph_service.extraction.pipeline import extract
from graph_service.extraction.sentences import split_sentences

__all__ = [
    "EntityProposal",
    "Evidence",
    "Extraction",
    "Gazetteer",
    "GazetteerEntry",
    "LinkProposal",
    "extract",
    "split_sentences",
]

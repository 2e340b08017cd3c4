"""The extraction of one text: sentences, mentions, entities, links."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from graph_service.extraction.figures import find_date, find_figures
from graph_service.extraction.gazetteer import Gazetteer
from graph_service.extraction.links import LinkCandidate, sentence_links, short_form_region
from graph_service.extraction.mentions import Mention, SentenceScanner, canonical_name
from graph_service.extraction.model import EntityProposal, Evidence, Extraction, LinkProposal
from graph_service.extraction.sentences import split_sentences
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES
from graph_service.search_text import fold
from graph_service.vocabulary import ORGANISATION_SUFFIXES

__all__ = ["extract"]

_COMPANY_SUFFIXES = ORGANISATION_SUFFIXES["company"] + ORGANISATION_SUFFIXES["cooperative"]


@dataclass(slots=True)
class _Entity:
    mentions: list[Mention] = field(default_factory=list)
    evidence: Evidence | None = None
    key: str = ""


def _stem(name: str) -> str:
    for suffix in _COMPANY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def extract(text: str, gazetteer: Gazetteer) -> Extraction:
    """Extract the entities and links an article states.

    Parameters
    ----------
    text : str
        The article.
    gazetteer : Gazetteer
        Known names: a hit resolves to the known node (``node_id``) and its code.

    Returns
    -------
    Extraction
        Entities with every mention and the first sentence naming them; links with the
        trigger phrase, the date and figures of their sentence; the number of sentences.
    """
    # Why this is long: the passes over an article run in a fixed order (sentences, mentions,
    # lists and nested names, anaphora, topics, links), each reading what the earlier ones found.
    sentences = split_sentences(text)
    context: list[str] = []
    regions: list[str] = []
    entities: dict[tuple[str, str], _Entity] = {}
    by_mention: dict[int, _Entity] = {}
    candidates: list[tuple[LinkCandidate, Evidence]] = []
    previous: list[Mention] = []
    known_names: set[str] = set()
    home: Mention | None = None
    #: The first region of each level (4: city, 6: county, 9: town) the text names: the
    #: one 我市 / 全县 / 本镇 refers to.
    first_of_level: dict[int, Mention] = {}
    topic: Mention | None = None
    joint_seen: list[Mention] = []
    region_mentions: list[Mention] = []
    last_end = 0
    for evidence in sentences:
        if "\n" in text[last_end : evidence.start]:
            topic = None  # a new paragraph
        last_end = evidence.end
        scanner = SentenceScanner(gazetteer, evidence.sentence, evidence.start, context)
        scanner.known_names = known_names
        mentions = scanner.scan()
        mentions = _with_anaphors(evidence, mentions, joint_seen, topic)
        for m in mentions:
            if m.rule == "level_department":
                _name_level(m, first_of_level)
        known_names.update(
            m.name for m in mentions if m.label in ("PartyOrganization", "Enterprise")
        )
        for m in mentions:
            if m.label == "Region":
                regions.append(fold(m.name))
                region_mentions.append(m)
        for m in mentions:
            if m.refers_to is not None:
                referent = by_mention[id(m.refers_to)]
                referent.mentions.append(m)
                by_mention[id(m)] = referent
                continue
            key = _merge_key(m, tuple(regions))
            found = entities.get(key)
            if found is None:
                found = _find_short_form(entities, m, key) or _Entity(evidence=evidence)
                entities[key] = found
            entity = found
            entity.mentions.append(m)
            by_mention[id(m)] = entity
        for m in mentions:
            if m.kind in _JOINT and m.refers_to is None and not _inside(m, mentions):
                owner = by_mention[id(m)]
                if all(by_mention[id(j)] is not owner for j in joint_seen):
                    joint_seen.append(m)
            if m.label == "Region" and m.region_code and len(m.region_code) <= 6:
                home = m
            if m.label == "Region" and m.region_code:
                first_of_level.setdefault(len(m.region_code), m)
        sentence_home = _self_reference(evidence.sentence, first_of_level) or home
        for cand in sentence_links(
            evidence.sentence,
            evidence.start,
            mentions,
            scanner.person_titles,
            previous,
            sentence_home,
            topic,
            region_mentions,
        ):
            candidates.append((cand, evidence))
        topic = _subject(evidence.sentence, evidence.start, mentions) or topic
        previous = mentions

    candidates = _programs_of_named_regions(candidates, region_mentions)
    ordered: list[_Entity] = []
    seen: set[int] = set()
    for entity in sorted(entities.values(), key=lambda e: min(m.start for m in e.mentions)):
        if id(entity) not in seen:
            seen.add(id(entity))
            ordered.append(entity)
    proposals: list[EntityProposal] = []
    for index, entity in enumerate(ordered, 1):
        entity.key = f"e{index}"
        proposals.append(_proposal(entity))

    links = _links(candidates, by_mention)
    return Extraction(tuple(proposals), tuple(links), len(sentences))


_JOINT: Final = frozenset(JOINT_BODY_KINDS)
#: A joint body named by its kind alone (联合党委, 该联合体, 各产业联合党委): the one the
#: paragraph is about, or with 各/这些 every one the text has named.
_ANAPHOR: Final = re.compile(
    r"(?P<all>各|这些|多个)?(?:产业链联合党委|产业联合党委|产业链党委|联合党委|联合党总支"
    r"|党建联合体|党建联盟|联合体)"
)


def _programs_of_named_regions(
    candidates: list[tuple[LinkCandidate, Evidence]], regions: list[Mention]
) -> list[tuple[LinkCandidate, Evidence]]:
    """A program named with a region's short form (青岭核桃产业园, 青岭县 named anywhere
    in the text) belongs to that region, not to another one of its sentence."""
    out: list[tuple[LinkCandidate, Evidence]] = []
    owned: dict[int, tuple[Mention, Evidence]] = {}
    for cand, evidence in candidates:
        p = cand.target
        if cand.type == "PART_OF_PROGRAM" and id(p) not in owned:
            region = short_form_region(p, regions)
            if region is not None:
                owned[id(p)] = (region, evidence)
    for cand, evidence in candidates:
        if (
            cand.type == "PART_OF_PROGRAM"
            and id(cand.target) in owned
            and cand.source.label == "Region"
            and cand.source is not owned[id(cand.target)][0]
        ):
            continue
        out.append((cand, evidence))
    for pid, (region, evidence) in owned.items():
        program = next(c.target for c, _ in candidates if id(c.target) == pid)
        out.append((LinkCandidate("PART_OF_PROGRAM", region, program, program.name, 0.5), evidence))
        if program.industry is not None:
            # 青岭核桃产业园: 青岭县 grows walnuts.
            out.append(
                (
                    LinkCandidate("IN_INDUSTRY", region, program.industry, program.name, 0.4),
                    evidence,
                )
            )
    return out


def _inside(m: Mention, mentions: list[Mention]) -> bool:
    return any(
        o is not m and o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start
        for o in mentions
    )


def _with_anaphors(
    evidence: Evidence, mentions: list[Mention], joint_seen: list[Mention], topic: Mention | None
) -> list[Mention]:
    """Add a mention for each bare joint-body word that refers to a named body."""
    if not joint_seen:
        return mentions
    added: list[Mention] = []
    for match in _ANAPHOR.finditer(evidence.sentence):
        start, end = evidence.start + match.start(), evidence.start + match.end()
        if any(m.start < end and start < m.end for m in mentions):
            continue
        if match["all"]:
            referents = list(joint_seen)
        elif topic is not None and topic.kind in _JOINT:
            referents = [topic]
        else:
            referents = joint_seen[-1:]
        group = 1000 + match.start() if len(referents) > 1 else None
        for ref in referents:
            added.append(
                Mention(
                    start,
                    end,
                    ref.name,
                    ref.label,
                    ref.kind,
                    0.5,
                    "anaphor",
                    entry=ref.entry,
                    region_code=ref.region_code,
                    group=group,
                    refers_to=ref,
                )
            )
    if not added:
        return mentions
    return sorted(mentions + added, key=lambda m: (m.start, -(m.end - m.start)))


_SELF_WORDS: Final[tuple[tuple[tuple[str, ...], int], ...]] = (
    (("我市", "全市", "本市"), 4),
    (("我县", "全县", "本县", "我区", "全区", "本区"), 6),
    (("我镇", "全镇", "本镇", "我乡", "全乡", "本乡"), 9),
)


def _name_level(m: Mention, first_of_level: dict[int, Mention]) -> None:
    """县农业农村局 → 平原县农业农村局: the level character stands for the first place of
    that level the text named (a county for 县/区, a city for 市)."""
    level = m.name[0]
    for length in (6, 4) if level in "县区市" else ():
        place = first_of_level.get(length)
        if place is not None and place.name.endswith(level) and len(place.name) >= 2:
            m.name = place.name + m.name[1:]
            if place.region_code:
                m.region_code = place.region_code
            return


def _self_reference(sentence: str, first_of_level: dict[int, Mention]) -> Mention | None:
    """The region a reporter's 我市 / 全县 / 本镇 stands for: the first of that level the
    text named."""
    for words, level in _SELF_WORDS:
        if any(w in sentence for w in words) and level in first_of_level:
            return first_of_level[level]
    return None


_TOPIC_LABELS: Final = frozenset({"PartyOrganization", "Enterprise", "Institution", "Village"})


def _subject(sentence: str, offset: int, mentions: list[Mention]) -> Mention | None:
    """The organisation in subject position: the first actor of the sentence's first
    clause, not inside another name and not after a preposition (与, 为, 由 …)."""
    clause_end = min((sentence.find(p) for p in "，,：:" if p in sentence), default=len(sentence))
    for m in mentions:
        local = m.start - offset
        if local >= clause_end:
            return None
        if m.label not in _TOPIC_LABELS:
            continue
        if any(
            o is not m
            and o.start <= m.start
            and m.end <= o.end
            and o.end - o.start > m.end - m.start
            for o in mentions
        ):
            continue
        if sentence[max(0, local - 1) : local] in ("与", "和", "为", "由", "向", "对", "给", "同"):
            return None
        return m
    return None


def _merge_key(m: Mention, regions: tuple[str, ...]) -> tuple[str, str]:
    if m.entry is not None and m.entry.node_id:
        return ("id", m.entry.node_id)
    return (m.label, canonical_name(m.name, m.label, regions))


def _find_short_form(
    entities: dict[tuple[str, str], _Entity], m: Mention, key: tuple[str, str]
) -> _Entity | None:
    """A company named short after its full name: 齐翔公司 after 甘肃齐翔农业科技有限公司."""
    if m.label != "Enterprise":
        return None
    stem = _stem(key[1])
    if len(stem) < 2:
        return None
    for (label, name), entity in entities.items():
        if label != "Enterprise" or name == key[1]:
            continue
        other = _stem(name)
        if len(other) > len(stem) and stem in other[: len(stem) + 3]:
            return entity
    return None


def _proposal(entity: _Entity) -> EntityProposal:
    first = min(entity.mentions, key=lambda m: m.start)
    best = max(entity.mentions, key=lambda m: m.confidence)
    entry = next((m.entry for m in entity.mentions if m.entry is not None), None)
    region_code = next((m.region_code for m in entity.mentions if m.region_code), None)
    if entry is not None and entry.region_code:
        region_code = entry.region_code
    kind = next((m.kind for m in entity.mentions if m.kind), None)
    mentions = tuple(sorted({(m.start, m.end) for m in entity.mentions}))
    confidence = min(0.99, best.confidence + 0.03 * (len(mentions) - 1))
    assert entity.evidence is not None
    return EntityProposal(
        key=entity.key,
        name=first.name,
        label=first.label,
        kind=entry.kind if entry is not None and entry.kind else kind,
        region_code=region_code,
        node_id=entry.node_id if entry is not None else None,
        mentions=mentions,
        evidence=entity.evidence,
        confidence=round(confidence, 3),
    )


def _links(
    candidates: list[tuple[LinkCandidate, Evidence]], by_mention: dict[int, _Entity]
) -> list[LinkProposal]:
    best: dict[tuple[str, str, str], tuple[LinkCandidate, Evidence, str, str]] = {}
    order: list[tuple[str, str, str]] = []
    for cand, evidence in candidates:
        source = by_mention[id(cand.source)].key
        target = by_mention[id(cand.target)].key
        if source == target:
            continue
        key = (cand.type, source, target)
        if LINK_TYPES[cand.type].symmetric:
            key = (cand.type, *sorted((source, target)))  # type: ignore[assignment]
        if key not in best:
            order.append(key)
            best[key] = (cand, evidence, source, target)
        elif cand.confidence > best[key][0].confidence:
            best[key] = (cand, evidence, source, target)
    out: list[LinkProposal] = []
    for index, key in enumerate(order, 1):
        cand, evidence, source, target = best[key]
        figures: tuple[dict[str, Any], ...] = tuple(find_figures(evidence.sentence))
        out.append(
            LinkProposal(
                key=f"l{index}",
                type=cand.type,
                source=source,
                target=target,
                phrase=cand.phrase,
                valid_from=find_date(evidence.sentence),
                figures=figures,
                evidence=evidence,
                confidence=cand.confidence,
            )
        )
    return out

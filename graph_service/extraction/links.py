"""Links between the mentions of one sentence, from trigger phrases and name structure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from graph_service.extraction.mentions import Mention
from graph_service.schema import JOINT_BODY_KINDS, link_allows
from graph_service.vocabulary import LINK_PHRASES

__all__ = ["LinkCandidate", "sentence_links", "short_form_region"]


@dataclass(frozen=True, slots=True)
class LinkCandidate:
    """A link found in a sentence, between two mentions."""

    type: str
    source: Mention
    target: Mention
    phrase: str
    confidence: float


#: Extraction-specific cues beside the vocabulary's link phrases: (phrase, type, role).
#: Roles: ``pair`` X与Y…, ``passive_members`` 由X…构成的Y, ``invite`` X邀请Y (Y → X),
#: ``found`` X成立Y合作社.
_EXTRA_CUES: Final[tuple[tuple[str, str, str], ...]] = (
    ("签订结对帮扶协议", "PAIRS_WITH", "pair"),
    ("共同组织", "CO_BUILDS", "pair"),
    ("进行签约", "CO_BUILDS", "pair"),
    ("签约", "CO_BUILDS", "pair"),
    ("共同", "CO_BUILDS", "pair"),
    ("构成", "MEMBER_OF", "passive_members"),
    ("组成", "MEMBER_OF", "passive_members"),
    ("吸纳", "MEMBER_OF", "absorb"),
    ("邀请", "DISPATCHES", "invite"),
    ("派出", "DISPATCHES", "send"),
    ("牵头成立", "LEADS_COOPERATIVE", "found"),
    ("组建成立", "LEADS_COOPERATIVE", "found"),
    ("成立", "LEADS_COOPERATIVE", "found"),
    ("组建", "LEADS_COOPERATIVE", "found"),
    ("发放", "FINANCES", "lend"),
)
_JOINT: Final = frozenset(JOINT_BODY_KINDS)
_COOPERATIVE_KINDS: Final = frozenset(
    {"合作社", "家庭农场", "强村富民公司", "红色物业公司", "村集体公司"}
)
_FINANCIAL: Final = re.compile("银行|信用社|信用合作|农商行|金融")
_CLAUSE: Final = re.compile(r"[，,：:（）()]")
_BENEFACTIVE: Final = ("为", "向", "给", "帮助", "对", "帮")
_DESTINATION: Final = ("到", "赴", "至", "进驻")
_WITH: Final = ("与", "和", "同", "跟")
_LEVEL_SUFFIX: Final = frozenset("省市县区旗镇乡")


def _cues() -> tuple[tuple[str, str, str], ...]:
    # A phrase with an extraction-specific role keeps that role only.
    special = {cue[0] for cue in _EXTRA_CUES}
    cues = [
        (p, t, "phrase") for t, phrases in LINK_PHRASES.items() for p in phrases if p not in special
    ]
    cues.extend(_EXTRA_CUES)
    return tuple(sorted(cues, key=lambda cue: -len(cue[0])))


_CUES: Final = _cues()


class _Sentence:
    def __init__(self, sentence: str, offset: int, mentions: list[Mention]) -> None:
        self.s = sentence
        self.offset = offset
        self.mentions = mentions
        self.outer = [m for m in mentions if not self._inside_other(m)]
        self.clauses = [0] + [m.end() for m in _CLAUSE.finditer(sentence)] + [len(sentence)]

    def _inside_other(self, m: Mention) -> bool:
        if any(o.owner is m and (o.start, o.end) == (m.start, m.end) for o in self.mentions):
            return True
        return any(
            o is not m
            and o.start <= m.start
            and m.end <= o.end
            and (o.end - o.start) > (m.end - m.start)
            for o in self.mentions
        )

    def local(self, m: Mention) -> tuple[int, int]:
        return m.start - self.offset, m.end - self.offset

    def clause_of(self, pos: int) -> tuple[int, int]:
        for a, b in zip(self.clauses, self.clauses[1:], strict=False):
            if a <= pos < b:
                return a, b
        return 0, len(self.s)

    def actors(self, lo: int, hi: int) -> list[Mention]:
        return [
            m for m in self.outer if m.actor and lo <= self.local(m)[0] and self.local(m)[1] <= hi
        ]

    def group_of(self, m: Mention, pool: list[Mention]) -> list[Mention]:
        if m.group is None:
            return [m]
        return [o for o in pool if o.group == m.group and o.label == m.label] or [m]


def _allowed(type_: str, source: Mention, target: Mention) -> bool:
    return source is not target and link_allows(type_, source.label, target.label)


def sentence_links(
    sentence: str,
    offset: int,
    mentions: list[Mention],
    people: list[tuple[int, Mention, str]],
    previous: list[Mention],
    home: Mention | None = None,
    topic: Mention | None = None,
    regions: Sequence[Mention] = (),
) -> list[LinkCandidate]:
    """The links one sentence states.

    Parameters
    ----------
    sentence : str
        The sentence.
    offset : int
        Where it starts in the text.
    mentions : list of Mention
        Its mentions, in text order.
    people : list of (int, Mention, str)
        Titles found before people's names: where the title starts, the person, the title.
    previous : list of Mention
        The previous sentence's mentions (for 这两个合作社分别由……领办).
    home : Mention or None
        The region the text is about so far (the one 我市/全县 refers to): the one a
        program or industry without an actor in its sentence is taken to belong to.
    topic : Mention or None
        The organisation the paragraph is about (the last one in subject position): a
        sentence whose subject is omitted refers to it, before ``home``.
    regions : sequence of Mention
        The regions the text has named so far: a program named with a region's short
        form (青岭核桃产业园 after 青岭县) belongs to it.

    Returns
    -------
    list of LinkCandidate
    """
    # Why this is long: each trigger family is tried in a fixed order within one sentence,
    # and later families read what earlier ones took; one function keeps that order visible.
    sent = _Sentence(sentence, offset, mentions)
    out: list[LinkCandidate] = []

    def add(type_: str, source: Mention, target: Mention, phrase: str, conf: float) -> None:
        if _allowed(type_, source, target):
            out.append(LinkCandidate(type_, source, target, phrase, conf))

    # Nested names: 台头村党支部 is the organisation of 台头村.
    for m in mentions:
        if m.owner is not None:
            add("ORGANIZATION_OF", m, m.owner, m.name[len(m.owner.name) :] or m.name, 0.85)
        if m.industry is not None:
            add("IN_INDUSTRY", m, m.industry, m.name, 0.8)

    # A person after a title is in the organisation named right before the title.
    for title_start, person, title in people:
        for m in mentions:
            end = sent.local(m)[1]
            gap = sentence[end:title_start]
            if m.actor and gap in ("", "党委", "党支部", "党总支", "党工委"):
                add("HOLDS_POSITION", person, m, title, 0.6)
                break

    used: list[tuple[int, int]] = []
    for phrase, type_, role in _CUES:
        for match in re.finditer(re.escape(phrase), sentence):
            t0, t1 = match.start(), match.end()
            if any(a <= t0 < b or a < t1 <= b for a, b in used):
                continue
            # A phrase inside a name (百企帮百村 in “百企帮百村”活动 is a program).
            if any(
                sent.local(m)[0] <= t0 and t1 <= sent.local(m)[1] and m.label != "Program"
                for m in mentions
            ):
                continue
            found = _trigger(sent, type_, role, phrase, t0, t1, previous)
            if found:
                used.append((t0, t1))
                for source, target, conf in found:
                    add(type_, source, target, phrase, conf)

    # 对接 an institution (县农业农村局) is working together, not a supply contract.
    for match in re.finditer("对接", sentence):
        lo, hi = sent.clause_of(match.start())
        left_all = [m for m in sent.actors(0, match.start()) if not _prefix_region(sent, m)]
        right = sent.actors(match.end(), hi)
        if left_all and right:
            for t in sent.group_of(right[0], right):
                if t.label == "Institution":
                    add("CO_BUILDS", left_all[0], t, "对接", 0.5)

    # A joint body's sentence that lists villages: they are its members (仓康实党建联合体
    # 下辖军仓、林庄等4个行政村; …联合体…发展甜南、甜中、甜北等8个行政村…).
    subject = next((m for m in sent.outer if m.actor), None)
    if subject is not None and subject.label == "PartyOrganization" and subject.kind in _JOINT:
        for m in sent.outer:
            if m.label == "Village" and m is not subject:
                add("MEMBER_OF", m, subject, "下辖", 0.55 if m.group is not None else 0.45)

    # Programs: the actor or region that runs or joins them; failing one in the
    # sentence, the region the text is about.
    for p in sent.outer:
        if p.label != "Program":
            continue
        before = [
            m
            for m in sent.outer
            if sent.local(m)[1] <= sent.local(p)[0]
            and (m.actor or m.label == "Region")
            and not _prefix_region(sent, m)
        ]
        after = [
            m
            for m in sent.outer
            if sent.local(m)[0] >= sent.local(p)[1]
            and (m.actor or m.label == "Region")
            and not _prefix_region(sent, m)
        ]
        place = _name_region(sent, p) or short_form_region(p, regions)
        if place is not None:
            add("PART_OF_PROGRAM", place, p, p.name, 0.5)
        elif before:
            for actor in sent.group_of(before[-1], before):
                add("PART_OF_PROGRAM", actor, p, p.name, 0.5)
        elif after:
            add("PART_OF_PROGRAM", after[0], p, p.name, 0.4)
        elif topic is not None:
            add("PART_OF_PROGRAM", topic, p, p.name, 0.35)
        elif home is not None:
            add("PART_OF_PROGRAM", home, p, p.name, 0.3)

    # Industries: the listed enterprises or villages of the sentence, its joint body,
    # else the actor, region or program of the same clause.
    for ind in mentions:
        if ind.label != "Industry" or any(c.target is ind for c in out):
            continue
        listed = [
            m for m in sent.outer if m.group is not None and m.label in ("Enterprise", "Village")
        ]
        for m in listed:
            add("IN_INDUSTRY", m, ind, ind.name, 0.45)
        if subject is not None and subject.kind in _JOINT:
            add("IN_INDUSTRY", subject, ind, ind.name, 0.5)
        if listed or (subject is not None and subject.kind in _JOINT):
            continue
        lo, hi = sent.clause_of(sent.local(ind)[0])
        near = [
            m
            for m in sent.outer
            if (m.actor or m.label in ("Region", "Program"))
            and lo <= sent.local(m)[0] < hi
            and m is not ind
            and not _prefix_region(sent, m)
        ]
        if not near:
            near = [
                m
                for m in sent.outer
                if (m.actor or m.label in ("Region", "Program"))
                and sent.local(m)[1] <= sent.local(ind)[0]
                and not _prefix_region(sent, m)
            ]
            near = near[-1:]
        if near:
            src = min(near, key=lambda m: abs(sent.local(m)[0] - sent.local(ind)[0]))
            add("IN_INDUSTRY", src, ind, ind.name, 0.45)
        elif topic is not None:
            add("IN_INDUSTRY", topic, ind, ind.name, 0.35)
        elif home is not None:
            add("IN_INDUSTRY", home, ind, ind.name, 0.3)
    return out


def _name_region(sent: _Sentence, m: Mention) -> Mention | None:
    """The region a name begins with (崆峒区白水镇设施蔬菜产业党建联建 → 白水镇): the
    narrowest one written as its prefix."""
    start, end = sent.local(m)
    best: Mention | None = None
    for o in sent.mentions:
        os_, oe = sent.local(o)
        if (
            o.label == "Region"
            and start <= os_
            and oe < end
            and (best is None or oe > sent.local(best)[1])
            and (os_ == start or (best is not None and sent.local(best)[1] == os_))
        ):
            best = o
    return best


def short_form_region(m: Mention, regions: Sequence[Mention]) -> Mention | None:
    """The region whose name without its level character begins a name (泾川非公企业党建
    孵化中心 → 泾川县), among those the text has named; the longest such stem wins."""
    best: Mention | None = None
    for r in regions:
        if r.label != "Region" or len(r.name) < 3 or r.name[-1] not in _LEVEL_SUFFIX:
            continue
        stem = r.name[:-1]
        if (
            m.name.startswith(stem)
            and not m.name.startswith(r.name)
            and (best is None or len(stem) > len(best.name) - 1)
        ):
            best = r
    return best


def _trigger(
    sent: _Sentence,
    type_: str,
    role: str,
    phrase: str,
    t0: int,
    t1: int,
    previous: list[Mention],
) -> list[tuple[Mention, Mention, float]]:
    # Why this is long: one branch per trigger family (pairing, co-building, membership,
    # leading, supply, finance, dispatch), each choosing the direction the schema allows.
    s = sent.s
    lo, hi = sent.clause_of(t0)
    left_all = sent.actors(0, t0)
    left = [m for m in left_all if sent.local(m)[0] >= lo] or left_all[-1:]
    right = sent.actors(t1, hi)
    found: list[tuple[Mention, Mention, float]] = []

    if role == "passive_members":
        by = s.rfind("由", 0, t0)
        if by < 0:
            return []
        members = [m for m in sent.actors(by, t0)]
        bodies = [
            m for m in sent.outer if m.label == "PartyOrganization" and sent.local(m)[0] >= t1
        ][:1]
        return [(m, b, 0.75) for b in bodies for m in members]

    if type_ == "MEMBER_OF":
        if phrase in ("下辖", "纳入", "组建", "涵盖") or role == "absorb":
            bodies = [m for m in left if m.label == "PartyOrganization"]
            if not bodies:
                return []
            members = right
            if members:
                members = sent.group_of(members[0], right)
            return [(m, bodies[-1], 0.7) for m in members]
        # 加入 / 加入联盟: the subject joins the body named after.
        bodies = [m for m in right if m.label == "PartyOrganization"][:1]
        subject = left[:1]
        return [(m, b, 0.6) for b in bodies for m in subject]

    if role == "invite":
        invited = [m for m in right if m.label == "Institution"][:1]
        inviter = left[-1:]
        return [(i, h, 0.55) for i in invited for h in inviter]

    if role == "found" or type_ == "LEADS_COOPERATIVE":
        by = s.rfind("由", lo, t0)
        if by >= 0 and role != "found":
            agents = sent.actors(by, t0)
            coops = [m for m in sent.outer if m.label == "Enterprise" and sent.local(m)[1] <= by]
            if not coops:
                coops = [
                    m for m in previous if m.label == "Enterprise" and m.kind in _COOPERATIVE_KINDS
                ]
            if "分别" in s[max(0, by - 3) : t0] and len(coops) == len(agents):
                return [(a, c, 0.7) for a, c in zip(agents, coops, strict=True)]
            return [(a, c, 0.5) for a in agents for c in coops]
        leaders = [m for m in left if m.label in ("Village", "PartyOrganization")][-1:]
        coops = [
            m
            for m in right
            if m.label == "Enterprise" and (m.kind in _COOPERATIVE_KINDS or role != "found")
        ][:1]
        conf = 0.75 if role != "found" else 0.6
        return [(a, c, conf) for a in leaders for c in coops]

    if type_ in ("PAIRS_WITH", "CO_BUILDS", "SUPPLIES"):
        # X与Y结对 / X与Y对接: the two sides around 与.
        pair = _with_pair(sent, lo, t0)
        if pair is not None:
            a, b = pair
            targets = sent.group_of(b, sent.actors(lo, t0))
            conf = 0.75 if role != "pair" else 0.6
            if type_ == "PAIRS_WITH" and phrase == "结对":
                return [(a, t, conf) for t in targets]
            return [(a, t, conf) for t in targets]
        if role == "pair":
            return []
        benef = _benefactive(sent, lo, t0)
        if benef is not None:
            src, targets = benef
            return [(src, t, 0.65) for t in targets]
        if type_ == "CO_BUILDS" and phrase == "结对":
            return []
        if left and right:
            src = left[0] if type_ != "SUPPLIES" else left[-1]
            targets = sent.group_of(right[0], right)
            if type_ == "SUPPLIES" and phrase == "对接":
                targets = [t for t in targets if t.label == "Enterprise"]
            return [(src, t, 0.55) for t in targets]
        return []

    if type_ == "DISPATCHES":
        benef = _benefactive(sent, lo, t0)
        if benef is None:
            benef = _benefactive(sent, 0, t0)
        if benef is not None:
            src, targets = benef
            return [(src, t, 0.7) for t in targets]
        dest = [
            m
            for m in right
            if any(
                s[max(0, sent.local(m)[0] - 2) : sent.local(m)[0]].endswith(d) for d in _DESTINATION
            )
        ]
        senders = left_all[:1]
        if dest and senders:
            return [(senders[0], t, 0.6) for t in sent.group_of(dest[0], right)]
        if role == "send":
            # 由X派出…(列席/到/参加)Y: the sender after 由, the receivers after the cue.
            by = s.rfind("由", 0, t0)
            agents = sent.actors(by, t0) if by >= 0 else left_all[-1:]
            receivers = [m for m in sent.actors(t1, len(s)) if m.label != "Person"]
            if agents and receivers:
                targets = sent.group_of(receivers[0], receivers)
                return [(agents[0], t, 0.55) for t in targets]
        return []

    if type_ == "FINANCES":
        lenders = [m for m in left_all if m.label == "Institution" and _FINANCIAL.search(m.name)]
        if not lenders:
            return []
        benef = _benefactive(sent, 0, t0)
        targets = benef[1] if benef is not None else right[:1]
        return [(lenders[-1], t, 0.6) for t in targets if t is not lenders[-1]]

    if type_ == "PART_OF_PROGRAM":
        programs = [m for m in sent.outer if m.label == "Program" and sent.local(m)[0] >= t1][:1]
        return [(a, p, 0.5) for a in left[:1] for p in programs]
    return found


def _prefix_region(sent: _Sentence, m: Mention) -> bool:
    """A region written right before another name (平原县 in 平原县恩城镇): the later,
    narrower name is the one meant."""
    if m.label != "Region":
        return False
    end = sent.local(m)[1]
    return any(sent.local(o)[0] == end and o.label in ("Region", "Village") for o in sent.mentions)


def _with_pair(sent: _Sentence, lo: int, t0: int) -> tuple[Mention, Mention] | None:
    """X与Y right before a trigger: the actors on both sides of 与 (和, 同, 跟)."""
    actors = sent.actors(lo, t0) or sent.actors(0, t0)
    for i in range(len(actors) - 1, 0, -1):
        a_end = sent.local(actors[i - 1])[1]
        b_start = sent.local(actors[i])[0]
        between = sent.s[a_end:b_start]
        a_start = sent.local(actors[i - 1])[0]
        same_list = (
            actors[i - 1].group is not None and actors[i - 1].group == actors[i].group
        ) or sent.s[a_start - 1 : a_start] == "、"
        if not same_list and (between in _WITH or (between.endswith(_WITH) and len(between) <= 3)):
            first = actors[i - 1]
            if first.group is not None:
                group = [m for m in actors if m.group == first.group]
                first = group[0]
            return first, actors[i]
    return None


def _benefactive(sent: _Sentence, lo: int, t0: int) -> tuple[Mention, list[Mention]] | None:
    """X为Y… / X向Y…: the subject before the marker and the actors after it."""
    s = sent.s
    actors = sent.actors(0, t0)
    for marker in _BENEFACTIVE:
        at = s.rfind(marker, lo, t0)
        if at < 0:
            continue
        after = [m for m in actors if sent.local(m)[0] > at]
        before = [m for m in actors if sent.local(m)[1] <= at]
        if after and before:
            return before[0], sent.group_of(after[0], after) if len(after) == 1 else after
    return None

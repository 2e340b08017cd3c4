"""Finding mentions of entities in one sentence, by the grammar of names in the domain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from graph_service.extraction.gazetteer import Gazetteer, Token, village_stem
from graph_service.extraction.model import GazetteerEntry
from graph_service.extraction.patterns import (
    BOUNDARY_WORDS,
    FUNCTION_CHARS,
    GENERIC_STEMS,
    INDUSTRY_MODIFIERS,
    PRODUCT_FRAMES_AFTER,
    PRODUCT_FRAMES_BEFORE,
    PRODUCTS,
    PROGRAM_HEADS,
    PROGRAM_VERBS,
    STOP_TAGS,
    SUFFIXES,
    SURNAMES,
    TITLES,
    SuffixRule,
)
from graph_service.search_text import fold

__all__ = ["Mention", "SentenceScanner", "canonical_name"]

_CJK: Final = re.compile(r"[\u4e00-\u9fff]")
_QUOTE_OPEN: Final = "“\"「『‘'"
_QUOTE_CLOSE: Final = "”\"」』’'"
_QUOTED: Final = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\n]{2,24})[”\"」』’]")
_SUFFIX_RE: Final = re.compile("|".join(re.escape(rule[0]) for rule in SUFFIXES))
_RULES: Final[dict[str, SuffixRule]] = {rule[0]: rule for rule in SUFFIXES}
_ONE_CHAR_LOOSE: Final = frozenset("村镇乡县市区省旗")
_LEVEL_CHARS: Final = frozenset("县市区镇乡省")
#: A suffix followed by these is part of another word (大学生, 中心村, 局面).
_NOT_AFTER: Final[dict[str, str]] = {
    "大学": "生",
    "学院": "派",
    "中心": "村城区镇",
    "局": "面势长部",
    "站": "长位点",
    "公司": "化",
    "集团": "化军",
    "联合体": "内外",
    "联盟": "内外",
    "社区": "党居",
}
#: 村 followed by these is not a village's suffix (村民, 村级, 村集体, 村干部 …).
_NOT_AFTER_VILLAGE: Final = frozenset("民级庄干集务落居容里头史规情貌镇组")
_NUMBER: Final = r"(?:\d+|[一二三四五六七八九十两百]+)"
_LIST_HEADS: Final[tuple[tuple[str, str], ...]] = (
    ("村党组织", "PartyOrganization"),
    ("村党支部", "PartyOrganization"),
    ("行政村", "Village"),
    ("社区", "Village"),
    ("村", "Village"),
    ("农业龙头企业", "Enterprise"),
    ("龙头企业", "Enterprise"),
    ("企业", "Enterprise"),
    ("产业", "Industry"),
)
_HEADS_RE: Final = "|".join(h for h, _ in _LIST_HEADS)
_LIST_TAIL: Final = re.compile(
    rf"(?:(?P<deng>等)(?:{_NUMBER})?个?|(?P<num>{_NUMBER})个?)"
    rf"(?P<filler>[\u4e00-\u9fff]{{0,4}}?)(?P<head>{_HEADS_RE})"
)
_LIST_TAIL_BARE: Final = re.compile(r"(?P<head>村党组织|村党支部|村|社区)")
_PROGRAM_NAME: Final = re.compile(
    "攻坚行动|专项行动|帮办团|智库|产业园区|产业园|生产基地|实践中心|孵化中心|工程|示范镇"
)
#: Characters that end a registered company name scanning backwards (与山东…有限公司).
_REGISTERED_STOPS: Final = frozenset("与和及的是在为由对向把被从将同跟了着过、")
_LIST_SEP: Final = re.compile(r"[、和及与]")
#: A county or city department written with its level alone (县农业农村局, 县联通公司):
#: the level character, a short stem and the head.
_LEVEL_DEPARTMENT: Final = re.compile(r"([县市区])([\u4e00-\u9fff]{2,4}?)(局|公司)")
_PROGRAM_LIST: Final = re.compile(
    r"(?:培树|培育|选树|树立|打造|实施|开展|推行|启动)了?"
    r"(?P<items>[^，。；,;：:]{2,30}(?:、[^，。；,;：:、]{2,30})+)"
    r"等(?:一批|多个|\d+个|[一二三四五六七八九十]+个)?"
    r"(?:先进典型|典型|示范|品牌|项目|活动)"
)
_BRAND_AFTER_VERB: Final = re.compile(
    r"(?:擦亮|叫响|打响)(?!了)(?P<stem>[^，。；,;“”\"\d]{2,30}?)(?P<head>品牌)"
)
_INDUSTRY_LIST: Final = re.compile(
    r"(?P<items>[\u4e00-\u9fff]{2,8}(?:、[\u4e00-\u9fff]{2,6})+)"
    r"等(?:领域|(?P<filler>[\u4e00-\u9fff]{0,2})资源)"
)
#: Verbs that govern an organisation's name and are never its first word.
_GOVERNING_VERBS: Final = (
    "建立健全", "建立", "健全", "加强", "强化", "推动", "实现", "紧盯", "选优配强", "配强",
    "完善", "深化", "发挥", "依托",
)  # fmt: skip
_PRODUCTS_LONGEST: Final = tuple(sorted(PRODUCTS, key=len, reverse=True))
#: Heads of a park or base named after its product (…苹果智慧产业园, …宫灯生产基地).
_PARK_HEADS: Final = frozenset({"产业园区", "产业园", "生产基地"})
_PRODUCT_RE: Final = re.compile(
    "|".join(re.escape(p) for p in sorted(PRODUCTS, key=len, reverse=True))
)
#: Modifiers between a product and its frame (水果玉米特色种植, 糯玉米订单种植).
_PRODUCT_GAP: Final = re.compile(r"(?:特色|订单式?|规模|绿色|有机|优质|标准化)?")
_PROPER_TAGS: Final = frozenset({"ns", "nr", "nrt", "nrfg", "nz", "nt", "j", "x", "l", "i"})


@dataclass(slots=True)
class Mention:
    """A mention of an entity in a sentence (offsets into the whole text)."""

    start: int
    end: int
    name: str
    label: str
    kind: str | None
    confidence: float
    rule: str
    entry: GazetteerEntry | None = None
    region_code: str | None = None
    family: str | None = None
    #: The entity a nested name is the organisation of (台头村党支部 → 台头村).
    owner: Mention | None = None
    #: Mentions listed together (台头、大土屋等8个村): same group number.
    group: int | None = None
    #: The industry a name carries (水果产业联合党委 → 水果).
    industry: Mention | None = None
    #: Reference to an earlier entity (合作社 → the last cooperative named).
    refers_to: Mention | None = None
    key: str | None = field(default=None)

    @property
    def actor(self) -> bool:
        return self.label in ("PartyOrganization", "Village", "Enterprise", "Institution")


def canonical_name(name: str, label: str, regions: tuple[str, ...] = ()) -> str:
    """A name in the form proposals are merged on: folded, unquoted, without a leading
    place name (龙门街道仓康实党建联合体 ≡ 仓康实党建联合体), a village without its
    suffix."""
    text = fold("".join(ch for ch in name if ch not in _QUOTE_OPEN + _QUOTE_CLOSE))
    if label == "Village":
        return village_stem(text)
    if label == "Region":
        return text
    changed = True
    while changed:
        changed = False
        for region in regions:
            if text.startswith(region) and len(text) - len(region) >= 3:
                text = text[len(region) :]
                changed = True
    return text


class SentenceScanner:
    """Find the mentions of one sentence.

    Parameters
    ----------
    gazetteer : Gazetteer
        Known names and the segmenter.
    sentence : str
        The sentence.
    offset : int
        Where the sentence starts in the text.
    context : list of str
        Division codes of the regions mentioned so far in the text, latest last.
    """

    def __init__(
        self, gazetteer: Gazetteer, sentence: str, offset: int, context: list[str]
    ) -> None:
        self.gaz = gazetteer
        self.s = sentence
        self.offset = offset
        self.context = context
        self.tokens: list[Token] = gazetteer.tokens(sentence)
        self.token_starts = {t[2] for t in self.tokens}
        self.token_ends = {t[3] for t in self.tokens}
        self.mentions: list[Mention] = []
        self._group = 0
        self.known_names = set()

    # -- helpers ----------------------------------------------------------------------

    def _token_at(self, pos: int) -> Token | None:
        for token in self.tokens:
            if token[2] <= pos < token[3]:
                return token
        return None

    def _local(self, m: Mention) -> tuple[int, int]:
        return m.start - self.offset, m.end - self.offset

    def _covering(self, start: int, end: int) -> Mention | None:
        for m in self.mentions:
            ms, me = self._local(m)
            if ms <= start and end <= me and (ms, me) != (start, end):
                return m
        return None

    def _ending_at(self, end: int) -> Mention | None:
        best: Mention | None = None
        for m in self.mentions:
            ms, me = self._local(m)
            if me == end and (best is None or ms < self._local(best)[0]):
                best = m
        return best

    def _add(self, m: Mention) -> Mention:
        self.mentions.append(m)
        if m.label == "Region" and m.region_code:
            self.context.append(m.region_code)
        return m

    def _region_prefixes(self) -> tuple[str, ...]:
        return tuple(fold(m.name) for m in self.mentions if m.label == "Region")

    def _context_code(self, upto: int) -> str | None:
        best: str | None = None
        best_end = -1
        for m in self.mentions:
            me = self._local(m)[1]
            if m.label == "Region" and m.region_code and me <= upto and me > best_end:
                best, best_end = m.region_code, me
        if best is None and self.context:
            return self.context[-1]
        return best

    def _choose(self, entries: list[GazetteerEntry], upto: int) -> GazetteerEntry | None:
        """The entry meant, among several of the same name: the one inside the regions
        mentioned (the nearest first)."""
        if len(entries) == 1:
            return entries[0]
        codes: list[str] = []
        local = self._context_code(upto)
        if local:
            codes.append(local)
        codes.extend(reversed(self.context))
        for code in codes:
            inside = [e for e in entries if e.region_code and e.region_code.startswith(code)]
            if len(inside) == 1:
                return inside[0]
            if inside:
                entries = inside
        return None

    def _generic(self, stem: str) -> bool:
        core = stem
        for region in self._region_prefixes():
            if core.startswith(region):
                core = core[len(region) :]
        if not core:
            return False
        return core in GENERIC_STEMS or core[0] in "各该本全每此这那其某我" or not _CJK.search(core)

    # -- 1. known names ---------------------------------------------------------------

    def scan_gazetteer(self) -> None:
        """Known names, longest first, starting at a token boundary."""
        s = self.s
        i = 0
        longest = self.gaz.max_length
        while i < len(s):
            if i not in self.token_starts:
                i += 1
                continue
            hit: tuple[int, list[GazetteerEntry]] | None = None
            for length in range(min(longest, len(s) - i), 1, -1):
                entries = self.gaz.exact(s[i : i + length])
                if entries:
                    hit = (length, entries)
                    break
            if hit is None:
                i += 1
                continue
            length, entries = hit
            end = i + length
            if entries[0].label == "Village" and (
                length < 3 or not s[i:end].endswith(("村", "社区", "会"))
            ):
                i += 1
                continue
            entry = self._choose(entries, i)
            chosen = entry or entries[0]
            self._add(
                Mention(
                    self.offset + i,
                    self.offset + end,
                    s[i:end],
                    chosen.label,
                    chosen.kind,
                    0.95 if entry else 0.7,
                    "gazetteer",
                    entry=entry,
                    region_code=chosen.region_code if entry else self._context_code(i),
                )
            )
            i = end

    # -- 2. coordinate lists ----------------------------------------------------------

    def scan_lists(self) -> None:
        """``台头、大土屋、韩庄等8个村`` → villages with the shared suffix; lists of
        enterprises (``益海嘉里、宜瑞安等农业龙头企业``) and industries (``黑牛、水产等产业``)."""
        s = self.s
        tails = list(_LIST_TAIL.finditer(s))
        counted_spans = [(t.start(), t.end()) for t in tails]
        bare = [
            t
            for t in _LIST_TAIL_BARE.finditer(s)
            if t.start() > 0 and not any(a <= t.start() < b for a, b in counted_spans)
        ]
        for tail in tails + bare:
            head = tail["head"]
            label = dict(_LIST_HEADS)[head]
            counted = tail in tails
            filler = tail["filler"] if counted else ""
            if filler and (
                len(filler) > 2
                or any(ch in FUNCTION_CHARS for ch in filler)
                or label in ("Village", "PartyOrganization")
            ):
                continue
            if head in ("村", "社区") and s[tail.end() : tail.end() + 1] in _NOT_AFTER_VILLAGE:
                continue
            if not counted and head == "村" and tail.start() not in self.token_starts:
                continue
            items = self._list_items(tail.start())
            if len(items) < 2 and not (items and tail["num"] in ("1", "一")):
                continue
            self._group += 1
            for start, end in items:
                self._list_item(start, end, head, label)

    def _list_items(self, end: int) -> list[tuple[int, int]]:
        """The items separated by 、 (and a last 和/及/与) that end at ``end``."""
        s = self.s
        items: list[tuple[int, int]] = []
        pos = end
        while True:
            start = pos
            while (
                start > 0
                and _CJK.match(s[start - 1])
                and not (s[start - 1] == "、" or (s[start - 1] in "和及与" and pos - start >= 2))
            ):
                start -= 1
                if pos - start > 8:
                    break
            sep = s[start - 1] if start > 0 else ""
            item = s[start:pos]
            inner = list(_SUFFIX_RE.finditer(item))
            if inner and not item.endswith(("村", "社区")):
                if sep in "、和及与" and sep:
                    break
                start += inner[-1].end()
            if sep in "、和及与" and sep and 2 <= pos - start <= 6:
                items.append((start, pos))
                pos = start - 1
                continue
            # The first item: what follows the last boundary word of the chunk.
            first = self._first_item(start, pos)
            if first is not None:
                items.append(first)
            break
        if len(items) == 1 and not self.s[end:].startswith(("等", "个")):
            return []
        return list(reversed(items))

    def _first_item(self, start: int, end: int) -> tuple[int, int] | None:
        chunk = self.s[start:end]
        if not chunk:
            return None
        # A known village at the end of the chunk.
        for length in range(min(5, len(chunk)), 1, -1):
            if self.gaz.villages_by_stem(chunk[-length:]):
                return end - length, end
        cut = start
        for token in self.tokens:
            if token[3] <= start or token[2] >= end:
                continue
            if token[0] in BOUNDARY_WORDS or token[1] in STOP_TAGS or token[1].startswith("v"):
                cut = max(cut, token[3])
        if end - cut > 5:
            tok = self._token_at(end - 1)
            cut = tok[2] if tok and tok[2] >= start else end - 2
        while cut < end and self.s[cut] in FUNCTION_CHARS and end - cut > 2:
            cut += 1
        if 2 <= end - cut <= 6:
            return cut, end
        return None

    def _list_item(self, start: int, end: int, head: str, label: str) -> None:
        raw = self.s[start:end]
        if self._generic(raw) or raw in INDUSTRY_MODIFIERS:
            return
        existing = [m for m in self.mentions if self._local(m) == (start, end)]
        if existing:
            existing[0].group = self._group
            return
        if label == "Industry":
            self._add(
                Mention(
                    self.offset + start,
                    self.offset + end,
                    raw,
                    "Industry",
                    None,
                    0.7,
                    "list",
                    group=self._group,
                )
            )
            return
        if label == "Enterprise":
            self._add(
                Mention(
                    self.offset + start,
                    self.offset + end,
                    raw,
                    "Enterprise",
                    "公司",
                    0.6,
                    "list",
                    group=self._group,
                    region_code=self._context_code(start),
                )
            )
            return
        suffix = "社区" if head == "社区" else "村"
        stem = village_stem(raw) if raw.endswith(("村", "社区")) else raw
        entries = self.gaz.villages_by_stem(stem)
        entry = self._choose(entries, start) if entries else None
        name = raw if raw.endswith(("村", "社区")) else stem + suffix
        village = self._add(
            Mention(
                self.offset + start,
                self.offset + end,
                name,
                "Village",
                entry.kind if entry else ("社区" if suffix == "社区" else "行政村"),
                0.9 if entry else 0.7,
                "list",
                entry=entry,
                region_code=entry.region_code if entry else self._context_code(start),
                group=self._group,
            )
        )
        if label == "PartyOrganization":
            self._add(
                Mention(
                    self.offset + start,
                    self.offset + end,
                    name + head[1:],
                    "PartyOrganization",
                    "党支部",
                    0.7,
                    "list",
                    region_code=village.region_code[:9] if village.region_code else None,
                    family="party",
                    owner=village,
                    group=self._group,
                )
            )

    # -- 2b. departments named by their level ---------------------------------------

    def scan_departments(self) -> None:
        """``县农业农村局、蔬菜中心、交通局``: a department written with its level character
        alone (县, 市, 区) is the department of the county or city the text is about; the
        pipeline writes the place's name in. Bureaus listed after it share the level."""
        s = self.s
        for match in _LEVEL_DEPARTMENT.finditer(s):
            p, end = match.start(), match.end()
            head = match.group(3)
            if s[end : end + 1] and s[end : end + 1] in _NOT_AFTER.get(head, ""):
                continue
            if p > 0 and _CJK.match(s[p - 1]) and s[p - 1] not in FUNCTION_CHARS:
                token = self._token_at(p)
                if token is None or token[2] != p or token[1] in ("ns", "nz", "nt"):
                    continue
            if any(self._local(m)[0] < end and p < self._local(m)[1] for m in self.mentions):
                continue
            stem_tokens = [t for t in self.tokens if p < t[3] and t[2] < match.start(3)]
            if any(t[0] in BOUNDARY_WORDS for t in stem_tokens):
                continue
            label, kind, family = (
                ("Institution", "局", "institution")
                if head == "局"
                else ("Enterprise", "公司", "company")
            )
            self._add(
                Mention(
                    self.offset + p,
                    self.offset + end,
                    s[p:end],
                    label,
                    kind,
                    0.7,
                    "level_department",
                    region_code=self._context_code(p),
                    family=family,
                )
            )
            level = s[p]
            pos = end
            while head == "局" and pos < len(s) and s[pos] == "、":
                nxt = re.match(r"[\u4e00-\u9fff]{1,8}?(?=[、等和及与，,。；;])", s[pos + 1 :])
                if nxt is None:
                    break
                item_start, item_end = pos + 1, pos + 1 + len(nxt.group(0))
                item = nxt.group(0)
                if (
                    item.endswith("局")
                    and 3 <= len(item) <= 5
                    and item[0] not in _LEVEL_CHARS
                    and not any(
                        self._local(m)[0] < item_end and item_start < self._local(m)[1]
                        for m in self.mentions
                    )
                ):
                    self._add(
                        Mention(
                            self.offset + item_start,
                            self.offset + item_end,
                            level + item,
                            "Institution",
                            "局",
                            0.65,
                            "level_department",
                            region_code=self._context_code(p),
                            family="institution",
                        )
                    )
                pos = item_end

    # -- 3. names by their suffix -----------------------------------------------------

    def scan_suffixes(self) -> None:
        """Names made of a proper-name stem and an organisation or region suffix."""
        s = self.s
        pos = 0
        while True:
            match = _SUFFIX_RE.search(s, pos)
            if match is None:
                break
            pos = match.start() + 1
            suffix = match.group(0)
            rule = _RULES[suffix]
            start, end = match.start(), match.end()
            # Prefer the longest suffix ending at the same place (党建联合体 over 联合体).
            if self._covering(start, end) and not self._ending_at(start):
                continue
            if any(
                self._local(m) == (self._local(m)[0], end)
                and m.label != "Region"
                and self._local(m)[0] < start
                for m in self.mentions
            ):
                continue
            found = self._suffix_name(start, end, rule)
            if found is None and rule[3] == "region" and len(suffix) == 1:
                found = self._near_region(start, end)
            # A longer suffix that names nothing (产业联合党委 alone) hides the shorter
            # ones inside it (联合党委, 党委).
            pos = end

    def _suffix_ok(self, start: int, end: int, suffix: str) -> bool:
        s = self.s
        if suffix == "村" and s[end : end + 1] in _NOT_AFTER_VILLAGE:
            return False
        if s[end : end + 1] and s[end : end + 1] in _NOT_AFTER.get(suffix, ""):
            return False
        if suffix in ("党组", "党委") and s[end : end + 1] in ("织", "员", "书", "副"):
            return suffix == "党委"
        if len(suffix) == 1:
            token = self._token_at(start)
            if (
                token is not None
                and token[2] != start
                and token[3] == end
                and len(token[0]) <= 4
                and self.gaz.is_dictionary_word(token[0])
            ):
                return False
        if len(suffix) == 1 and suffix in _ONE_CHAR_LOOSE:
            token = self._token_at(start)
            if token is None:
                return False
            if token[2] != start and token[1] not in _PROPER_TAGS:
                return False
            if end not in self.token_ends and s[end : end + 1] not in ("党", "委"):
                nxt = self._token_at(end)
                if nxt is not None and nxt[1] not in STOP_TAGS and len(nxt[0]) > 1:
                    return False
        return True

    def _stem_start(self, start: int, max_len: int) -> tuple[int, list[Mention]]:
        """Where the name ending in a suffix at ``start`` begins, and the known names it
        contains (place prefixes, the owner of a nested name)."""
        s = self.s
        pos = start
        inner: list[Mention] = []
        anchored = self._region_anchor(start)
        if anchored is not None:
            pos = anchored
        # A quoted brand right before the suffix: “红色物业”公司.
        while True:
            if pos > 0 and s[pos - 1] in _QUOTE_CLOSE:
                open_at = max(s.rfind(q, 0, pos - 1) for q in _QUOTE_OPEN)
                if open_at >= 0 and pos - open_at <= 14:
                    pos = open_at
                    known = self._ending_at(pos)
                    if known is None:
                        return pos, inner
                    continue
            known = self._ending_at(pos)
            if known is not None and start - self._local(known)[0] <= max_len + 6:
                inner.append(known)
                pos = self._local(known)[0]
                if known.label not in ("Region",):
                    # Only place names may precede an owner: 松山镇英山村党支部.
                    before = self._ending_at(pos)
                    while before is not None and before.label == "Region":
                        inner.append(before)
                        pos = self._local(before)[0]
                        before = self._ending_at(pos)
                    return pos, inner
                continue
            token = self._token_at(pos - 1) if pos > 0 else None
            if token is None or token[3] != pos:
                if token is not None and token[3] > pos and token[2] < pos:
                    # The suffix begins inside a token (交通局): take the token's head.
                    head = s[token[2] : pos]
                    if _CJK.fullmatch(head[-1]) and head not in BOUNDARY_WORDS:
                        pos = token[2]
                        continue
                break
            word, tag = token[0], token[1]
            if (
                word in BOUNDARY_WORDS
                or (tag in STOP_TAGS and tag != "x")
                or not all(_CJK.match(ch) for ch in word)
                or start - token[2] > max_len
            ):
                break
            pos = token[2]
        if (
            pos > 0
            and s[pos - 1] in _LEVEL_CHARS
            and (pos < 2 or not _CJK.match(s[pos - 2]) or s[pos - 2] in FUNCTION_CHARS)
        ):
            # 县工信局, 县联通公司: the level is written as part of the name.
            pos -= 1
        while pos < start and s[pos] in FUNCTION_CHARS and start - pos > 2:
            token = self._token_at(pos)
            if token is not None and self.gaz.exact(token[0]):
                break
            pos += 1
        return pos, inner

    def _near_miss(self, name: str, label: str, upto: int) -> GazetteerEntry | None:
        """The one known name of ``label`` inside the regions mentioned that differs from
        ``name`` by one character (王果铺镇 / 王杲铺镇; 锅塔口村 / 锅培口村)."""
        scopes = [c for c in (self._context_code(upto), *reversed(self.context)) if c]
        if not scopes:
            return None
        scope = scopes[0][:6] if len(scopes[0]) >= 6 else scopes[0]
        found = [e for e in self.gaz.near_names(name, label, scope)]
        return found[0] if len(found) == 1 else None

    def _near_region(self, start: int, end: int) -> Mention | None:
        """A town written one character off its register name (王果铺镇 for 王杲铺镇)."""
        for length in (4, 3, 2):
            stem_start = start - length
            if stem_start < 0 or not all(_CJK.match(ch) for ch in self.s[stem_start:start]):
                continue
            if any(
                self._local(m)[0] < end and stem_start < self._local(m)[1] for m in self.mentions
            ):
                continue
            near = self._near_miss(self.s[stem_start:end], "Region", stem_start)
            if near is not None:
                return self._add(
                    Mention(
                        self.offset + stem_start,
                        self.offset + end,
                        self.s[stem_start:end],
                        "Region",
                        near.kind,
                        0.75,
                        "near_miss",
                        entry=near,
                        region_code=near.region_code,
                        family="region",
                    )
                )
        return None

    def _region_anchor(self, start: int) -> int | None:
        """A place name shortly before the suffix with only a name between them
        (王庙镇张官店区域党建联合体, 平原县委组织部): the stem runs from the place."""
        best: int | None = None
        for m in self.mentions:
            me = self._local(m)[1]
            if m.label != "Region" or me > start or start - me > 8:
                continue
            between = self.s[me:start]
            if not between or not all(_CJK.match(ch) for ch in between):
                continue
            tokens = [t for t in self.tokens if me <= t[2] and t[3] <= start]
            if any(t[0] in BOUNDARY_WORDS and len(t[0]) >= 2 for t in tokens):
                continue
            if between[0] in FUNCTION_CHARS and between[0] not in "和":
                continue
            if best is None or me > best:
                best = me
        return best

    def _suffix_name(self, start: int, end: int, rule: SuffixRule) -> Mention | None:
        # Why this is long: the stem grammar is an ordered list of rules (boundaries, level
        # characters, quoted brands, generic stems); split apart, their order would be hidden.
        suffix, label, kind, family = rule
        if not self._suffix_ok(start, end, suffix):
            return None
        max_len = 5 if label in ("Village", "Region") else 12
        stem_start, inner = self._stem_start(start, max_len)
        registered = self._registered_start(start, suffix)
        if registered is not None and registered < stem_start:
            stem_start, inner = registered, []
        if family == "cooperative":
            stem_start = self._village_prefix(stem_start, start)
        stem = self.s[stem_start:start]
        owner = next((m for m in inner if m.label != "Region"), None)
        if owner is not None and owner.label == "PartyOrganization":
            return None
        places = [m for m in inner if m.label == "Region"]
        core = stem
        changed = True
        while changed:
            changed = False
            for place in places:
                if core.startswith(place.name):
                    core = core[len(place.name) :]
                    changed = True
        if label == "Region":
            return self._new_region(stem_start, start, end, rule, core)
        if suffix == "组织部" and not (core.endswith("委") or stem.endswith("委")):
            return None
        if suffix == "党组织" and owner is None:
            return None
        if not core and owner is None and (not places or family not in ("party", "institution")):
            return None
        if core and owner is None and label != "Village" and registered is None:
            verb = next((v for v in _GOVERNING_VERBS if core.startswith(v)), None)
            if verb is not None:
                # 建立健全党委…, 紧盯跨村产业联合党委: the verb governs the name, and a
                # place before the verb is not part of it.
                if places:
                    return None
                stem_start += len(verb)
                core = core[len(verb) :]
            if len(core) == 1 and not places and family == "party":
                return None  # 配强联合党委: a character left of a verb
            core_tokens = [t for t in self.tokens if start - len(core) <= t[2] < start]
            while core_tokens and not places and self._weak_head(core_tokens):
                stem_start = core_tokens[0][3]
                core = self.s[stem_start:start]
                core_tokens = core_tokens[1:]
            if not core:
                return None
            if (
                core_tokens
                and not places
                and all(t[0] in GENERIC_STEMS or t[0] in INDUSTRY_MODIFIERS for t in core_tokens)
            ):
                return None
        if core and self._generic(core) and owner is None:
            return None
        if label == "Village":
            if not (2 <= len(core) <= 5):
                return None
            last = self._token_at(start - 1)
            entries = self.gaz.villages_by_stem(core)
            if (
                not entries
                and last is not None
                and last[1] in ("a", "v", "vn", "ad", "n")
                and self.gaz.is_dictionary_word(last[0])
                and len(last[0]) == len(core)
            ):
                return None
            if not entries:
                near = self._near_miss(core + "村", "Village", stem_start)
                if near is not None:
                    entries = [near]
            stem_tokens = [t for t in self.tokens if stem_start <= t[2] < start]
            if not entries and any(
                t[1] not in ("ns", "nr", "nrt", "nrfg", "nz", "j") for t in stem_tokens
            ):
                return None
            entry = self._choose(entries, stem_start) if entries else None
            return self._add(
                Mention(
                    self.offset + stem_start,
                    self.offset + end,
                    self.s[stem_start:end],
                    "Village",
                    entry.kind if entry else kind,
                    0.9 if entry else 0.65,
                    "suffix",
                    entry=entry,
                    region_code=entry.region_code if entry else self._context_code(stem_start),
                    family=family,
                )
            )
        if (
            label == "Enterprise"
            and core
            and owner is None
            and registered is None
            and self._weak_company(core, start)
        ):
            return None
        name = self.s[stem_start:end]
        if kind == "公司":
            for special in ("强村富民公司", "红色物业公司", "村集体公司"):
                if fold(name.replace("“", "").replace("”", "")).endswith(special):
                    kind = special
        region_code = self._context_code(stem_start)
        if places:
            region_code = places[0].region_code or region_code
        if owner is not None and owner.region_code:
            region_code = owner.region_code[:9] if owner.label == "Village" else owner.region_code
        nested_owner = owner
        if owner is None and places and family == "party" and not core:
            nested_owner = places[0]
        m = self._add(
            Mention(
                self.offset + stem_start,
                self.offset + end,
                name,
                label,
                kind,
                0.8 if core and len(core) >= 2 else 0.7,
                "suffix",
                region_code=region_code,
                family=family,
                owner=nested_owner if family == "party" else None,
            )
        )
        if family == "joint_body" and "产业" in suffix + core:
            self._industry_of(m, stem_start, start, core, places)
        if family == "party" and owner is not None:
            self._shared_suffix(owner, suffix, kind, region_code)
        return m

    def _registered_start(self, start: int, suffix: str) -> int | None:
        """A registered company name (山东高速泰山生态农业开发有限公司) begins with a place:
        the earliest place word after the last punctuation or function word before the
        suffix, whatever verbs or nouns follow it."""
        if not suffix.endswith(("有限公司", "有限责任公司")):
            return None
        s = self.s
        lo = start
        while lo > 0 and start - lo < 18 and _CJK.match(s[lo - 1]):
            if s[lo - 1] in _REGISTERED_STOPS:
                break
            lo -= 1
        for token in self.tokens:
            if (
                lo <= token[2] < start
                and token[1] == "ns"
                and len(token[0]) >= 2
                and not token[0].endswith(("镇", "乡", "村", "街道"))
            ):
                return token[2]
        return None

    def _village_prefix(self, stem_start: int, start: int) -> int:
        """大土屋富硒园合作社: a village written without 村 before a cooperative's own name
        is its owner, not part of the name."""
        s = self.s
        for x in range(max(0, stem_start - 2), stem_start + 1):
            for length in (4, 3, 2):
                end = x + length
                if end > start - 2 or end <= stem_start:
                    continue
                if not self.gaz.villages_by_stem(s[x:end]):
                    continue
                if x > 0 and _CJK.match(s[x - 1]) and s[x - 1] not in "、和与及":
                    continue
                if any(self._local(m)[0] < end and x < self._local(m)[1] for m in self.mentions):
                    continue
                entries = self.gaz.villages_by_stem(s[x:end])
                entry = self._choose(entries, x)
                self._add(
                    Mention(
                        self.offset + x,
                        self.offset + end,
                        s[x:end] + "村",
                        "Village",
                        entry.kind if entry else "行政村",
                        0.8,
                        "village_prefix",
                        entry=entry,
                        region_code=entry.region_code if entry else self._context_code(x),
                    )
                )
                return end
        return stem_start

    def _shared_suffix(
        self, owner: Mention, suffix: str, kind: str | None, region_code: str | None
    ) -> None:
        """台头村和大土屋村党组织: the party suffix is shared by the villages listed."""
        pos = self._local(owner)[0]
        while pos > 0 and self.s[pos - 1] in "和、及与":
            other = self._ending_at(pos - 1)
            if other is None or other.label != owner.label:
                return
            ostart, oend = self._local(other)
            self._add(
                Mention(
                    self.offset + ostart,
                    self.offset + oend,
                    other.name + suffix,
                    "PartyOrganization",
                    kind,
                    0.7,
                    "shared_suffix",
                    region_code=region_code,
                    family="party",
                    owner=other,
                )
            )
            pos = ostart

    def _weak_head(self, tokens: list[Token]) -> bool:
        """Whether the first token of a stem is not part of the name: a verb or adverb
        (要搭上水果产业联合党委, 嵌入联合体) or a generic word (跨村产业联合党委)."""
        first = tokens[0]
        if len(tokens) > 1:
            return first[1].startswith(("v", "d")) or first[0] in GENERIC_STEMS
        return (
            first[1].startswith("v")
            and len(first[0]) >= 2
            and self.gaz.is_dictionary_word(first[0])
        )

    def _weak_company(self, core: str, start: int) -> bool:
        """A company stem that names no one: a common noun (物业公司), generic words
        (企业性质合作社) or a verb phrase (委员兼任合作社)."""
        if len(core) <= 2 and self.gaz.is_dictionary_word(core) and not self.gaz.exact(core):
            return True
        core_start = start - len(core)
        tokens = [t for t in self.tokens if core_start <= t[2] < start]
        if tokens and len(tokens[0][0]) >= 2 and tokens[0][0] in GENERIC_STEMS:
            return True
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else self.s[start : start + 2]
            if token[1].startswith("v") and len(token[0]) >= 2 and not nxt.startswith("专业"):
                return True
        return False

    def _new_region(
        self, stem_start: int, start: int, end: int, rule: SuffixRule, core: str
    ) -> Mention | None:
        suffix, _, kind, _ = rule
        if suffix in ("区", "市") or not (2 <= len(core) <= 4) or self._generic(core):
            return None
        near = self._near_miss(self.s[stem_start:end], "Region", stem_start)
        if near is not None:
            return self._add(
                Mention(
                    self.offset + stem_start,
                    self.offset + end,
                    self.s[stem_start:end],
                    "Region",
                    near.kind,
                    0.75,
                    "near_miss",
                    entry=near,
                    region_code=near.region_code,
                    family="region",
                )
            )
        tokens = [t for t in self.tokens if stem_start <= t[2] < start]
        if not tokens or any(t[1] not in ("ns", "nr", "nrt", "nz", "j") for t in tokens):
            return None
        known = self.gaz.regions_by_stem(core)
        entry = self._choose(known, stem_start) if known else None
        return self._add(
            Mention(
                self.offset + stem_start,
                self.offset + end,
                self.s[stem_start:end],
                "Region",
                kind,
                0.8 if entry else 0.55,
                "suffix",
                entry=entry,
                region_code=entry.region_code if entry else None,
                family="region",
            )
        )

    # -- 4. industries ----------------------------------------------------------------

    def _industry_of(
        self, body: Mention, stem_start: int, start: int, core: str, places: list[Mention]
    ) -> None:
        """The industry a joint body's name carries: 松山镇水果产业联合党委 → 水果."""
        core = core.split("产业")[0] if "产业" in core else core
        core_start = (
            start
            - len(self.s[stem_start:start])
            + (len(self.s[stem_start:start]) - len(core) if core else 0)
        )
        name = self._industry_name(core, core_start)
        if name is None:
            return
        at = self.s.find(name, stem_start, start + 1)
        ind = self._add(
            Mention(
                self.offset + max(at, stem_start),
                self.offset + max(at, stem_start) + len(name),
                name,
                "Industry",
                None,
                0.7,
                "joint_body_industry",
            )
        )
        body.industry = ind

    def _industry_name(self, core: str, core_start: int) -> str | None:
        if len(core) < 2:
            return None
        for length in range(len(core), 1, -1):
            for entry in self.gaz.exact(core[-length:]):
                if entry.label == "Industry":
                    return core[-length:]
            if core[-length:] in PRODUCTS:
                return core[-length:]
        tokens = [t for t in self.tokens if core_start <= t[2] < core_start + len(core)]
        while tokens and len(tokens[0][0]) == 1 and len(core) > 2:
            core = core[1:]
            tokens = tokens[1:]
        several = len(tokens) > 1 and len(tokens[-1][0]) >= 2
        if (several and not self.gaz.is_dictionary_word(core)) or (len(core) > 4 and tokens):
            core = tokens[-1][0]
        if len(core) < 2 or core in INDUSTRY_MODIFIERS or self._generic(core):
            return None
        return core

    def scan_industries(self) -> None:
        """``X产业`` and ``X产业链``: the industry X (啤酒产业 → 啤酒)."""
        s = self.s
        for match in re.finditer("产业链?", s):
            start = match.start()
            if self._covering(start, match.end()) or self._ending_at(start):
                continue
            nxt = s[match.end() : match.end() + 2]
            if nxt.startswith(("园", "化", "联合", "党", "基金", "项目", "路", "工人", "发展")):
                continue
            pos = start
            while pos > 0:
                token = self._token_at(pos - 1)
                if token is None or token[3] != pos:
                    break
                word, tag = token[0], token[1]
                if (
                    word in BOUNDARY_WORDS
                    or word in INDUSTRY_MODIFIERS
                    or tag in STOP_TAGS
                    or tag.startswith("v")
                    or not all(_CJK.match(ch) for ch in word)
                    or start - token[2] > 6
                    or self._ending_at(pos) is not None
                ):
                    break
                pos = token[2]
            name = self._industry_name(s[pos:start], pos)
            if name is None:
                continue
            at = start - len(name)
            self._add(
                Mention(
                    self.offset + at, self.offset + start, name, "Industry", None, 0.65, "industry"
                )
            )

    def scan_products(self) -> None:
        """Products named in an industry frame: ``康乃馨种植``, ``发展糯玉米``, ``香菇大棚``,
        ``林下经济等优势产业``; the other products of the same list (``灵芝、水稻、黑木耳
        种植``) go with them."""
        s = self.s
        found: list[tuple[int, int, bool]] = []
        for match in _PRODUCT_RE.finditer(s):
            start, end = match.start(), match.end()
            # A known industry inside a longer product (水果 in 水果玉米) gives way to it.
            shorter = [
                m
                for m in self.mentions
                if m.label == "Industry"
                and start <= self._local(m)[0]
                and self._local(m)[1] <= end
                and self._local(m) != (start, end)
            ]
            if shorter and not self._covering(start, end):
                for m in shorter:
                    self.mentions.remove(m)
            if self._covering(start, end) or any(
                self._local(m)[0] < end and start < self._local(m)[1] for m in self.mentions
            ):
                continue
            if start not in self.token_starts and len(match.group(0)) < 2:
                continue
            if len(match.group(0)) == 1 and (start, end) not in {(t[2], t[3]) for t in self.tokens}:
                continue
            if end not in self.token_ends and not s[end:].startswith(PRODUCT_FRAMES_AFTER):
                continue
            gap = _PRODUCT_GAP.match(s, end)
            after = s[gap.end() if gap else end :]
            framed = after.startswith(PRODUCT_FRAMES_AFTER) or (
                after.startswith("等") and "产业" in after[1:6]
            )
            framed = framed or s[:start].endswith(PRODUCT_FRAMES_BEFORE)
            if after.startswith(("户", "大户", "农户", "合作社", "企业", "专业")):
                framed = False
            found.append((start, end, framed))
        accepted = [f[2] for f in found]
        # A list shares its frame: items joined by 、和及与 to a framed product.
        for _ in range(len(found)):
            for i in range(len(found) - 1):
                a, b = found[i], found[i + 1]
                if s[a[1] : b[0]] in ("、", "和", "及", "与", "，") and (
                    accepted[i] or accepted[i + 1]
                ):
                    accepted[i] = accepted[i + 1] = True
        for (start, end, _), ok in zip(found, accepted, strict=True):
            if ok:
                self._add(
                    Mention(
                        self.offset + start,
                        self.offset + end,
                        s[start:end],
                        "Industry",
                        None,
                        0.65,
                        "product",
                    )
                )

    # -- 5. programs ------------------------------------------------------------------

    def scan_programs(self) -> None:
        """Quoted names of campaigns, brands and products (“红星贷”, “百企帮百村”活动)."""
        s = self.s
        accepted_end = -2
        for match in _QUOTED.finditer(s):
            content = match.group(1)
            start, end = match.start(), match.end()
            in_list = start > 0 and s[start - 1] == "、" and accepted_end == start - 1
            if self._covering(match.start(1), match.end(1)) or self._covering(start, end):
                continue
            if any(ch in content for ch in "、，,。：:；;！？!?（）()《》") or not _CJK.search(
                content
            ):
                continue
            after = s[end : end + 6]
            before = s[max(0, start - 2) : start]
            if any(after.startswith(rule[0]) for rule in SUFFIXES if rule[3] != "region"):
                continue
            names = self.known_names | {m.name for m in self.mentions if m.label != "Program"}
            if any(f"“{content}”" in name or content == name for name in names):
                continue
            head_in = content.endswith(PROGRAM_HEADS)
            head_after = after.startswith(PROGRAM_HEADS)
            verb_before = before.endswith(PROGRAM_VERBS)
            if not (head_in or head_after or verb_before or in_list):
                continue
            accepted_end = end
            run = re.match(r"[\u4e00-\u9fff]{1,8}", s[end:])
            name_end = match.end(1)
            if run and not head_after and run.group(0).endswith(PROGRAM_HEADS[:12]):
                content = content + run.group(0)
            confidence = 0.75 if (head_in or head_after) else 0.55
            kind = (
                "金融产品"
                if content.endswith("贷") or "金融" in after[:4]
                else ("品牌" if after.startswith(("品牌", "党建品牌", "新品牌")) else "行动")
            )
            if content != match.group(1):
                name_end = end + len(content) - len(match.group(1))
            self._add(
                Mention(
                    self.offset + match.start(1),
                    self.offset + name_end,
                    content,
                    "Program",
                    kind,
                    confidence,
                    "quote",
                    region_code=self._context_code(start),
                )
            )

    def scan_program_names(self) -> None:
        """Unquoted names of programs by their head: 红链赋能工程, 党建联建智库, 静宁苹果智慧
        产业园, 庄浪宫灯生产基地, 红色领航帮办团."""
        s = self.s
        for match in _PROGRAM_NAME.finditer(s):
            start, end = match.start(), match.end()
            if self._covering(start, end) or self._ending_at(end) is not None:
                continue
            if start > 0 and s[start - 1] in _QUOTE_CLOSE:
                continue
            stem_start, _ = self._stem_start(start, 10)
            core = s[stem_start:start]
            stripped = core
            for region in self._region_prefixes():
                if stripped.startswith(region):
                    stripped = stripped[len(region) :]
            tokens = [t for t in self.tokens if stem_start <= t[2] < start]
            while tokens and tokens[0][1].startswith("v") and len(tokens[0][0]) >= 2:
                stem_start = tokens[0][3]
                tokens = tokens[1:]
                core = s[stem_start:start]
            if (
                len(core) < 2
                or self._generic(core)
                or all(t[0] in GENERIC_STEMS or t[0] in INDUSTRY_MODIFIERS for t in tokens)
            ):
                continue
            head = match.group(0)
            kind = "行动" if head in ("工程", "行动", "帮办团") else "项目"
            program = self._add(
                Mention(
                    self.offset + stem_start,
                    self.offset + end,
                    s[stem_start:end],
                    "Program",
                    kind,
                    0.55,
                    "program_name",
                    region_code=self._context_code(stem_start),
                )
            )
            if head in _PARK_HEADS:
                self._park_product(program, stem_start, start)

    def _park_product(self, park: Mention, stem_start: int, head_start: int) -> None:
        """The product a park or base is named after, at most two characters before its
        head: 青岭核桃智慧产业园 → 核桃, 云溪刺绣生产基地 → 刺绣."""
        s = self.s
        for gap in range(3):
            for product in _PRODUCTS_LONGEST:
                at = head_start - gap - len(product)
                if at >= stem_start and s.startswith(product, at) and len(product) >= 2:
                    ind = self._add(
                        Mention(
                            self.offset + at,
                            self.offset + at + len(product),
                            product,
                            "Industry",
                            None,
                            0.6,
                            "park_product",
                        )
                    )
                    park.industry = ind
                    return

    def scan_program_lists(self) -> None:
        """Lists a report closes as programs or brands: 培树了A、B等一批先进典型, 实施A、B等
        项目, 开展A、B等活动; and a brand after 擦亮 / 叫响 / 打造 (擦亮青溪好管家品牌)."""
        s = self.s
        for match in _PROGRAM_LIST.finditer(s):
            items = match.group("items").split("、")
            if len(items) < 2:
                continue
            pos = match.start("items")
            for item in items:
                at, pos = pos, pos + len(item) + 1
                self._program_item(
                    at, at + len(item), "品牌" if "品牌" in match.group(0) else "项目"
                )
        for match in _BRAND_AFTER_VERB.finditer(s):
            stem = match.group("stem")
            cut = stem.rfind("的") + 1
            start, end = match.start("stem") + cut, match.end()
            core = s[start : match.start("head")]
            if "、" in core:
                continue
            tokens = [t for t in self.tokens if start <= t[2] < match.start("head")]
            if (
                len(core) < 3
                or self._generic(core)
                or all(t[0] in GENERIC_STEMS or t[0] in INDUSTRY_MODIFIERS for t in tokens)
            ):
                continue
            self._program_item(start, end, "品牌")

    def _program_item(self, start: int, end: int, kind: str) -> None:
        s = self.s
        if not 2 <= end - start <= 30 or not _CJK.search(s[start:end]):
            return
        if any(ch in s[start:end] for ch in "，,；;：:（）()") or self._covering(start, end):
            return
        if any(self._local(m) == (start, end) for m in self.mentions):
            return
        program = self._add(
            Mention(
                self.offset + start,
                self.offset + end,
                s[start:end],
                "Program",
                kind,
                0.55,
                "program_list",
                region_code=self._context_code(start),
            )
        )
        for product in _PRODUCTS_LONGEST:
            at = s.find(product, start, end)
            if len(product) >= 2 and at >= 0 and s.startswith("产业", at + len(product)):
                program.industry = self._add(
                    Mention(
                        self.offset + at,
                        self.offset + at + len(product),
                        product,
                        "Industry",
                        None,
                        0.6,
                        "program_product",
                    )
                )
                return

    def scan_industry_lists(self) -> None:
        """Lists closed by 等领域 or 等…资源 name industries: 围绕家纺、冷链物流等领域,
        立足竹编、木雕等非遗资源."""
        s = self.s
        for match in _INDUSTRY_LIST.finditer(s):
            filler = match.group("filler") or ""
            if "党" in filler or any(
                t[1].startswith("v")
                for t in self.tokens
                if match.start("filler") <= t[2] < match.end("filler")
            ):
                continue
            items = match.group("items").split("、")
            pos = match.start("items")
            spans = []
            for item in items:
                spans.append((pos, pos + len(item)))
                pos += len(item) + 1
            first_start, first_end = spans[0]
            # The first item starts after the verb or conjunction before it.
            for t in self.tokens:
                if first_start <= t[2] < first_end and (
                    t[1].startswith(("v", "c", "p")) or t[0] in ("和", "及", "与")
                ):
                    first_start = t[3]
            spans[0] = (first_start, first_end)
            for start, end in spans:
                name = s[start:end]
                if not 2 <= len(name) <= 6 or self._covering(start, end) or self._generic(name):
                    continue
                if any(
                    self._local(m)[0] < end and start < self._local(m)[1] for m in self.mentions
                ):
                    continue
                self._add(
                    Mention(
                        self.offset + start,
                        self.offset + end,
                        name,
                        "Industry",
                        None,
                        0.55,
                        "industry_list",
                    )
                )

    # -- 6. people --------------------------------------------------------------------

    def scan_people(self) -> None:
        """A 2–3 character name after a title: 党委书记曹新民, 董事长张西坤."""
        s = self.s
        title_re = "|".join(TITLES)
        for match in re.finditer(rf"(?:{title_re})(?:[、,，](?:{title_re}))*", s):
            start = match.end()
            if s[start : start + 1] in ("会", "们", "处", "室"):
                continue
            name = self._person_name(start)
            if name is None:
                continue
            title = match.group(0)
            self._add(
                Mention(
                    self.offset + start,
                    self.offset + start + len(name),
                    name,
                    "Person",
                    "第一书记"
                    if "第一书记" in title
                    else ("书记" if "书记" in title else "负责人"),
                    0.6,
                    "title",
                )
            )
            self.person_titles.append((match.start(), self.mentions[-1], title))

    person_titles: list[tuple[int, Mention, str]]
    #: Names of the organisations found so far in the document (a quoted stem of one is
    #: not a program: “红色硒谷” after “红色硒谷”党建联盟).
    known_names: set[str]

    def _person_name(self, start: int) -> str | None:
        s = self.s
        if start >= len(s) or s[start] not in SURNAMES:
            return None
        token = self._token_at(start)
        if token is None or token[2] != start:
            return None
        word, tag = token[0], token[1]
        if tag.startswith("nr") and len(word) == 3 and word[-1] in "说讲称道":
            return word[:2]  # 王海说: the verb of speech is not part of the name
        if tag.startswith("nr") and 2 <= len(word) <= 3:
            return word
        if tag.startswith("nr") and len(word) == 4:
            return word[:3] if word[-1] in "说讲称" else None
        if len(word) == 1:
            nxt = self._token_at(token[3])
            if (
                nxt is not None
                and 1 <= len(nxt[0]) <= 2
                and all(_CJK.match(c) for c in nxt[0])
                and nxt[0] not in BOUNDARY_WORDS
                and nxt[1] not in STOP_TAGS | {"v"}
            ):
                return word + nxt[0]
        return None

    # -- all --------------------------------------------------------------------------

    def scan(self) -> list[Mention]:
        """Run every rule; return the sentence's mentions in text order."""
        self.person_titles = []
        self.scan_gazetteer()
        self.scan_lists()
        self.scan_departments()
        self.scan_suffixes()
        self.scan_industries()
        self.scan_products()
        self.scan_programs()
        self.scan_program_names()
        self.scan_program_lists()
        self.scan_industry_lists()
        self.scan_people()
        self.mentions.sort(key=lambda m: (m.start, -(m.end - m.start)))
        return self.mentions

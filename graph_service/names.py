"""Name resolution for Chinese place and organisation names.

A name given by a person (``王果铺镇``, ``林庄村``, ``森力啤酒饮料公司``) is matched against
the nodes of a region scope, and a region's nodes are scanned for likely duplicates. Pure
functions: the caller reads the candidates from the store and passes them in.

Names are compared in three layers:

1. :func:`normalise` — :func:`graph_service.search_text.fold` (full/half width, invisible
   characters, traditional → simplified, lower case), then only letters, digits and marks
   are kept: whitespace, punctuation and symbols go (``（森力）啤酒·饮料`` is
   ``森力啤酒饮料``; what is inside brackets stays, only the brackets go).
2. :func:`name_form` — the normalised text split into a *core* and a *suffix* of one family
   of :data:`graph_service.vocabulary.ORGANISATION_SUFFIXES` (or of
   :data:`~graph_service.vocabulary.REGION_SUFFIXES` for ``Region`` nodes), with a leading
   region name the caller names dropped from the core (``平原县森力啤酒有限公司`` →
   ``森力啤酒``). Only the outer suffix is stripped: ``许铺社区林庄村民委员会`` has the core
   ``许铺社区林庄``, ``某某村党支部`` the core ``某某村``.
3. A score from the two forms, with the features and Chinese phrases that justify it (see
   :func:`rank_names`).

:func:`credit_code_valid` checks a unified social credit code (统一社会信用代码), which, when
both sides carry a valid one, decides a match whatever the names say.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from rapidfuzz import fuzz, process

from graph_service.search_text import clean, fold
from graph_service.vocabulary import ORGANISATION_SUFFIXES, REGION_SUFFIXES

__all__ = [
    "NameCandidate",
    "NameForm",
    "NameMatch",
    "credit_code_valid",
    "duplicate_pairs",
    "name_form",
    "normalise",
    "rank_names",
]

#: Score of two names whose cores are equal (suffixes of one family, or one without suffix).
SAME_CORE_SCORE: Final = 0.95
#: Score of two names one of whose cores is the tail of the other after a place name
#: (``林庄`` and ``许铺社区林庄``).
CONTAINED_SCORE: Final = 0.85
#: Highest score of two different cores by similarity alone: below :data:`SAME_CORE_SCORE`.
SIMILARITY_CAP: Final = 0.9
#: Factor applied when both names carry suffixes of different families (村 / 有限公司).
FAMILY_PENALTY: Final = 0.6
#: Factor applied when both sides carry valid but different unified social credit codes.
CREDIT_CODE_PENALTY: Final = 0.5

#: The label whose names take region suffixes (镇, 乡, 街道, 县 …) instead of organisation ones.
_REGION_LABEL: Final = "Region"
#: Labels whose nodes with different region codes are different places, whatever their names.
_PLACE_LABELS: Final = frozenset({"Region", "Village"})
#: Rows of candidate cores compared at once by :func:`duplicate_pairs` (memory: rows × n).
_CDIST_ROWS: Final = 512

#: The 31 characters of a unified social credit code, in the order of their values.
_CREDIT_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES: Final = {ch: value for value, ch in enumerate(_CREDIT_ALPHABET)}
#: Weights of positions 1..17: 3^(i-1) mod 31.
_CREDIT_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))


def _longest_first(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


#: (suffix, family) of every organisation suffix, longest first over all families.
_ORGANISATION: Final = _longest_first(
    (suffix, family) for family, suffixes in ORGANISATION_SUFFIXES.items() for suffix in suffixes
)
#: (suffix, "region") of every region suffix, longest first.
_REGION: Final = _longest_first((suffix, "region") for suffix in REGION_SUFFIXES)
#: Suffixes that end a place name: a core ``<place><name>`` names ``<name>`` within a place.
_PLACE_ENDINGS: Final = tuple(
    sorted({*ORGANISATION_SUFFIXES["village"], *REGION_SUFFIXES}, key=lambda s: -len(s))
)


@functools.lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """The form in which names are compared.

    Parameters
    ----------
    text : str
        A name as stored or typed.

    Returns
    -------
    str
        ``search_text.fold(text)`` with every character that is not a letter, a digit or a
        mark (Unicode categories ``L*``, ``N*``, ``M*``) dropped: whitespace, punctuation and
        symbols (``（）()【】·、—`` …) go; the text inside brackets stays.

    Examples
    --------
    >>> normalise("ＡＢＣ 有限公司")
    'abc有限公司'
    >>> normalise("臺頭村（二組）")
    '台头村二组'
    """
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LNM")


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name split for comparison (see :func:`name_form`).

    Attributes
    ----------
    text : str
        The normalised name (:func:`normalise`).
    core : str
        ``text`` without its suffix and without a leading region name; never empty unless
        ``text`` is (when stripping would empty it, it is ``text``).
    family : str or None
        The family key of the suffix in :data:`~graph_service.vocabulary.ORGANISATION_SUFFIXES`
        (``"village"``, ``"company"`` …), ``"region"`` for a region suffix, or ``None``.
    suffix : str
        The suffix stripped, ``""`` if none.
    """

    text: str
    core: str
    family: str | None
    suffix: str


@functools.lru_cache(maxsize=1 << 16)
def _form(name: str, region_names: tuple[str, ...], region: bool) -> NameForm:
    text = normalise(name)
    rest, family, suffix = text, None, ""
    for candidate, candidate_family in _REGION if region else _ORGANISATION:
        if len(text) > len(candidate) and text.endswith(candidate):
            rest, family, suffix = text[: -len(candidate)], candidate_family, candidate
            break
    stripped = True
    while stripped:
        stripped = False
        for prefix in region_names:
            if prefix and len(rest) > len(prefix) and rest.startswith(prefix):
                rest, stripped = rest[len(prefix) :], True
                break
    return NameForm(text=text, core=rest, family=family, suffix=suffix)


def _region_key(region_names: Sequence[str]) -> tuple[str, ...]:
    names = {normalise(name) for name in region_names} - {""}
    return tuple(sorted(names, key=lambda name: (-len(name), name)))


def name_form(name: str, region_names: Sequence[str] = (), label: str | None = None) -> NameForm:
    """Split ``name`` into its core and the suffix that says what kind of thing it names.

    Parameters
    ----------
    name : str
        A name as stored or typed.
    region_names : sequence of str, optional
        Names of the regions in scope (``"平原县"``, ``"恩城镇"``): one of them leading the
        name (after the suffix is stripped) is dropped from the core, repeatedly
        (``山东省平原县…`` with both given). Compared normalised, as given: pass ``"平原"``
        too to drop it without its ``县``.
    label : str, optional
        The node label the name is of. ``"Region"`` strips a region suffix
        (:data:`~graph_service.vocabulary.REGION_SUFFIXES`: 镇, 乡, 街道, 县 …); any other
        label, or none, strips an organisation suffix of
        :data:`~graph_service.vocabulary.ORGANISATION_SUFFIXES`.

    Returns
    -------
    NameForm
        The longest matching suffix is stripped, only the outer one
        (``许铺社区林庄村民委员会`` → core ``许铺社区林庄``, family ``"village"``). A suffix
        that is the whole name is not stripped. Results are cached.

    Examples
    --------
    >>> name_form("平原县森力啤酒有限公司", ["平原县"])
    NameForm(text='平原县森力啤酒有限公司', core='森力啤酒', family='company', suffix='有限公司')
    >>> name_form("王杲铺镇", label="Region").core
    '王杲铺'
    """
    return _form(name, _region_key(region_names), label == _REGION_LABEL)


def _credit_key(code: str | None) -> str | None:
    """The canonical form of a valid credit code, or ``None``."""
    if code is None:
        return None
    code = clean(code).upper()
    return code if credit_code_valid(code) else None


def credit_code_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code (GB 32100-2015).

    Parameters
    ----------
    code : str
        The code; full-width forms, invisible characters and surrounding whitespace are
        ignored (:func:`graph_service.search_text.clean`), letters may be lower case.

    Returns
    -------
    bool
        ``True`` when the code has 18 characters of ``0-9A-HJ-NPQRTUWXY`` (no I, O, Z, S, V)
        and its 18th character is the check character: with ``c_i`` the value of the i-th
        character (its index in that alphabet) and ``w_i = 3^(i-1) mod 31``,
        ``check = 31 - (Σ c_i·w_i mod 31)``, 31 written ``0``.

    Notes
    -----
    The check of the embedded organisation code (characters 9–17, GB 11714) is not made:
    codes issued to individual businesses do not always satisfy it.

    Examples
    --------
    >>> credit_code_valid("91350100M000100Y43")
    True
    >>> credit_code_valid("91350100M000100Y44")
    False
    """
    code = clean(code).upper()
    if len(code) != 18 or any(ch not in _CREDIT_VALUES for ch in code):
        return False
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_VALUES[code[17]] == (31 - total % 31) % 31


@dataclass(frozen=True, slots=True)
class NameCandidate:
    """A node a name may refer to, as the caller read it from the store.

    Attributes
    ----------
    id : str
        The node id.
    name : str
        Its name.
    label : str
        Its label (``"Village"``, ``"Enterprise"``, ``"Region"`` …).
    aliases : tuple of str
        Other names it is known by; matched as its name is.
    kind : str, optional
        Its kind (``"合作社"`` …), carried for the caller.
    region_code : str, optional
        Its division code.
    credit_code : str, optional
        Its unified social credit code.
    """

    id: str
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    kind: str | None = None
    region_code: str | None = None
    credit_code: str | None = None


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A candidate scored against a name.

    Attributes
    ----------
    candidate : NameCandidate
        The candidate.
    score : float
        0..1, rounded to 4 places (the rule is in :func:`rank_names`).
    matched : str
        The candidate's name or alias that gave the score.
    features : dict
        Machine-readable evidence: ``credit_code`` (bool, both codes valid: equal or not),
        ``exact``, ``same_core``, ``contained`` (bools), ``core_similarity`` (0..1),
        ``suffix_family_agrees`` (bool, when both names have a suffix), ``query_family`` and
        ``candidate_family`` (when known), ``alias`` (whether ``matched`` is an alias),
        ``label_agrees`` (when a label was asked for), ``region_code_agrees`` (when both
        region codes are known).
    explanation : list of str
        Short Chinese phrases for a planner (``"去掉后缀后相同（村 / 村民委员会）"``).
    """

    candidate: NameCandidate
    score: float
    matched: str
    features: dict[str, float | bool | str] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)


def _is_contained(a: str, b: str) -> bool:
    """Whether the shorter of ``a``, ``b`` (at least 2 characters) ends the longer one after
    a place name: the longer is ``<place><shorter>`` with ``<place>`` ending in a village or
    region suffix (``许铺社区`` + ``林庄``, ``恩城镇`` + ``西街``)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 2 or len(short) == len(long) or not long.endswith(short):
        return False
    head = long[: -len(short)]
    return any(len(head) > len(end) and head.endswith(end) for end in _PLACE_ENDINGS)


def _stripped_prefix(form: NameForm) -> bool:
    """Whether a leading region name was dropped from ``form``'s core."""
    return len(form.text) - len(form.suffix) > len(form.core)


@dataclass(slots=True)
class _Comparison:
    score: float
    features: dict[str, float | bool | str]
    explanation: list[str]


def _compare(query: NameForm, other: NameForm) -> _Comparison:
    """Score two name forms (the rule of :func:`rank_names`, without credit codes)."""
    features: dict[str, float | bool | str] = {}
    explanation: list[str] = []
    if not query.text or not other.text:
        return _Comparison(0.0, {"exact": False, "same_core": False}, [])
    exact = query.text == other.text
    same_core = query.core == other.core
    contained = not same_core and _is_contained(query.core, other.core)
    similarity = fuzz.ratio(query.core, other.core) / 100.0
    agrees = None if query.family is None or other.family is None else query.family == other.family
    features.update(exact=exact, same_core=same_core, contained=contained)
    features["core_similarity"] = round(similarity, 4)
    if agrees is not None:
        features["suffix_family_agrees"] = agrees
    if query.family is not None:
        features["query_family"] = query.family
    if other.family is not None:
        features["candidate_family"] = other.family
    if exact:
        return _Comparison(1.0, features, ["名称相同"])
    if same_core:
        score = SAME_CORE_SCORE
        suffixes = f"（{query.suffix or '无后缀'} / {other.suffix or '无后缀'}）"
        prefixed = _stripped_prefix(query) or _stripped_prefix(other)
        if query.suffix == other.suffix:
            explanation.append("去掉地名后相同")
        elif prefixed:
            explanation.append(f"去掉地名和后缀后相同{suffixes}")
        else:
            explanation.append(f"去掉后缀后相同{suffixes}")
    elif contained:
        score = CONTAINED_SCORE
        short, long = sorted((query.core, other.core), key=len)
        explanation.append(f"“{short}”是“{long}”的末尾部分")
    else:
        score = min(similarity, SIMILARITY_CAP)
        explanation.append(f"核心名称相似度 {similarity:.2f}")
    if agrees is False:
        score *= FAMILY_PENALTY
        explanation.append(f"后缀不同类（{query.suffix} / {other.suffix}）")
    return _Comparison(score, features, explanation)


def _names(candidate: NameCandidate) -> tuple[str, ...]:
    return (candidate.name, *(alias for alias in candidate.aliases if alias != candidate.name))


def _best(
    query_forms: Sequence[NameForm], candidate: NameCandidate, regions: tuple[str, ...]
) -> tuple[str, _Comparison]:
    """The best comparison of any of ``query_forms`` with any name of ``candidate``."""
    region = candidate.label == _REGION_LABEL
    best: tuple[str, _Comparison] | None = None
    for name in _names(candidate):
        form = _form(name, regions, region)
        for query_form in query_forms:
            comparison = _compare(query_form, form)
            if best is None or comparison.score > best[1].score:
                best = (name, comparison)
    assert best is not None  # every candidate has a name
    return best


def _finish(
    candidate: NameCandidate,
    matched: str,
    comparison: _Comparison,
    credit: bool | None,
) -> NameMatch:
    """Apply the credit-code rule and build the match."""
    score, features, explanation = comparison.score, comparison.features, comparison.explanation
    if matched != candidate.name:
        features["alias"] = True
        explanation.insert(0, f"按别名“{matched}”匹配")
    else:
        features["alias"] = False
    if credit is not None:
        features["credit_code"] = credit
    if credit is True:
        score = 1.0
        explanation.insert(0, "统一社会信用代码相同")
    elif credit is False:
        score *= CREDIT_CODE_PENALTY
        explanation.append("统一社会信用代码不同")
    return NameMatch(candidate, round(score, 4), matched, features, explanation)


def _credit_agrees(a: str | None, b: str | None) -> bool | None:
    return None if a is None or b is None else a == b


def rank_names(
    query: str,
    candidates: Sequence[NameCandidate],
    *,
    label: str | None = None,
    credit_code: str | None = None,
    region_names: Sequence[str] = (),
    limit: int = 10,
    min_score: float = 0.5,
) -> list[NameMatch]:
    """The candidates ``query`` most likely names, best first.

    Parameters
    ----------
    query : str
        A name as a person gave it.
    candidates : sequence of NameCandidate
        The nodes of the scope (a town or a county: up to a few thousand).
    label : str, optional
        Only candidates of this label are scored. It also decides the suffixes stripped
        from ``query``; without it, ``query`` is split as each candidate's label splits names.
    credit_code : str, optional
        The unified social credit code given with ``query``.
    region_names : sequence of str, optional
        Region names dropped from the start of every name (see :func:`name_form`).
    limit : int, optional
        At most this many matches.
    min_score : float, optional
        Matches scoring less are left out.

    Returns
    -------
    list of NameMatch
        Best score first; among equal scores an equal credit code first, then by candidate
        id. Each candidate is scored on its best name or alias.

    Notes
    -----
    The score of two names, on their forms (:func:`name_form`), is

    - 1.0 when the normalised names are equal (``名称相同``);
    - 0.95 when the cores are equal (``去掉后缀后相同（公司 / 有限公司）``);
    - 0.85 when one core, of at least 2 characters, ends the other after a place name
      ending in a village or region suffix (``林庄`` and ``许铺社区林庄``);
    - otherwise the Indel similarity of the cores, ``2·LCS / (len a + len b)``
      (``rapidfuzz.fuzz.ratio``), capped at 0.9 (``核心名称相似度 0.67``). Indel rather than
      Levenshtein: a character left out or added, the usual variation of Chinese names
      (``台头`` / ``台头崖``, ``森力啤酒`` / ``森力啤酒饮料``), costs less (0.8 against 0.67),
      while a substituted character (``王果铺`` / ``王杲铺``) costs the same (0.67);

    times 0.6 when both names have suffixes of different families (``后缀不同类``: 某某村 /
    某某有限公司 score 0.57). When ``credit_code`` and the candidate's code are both valid,
    equal codes score 1.0 whatever the names (``统一社会信用代码相同``) and different ones
    halve the score (``统一社会信用代码不同``).

    Candidates are shortlisted first: ``rapidfuzz.process.extract`` over the precomputed
    cores finds those similar enough to reach ``min_score``; equal cores, contained cores
    and equal credit codes are found by a scan of the cached forms. Only the shortlist is
    explained.

    Examples
    --------
    >>> towns = [NameCandidate("t1", "王杲铺镇", "Region"), NameCandidate("t2", "恩城镇", "Region")]
    >>> [(m.candidate.name, m.score) for m in rank_names("王果铺镇", towns, label="Region")]
    [('王杲铺镇', 0.6667)]
    """
    if limit <= 0:
        return []
    regions = _region_key(region_names)
    query_code = _credit_key(credit_code)
    by_label: dict[str, list[NameCandidate]] = defaultdict(list)
    for candidate in candidates:
        if label is None or candidate.label == label:
            by_label[candidate.label].append(candidate)
    cutoff = min(max(0.0, min_score - 0.00005), 1.0) * 100.0
    matches: list[NameMatch] = []
    for candidate_label, group in by_label.items():
        region = candidate_label == _REGION_LABEL
        query_form = _form(query, regions, region)
        owners: list[int] = []
        forms: list[NameForm] = []
        for index, candidate in enumerate(group):
            for name in _names(candidate):
                owners.append(index)
                forms.append(_form(name, regions, region))
        shortlist: set[int] = set()
        if query_code is not None:
            shortlist.update(
                index
                for index, candidate in enumerate(group)
                if _credit_key(candidate.credit_code) == query_code
            )
        if query_form.text:
            hits = process.extract(
                query_form.core,
                [form.core for form in forms],
                scorer=fuzz.ratio,
                limit=None,
                score_cutoff=cutoff,
            )
            shortlist.update(owners[position] for _, _, position in hits)
            core = query_form.core
            shortlist.update(
                owners[position]
                for position, form in enumerate(forms)
                if form.core == core
                or (form.core[-1:] == core[-1:] and _is_contained(core, form.core))
            )
        for index in shortlist:
            candidate = group[index]
            matched, comparison = _best((query_form,), candidate, regions)
            if label is not None:
                comparison.features["label_agrees"] = True
            credit = _credit_agrees(query_code, _credit_key(candidate.credit_code))
            match = _finish(candidate, matched, comparison, credit)
            if match.score >= min_score:
                matches.append(match)
    matches.sort(
        key=lambda match: (
            -match.score,
            match.features.get("credit_code") is not True,
            match.candidate.id,
        )
    )
    return matches[:limit]


def _pairs_by_similarity(cores: list[str], cutoff: float) -> Iterable[tuple[int, int]]:
    """Positions ``i < j`` of cores whose Indel similarity (0..100) is at least ``cutoff``."""
    for start in range(0, len(cores), _CDIST_ROWS):
        scores = process.cdist(
            cores[start : start + _CDIST_ROWS],
            cores,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            workers=1,
        )
        rows, columns = np.nonzero(scores)
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            if start + row < column:
                yield start + row, column


def _pairs_by_core(cores: list[str]) -> Iterable[tuple[int, int]]:
    """Positions of equal cores, and of cores one of which ends the other (see
    :func:`_is_contained`)."""
    positions: dict[str, list[int]] = defaultdict(list)
    for position, core in enumerate(cores):
        positions[core].append(position)
    for same in positions.values():
        for i, first in enumerate(same):
            for second in same[i + 1 :]:
                yield first, second
    for position, core in enumerate(cores):
        for start in range(1, len(core) - 1):
            tail = core[start:]
            for other in positions.get(tail, ()):
                if _is_contained(tail, core):
                    yield position, other


def _candidate_pairs(
    group: Sequence[NameCandidate], owners: list[int], cores: list[str], threshold: float
) -> set[tuple[int, int]]:
    """Indices ``i < j`` into ``group`` of the nodes worth scoring as duplicates: similar
    cores (when similarity alone can reach ``threshold``), equal or contained cores, equal
    valid credit codes. ``owners[k]`` is the node of ``cores[k]``."""
    positions: list[tuple[int, int]] = []
    if threshold <= SIMILARITY_CAP:
        positions.extend(_pairs_by_similarity(cores, max(threshold - 0.00005, 0.0) * 100.0))
    positions.extend(_pairs_by_core(cores))
    pairs = {
        (min(owners[i], owners[j]), max(owners[i], owners[j]))
        for i, j in positions
        if owners[i] != owners[j]
    }
    by_code: dict[str, list[int]] = defaultdict(list)
    for index, candidate in enumerate(group):
        code = _credit_key(candidate.credit_code)
        if code is not None:
            by_code[code].append(index)
    for same in by_code.values():
        pairs.update((first, second) for i, first in enumerate(same) for second in same[i + 1 :])
    return pairs


def duplicate_pairs(
    candidates: Sequence[NameCandidate], *, threshold: float = 0.85, limit: int = 1000
) -> list[tuple[NameCandidate, NameCandidate, NameMatch]]:
    """Likely duplicates within one list of nodes (a region's).

    Parameters
    ----------
    candidates : sequence of NameCandidate
        The nodes.
    threshold : float, optional
        Pairs scoring less (the rule of :func:`rank_names`, the first node's name as the
        query, over every name and alias of both) are left out.
    limit : int, optional
        At most this many pairs.

    Returns
    -------
    list of (NameCandidate, NameCandidate, NameMatch)
        ``(a, b, match)`` with ``a.id < b.id``, ``match.candidate`` being ``b``; best score
        first, then by ids. Only nodes of one label are paired. Never paired: a node with
        itself (same id); two ``Region`` or two ``Village`` nodes with different region codes
        (different places of one name); two nodes with different valid credit codes.

    Notes
    -----
    Pairs are found per label by ``rapidfuzz.process.cdist`` over the cores (in blocks of
    rows, ``workers=1``; fine for up to about 20 000 names a label), by equal cores and by
    cores ending others, and by equal credit codes; then scored exactly.
    """
    if limit <= 0:
        return []
    by_label: dict[str, list[NameCandidate]] = defaultdict(list)
    for candidate in candidates:
        by_label[candidate.label].append(candidate)
    found: list[tuple[NameCandidate, NameCandidate, NameMatch]] = []
    for label, group in by_label.items():
        region = label == _REGION_LABEL
        owners: list[int] = []
        cores: list[str] = []
        for index, candidate in enumerate(group):
            for name in _names(candidate):
                form = _form(name, (), region)
                if form.text:
                    owners.append(index)
                    cores.append(form.core)
        pairs = _candidate_pairs(group, owners, cores, threshold)
        for i, j in pairs:
            a, b = sorted((group[i], group[j]), key=lambda candidate: candidate.id)
            if a.id == b.id:
                continue
            both_coded = a.region_code is not None and b.region_code is not None
            if both_coded and label in _PLACE_LABELS and a.region_code != b.region_code:
                continue
            credit = _credit_agrees(_credit_key(a.credit_code), _credit_key(b.credit_code))
            if credit is False:
                continue
            query_forms = [_form(name, (), region) for name in _names(a)]
            matched, comparison = _best(query_forms, b, ())
            comparison.features["label_agrees"] = True
            if a.region_code is not None and b.region_code is not None:
                comparison.features["region_code_agrees"] = a.region_code == b.region_code
            match = _finish(b, matched, comparison, credit)
            if match.score >= threshold:
                found.append((a, b, match))
    found.sort(key=lambda pair: (-pair[2].score, pair[0].id, pair[1].id))
    return found[:limit]

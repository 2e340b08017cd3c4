"""Name resolution (graph_service.names): normalised forms, suffix families, credit codes,
ranking a name against a region's nodes and finding duplicates among them."""

from __future__ import annotations

import csv
import functools
import time
from pathlib import Path

import pytest

from graph_service.names import (
    NameCandidate,
    NameForm,
    credit_code_valid,
    duplicate_pairs,
    name_form,
    normalise,
    rank_names,
)

REGISTER = Path(__file__).resolve().parent.parent / "seed" / "register"
PINGYUAN = "371426"  # 平原县

# 91350100M000100Y43 — values (0-9 as digits, M=21, Y=30) × weights 3^(i-1) mod 31:
#   9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + 21·20 + 0·29 + 0·25 + 0·13
#   + 1·8 + 0·24 + 0·10 + 30·30 + 4·28
#   = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640;
#   1640 mod 31 = 1640 − 52·31 = 28; check = 31 − 28 = 3 → "3".
VALID_CODE = "91350100M000100Y43"
# 91371426MA3C00000? — M=21, A=10, C=12:
#   9·1 + 1·3 + 3·9 + 7·27 + 1·19 + 4·26 + 2·16 + 6·17 + 21·20 + 10·29 + 3·25 + 12·13
#   = 9 + 3 + 27 + 189 + 19 + 104 + 32 + 102 + 420 + 290 + 75 + 156 = 1426;
#   1426 mod 31 = 1426 − 46·31 = 0; check = 31 − 0 = 31, written "0".
VALID_CODE_ZERO = "91371426MA3C000000"
# 12371400004000000? — 1·1 + 2·3 + 3·9 + 7·27 + 1·19 + 4·26 + 4·25
#   = 1 + 6 + 27 + 189 + 19 + 104 + 100 = 446; 446 mod 31 = 446 − 14·31 = 12;
#   check = 31 − 12 = 19 → "K" (A=10 … H=17, J=18, K=19; no I).
VALID_CODE_LETTER = "12371400004000000K"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@functools.cache
def register_rows(file: str) -> tuple[dict[str, str], ...]:
    with (REGISTER / file).open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def pingyuan_towns() -> list[NameCandidate]:
    return [
        NameCandidate(row["code"], row["name"], "Region", region_code=row["code"])
        for row in register_rows("streets.csv")
        if row["areaCode"] == PINGYUAN
    ]


def villages(area_code: str | None) -> list[NameCandidate]:
    return [
        NameCandidate(row["code"], row["name"], "Village", region_code=row["code"])
        for row in register_rows("villages.csv")
        if area_code is None or row["areaCode"] == area_code
    ]


# --- normalise ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full width → half width, lower case
        ("臺頭村", "台头村"),  # traditional → simplified
        ("森力啤酒·饮料（有限）公司", "森力啤酒饮料有限公司"),  # brackets go, content stays
        (" 许铺 社区\u3000林庄 ", "许铺社区林庄"),  # spaces, ideographic space
        ("【平原县】恩城镇—西街、东街", "平原县恩城镇西街东街"),
        ("林\u200b庄", "林庄"),  # zero-width space
        ("A&B+C (2)", "abc2"),  # symbols and ASCII punctuation
        ("第〇组", "第〇组"),  # 〇 is a number (Nl): kept
        ("（）·、", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


# --- name_form -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # nested suffixes: only the outer one goes
        (
            "许铺社区林庄村民委员会",
            NameForm("许铺社区林庄村民委员会", "许铺社区林庄", "village", "村民委员会"),
        ),
        ("许铺社区居民委员会", NameForm("许铺社区居民委员会", "许铺", "village", "社区居民委员会")),
        ("台头村委会", NameForm("台头村委会", "台头", "village", "村委会")),
        ("台头村", NameForm("台头村", "台头", "village", "村")),
        (
            "森力啤酒饮料有限公司",
            NameForm("森力啤酒饮料有限公司", "森力啤酒饮料", "company", "有限公司"),
        ),
        (
            "某某集团股份有限公司",
            NameForm("某某集团股份有限公司", "某某", "company", "集团股份有限公司"),
        ),
        (
            "桃园农民专业合作社",
            NameForm("桃园农民专业合作社", "桃园", "cooperative", "农民专业合作社"),
        ),
        (
            "平原县啤酒产业链联合党委",
            NameForm("平原县啤酒产业链联合党委", "平原县啤酒", "joint_body", "产业链联合党委"),
        ),
        ("恩城镇联合党支部", NameForm("恩城镇联合党支部", "恩城镇", "joint_body", "联合党支部")),
        ("某某村党支部", NameForm("某某村党支部", "某某村", "party", "党支部")),
        (
            "平原县农村商业银行",
            NameForm("平原县农村商业银行", "平原县", "institution", "农村商业银行"),
        ),
        ("无后缀名", NameForm("无后缀名", "无后缀名", None, "")),
        # a suffix that is the whole name is not stripped: the core is never empty
        ("村委会", NameForm("村委会", "村委会", None, "")),
        ("臺頭村（二組）", NameForm("台头村二组", "台头村二组", None, "")),
    ],
)
def test_name_form_families(name: str, expected: NameForm) -> None:
    assert name_form(name) == expected


def test_name_form_region_label_strips_region_suffixes() -> None:
    assert name_form("王杲铺镇", label="Region") == NameForm("王杲铺镇", "王杲铺", "region", "镇")
    assert name_form("龙门街道", label="Region") == NameForm("龙门街道", "龙门", "region", "街道")
    assert name_form("三唐乡", label="Region").core == "三唐"
    assert name_form("平原县", label="Region") == NameForm("平原县", "平原", "region", "县")
    # without the label, 镇 and 街道 are no organisation suffix
    assert name_form("龙门街道") == NameForm("龙门街道", "龙门街道", None, "")
    # and with it, organisation suffixes are not stripped
    assert name_form("台头村", label="Region").core == "台头村"


def test_name_form_region_prefix() -> None:
    form = name_form("平原县森力啤酒有限公司", ["平原县"])
    assert form == NameForm("平原县森力啤酒有限公司", "森力啤酒", "company", "有限公司")
    # repeatedly, in any order given; region names are normalised (平原縣 is 平原县)
    assert name_form("山东省平原县森力啤酒有限公司", ["平原縣", "山东省"]).core == "森力啤酒"
    # as given: 平原 without 县 is not dropped unless given
    assert name_form("平原森力啤酒有限公司", ["平原县"]).core == "平原森力啤酒"
    assert name_form("平原森力啤酒有限公司", ["平原县", "平原"]).core == "森力啤酒"
    # never the whole core
    assert name_form("平原县有限公司", ["平原县"]).core == "平原县"
    assert name_form("平原县恩城镇", ["平原县"], label="Region").core == "恩城"


# --- credit codes --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [VALID_CODE, VALID_CODE_ZERO, VALID_CODE_LETTER])
def test_credit_code_valid(code: str) -> None:
    assert credit_code_valid(code)


def test_credit_code_forms_accepted() -> None:
    assert credit_code_valid(VALID_CODE.lower())
    assert credit_code_valid(f"  {VALID_CODE}\u200b ")
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in VALID_CODE)  # ９１３５…
    assert credit_code_valid(full_width)


@pytest.mark.parametrize("code", [VALID_CODE, VALID_CODE_ZERO, VALID_CODE_LETTER])
def test_credit_code_every_single_substitution_fails(code: str) -> None:
    # 31 is prime and no weight is 0 mod 31: any one changed character changes the sum mod 31.
    for position in range(18):
        for replacement in ALPHABET:
            if replacement != code[position]:
                corrupted = code[:position] + replacement + code[position + 1 :]
                assert not credit_code_valid(corrupted), corrupted


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91371426MA3C000001",
        "12371400004000000J",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y430",  # 19 characters
        "91350100I000100Y43",  # I, O, Z, S, V are not in the alphabet
        "91350100O000100Y43",
        "91350100Z000100Y43",
        "91350100S000100Y43",
        "91350100V000100Y43",
        "9135 0100M000100Y43",
        "",
    ],
)
def test_credit_code_invalid(code: str) -> None:
    assert not credit_code_valid(code)


# --- rank_names: the required examples -------------------------------------------------


def test_rank_town_typo_among_pingyuan_towns() -> None:
    towns = pingyuan_towns()
    names = {town.name for town in towns}
    assert {"王杲铺镇", "王凤楼镇", "恩城镇", "龙门街道"} <= names
    matches = rank_names("王果铺镇", towns, label="Region")
    assert [match.candidate.name for match in matches] == ["王杲铺镇"]
    best = matches[0]
    # cores 王果铺 / 王杲铺: LCS 2, Indel similarity 2·2/(3+3) = 0.6667
    assert best.score == 0.6667
    assert best.features["core_similarity"] == 0.6667
    assert best.features["suffix_family_agrees"] is True
    assert best.explanation == ["核心名称相似度 0.67"]


def test_rank_company_without_limited() -> None:
    # the three breweries of 恩城镇 (seed/curated/000_pingyuan.json)
    candidates = [
        NameCandidate("e1", "森力啤酒饮料有限公司", "Enterprise"),
        NameCandidate("e2", "雪帝啤酒有限公司", "Enterprise"),
        NameCandidate("e3", "汉德酒业有限公司", "Enterprise"),
    ]
    matches = rank_names("森力啤酒饮料公司", candidates, label="Enterprise")
    assert matches[0].candidate.id == "e1"
    assert matches[0].score >= 0.9
    assert matches[0].score == 0.95
    assert matches[0].features["same_core"] is True
    assert matches[0].explanation == ["去掉后缀后相同（公司 / 有限公司）"]
    # 雪帝啤酒 / 森力啤酒饮料: LCS 啤酒 = 2, 2·2/(4+6) = 0.4 < 0.5
    assert [match.candidate.id for match in matches] == ["e1"]


@pytest.mark.parametrize("query", ["林庄", "林庄村", "林莊村"])
def test_rank_natural_village_within_community(query: str) -> None:
    candidates = villages(PINGYUAN)
    assert len(candidates) == 436
    matches = rank_names(query, candidates, label="Village")
    best = matches[0]
    assert best.candidate.name == "许铺社区林庄村民委员会"
    assert best.score == 0.85
    assert best.features["contained"] is True
    assert best.explanation[0] == "“林庄”是“许铺社区林庄”的末尾部分"
    assert all(match.score < best.score for match in matches[1:])


def test_rank_traditional_query() -> None:
    candidates = villages("370302")
    matches = rank_names("臺頭村", candidates)
    assert matches[0].candidate.name == "台头村委会"
    assert matches[0].score == 0.95
    assert matches[0].explanation == ["去掉后缀后相同（村 / 村委会）"]
    # 台头 / 台头崖: 2·2/(2+3) = 0.8
    assert matches[1].candidate.name == "台头崖村委会"
    assert matches[1].score == 0.8


def test_rank_full_width_query() -> None:
    candidates = [NameCandidate("e1", "ABC公司", "Enterprise")]
    matches = rank_names("ＡＢＣ有限公司", candidates)
    assert [(m.candidate.id, m.score) for m in matches] == [("e1", 0.95)]
    assert rank_names("ａｂｃ公司", candidates)[0].explanation == ["名称相同"]


def test_rank_other_family_scores_lower() -> None:
    candidates = [
        NameCandidate("a", "桃园有限公司", "Enterprise"),
        NameCandidate("b", "桃园村", "Village"),
    ]
    matches = rank_names("桃园村委会", candidates)
    assert [(m.candidate.id, m.score) for m in matches] == [("b", 0.95), ("a", 0.57)]
    other = matches[1]
    assert other.features["same_core"] is True
    assert other.features["suffix_family_agrees"] is False
    assert other.features["query_family"] == "village"
    assert other.features["candidate_family"] == "company"
    # 0.95 × 0.6 = 0.57
    assert other.explanation == [
        "去掉后缀后相同（村委会 / 有限公司）",
        "后缀不同类（村委会 / 有限公司）",
    ]


# --- rank_names: ordering, limits, filters ---------------------------------------------


def test_rank_order_limit_min_score() -> None:
    towns = pingyuan_towns()
    # 王庙 against 王凤楼, 王杲铺, 王打卦: LCS 王 = 1, 2·1/(2+3) = 0.4; the others share nothing
    matches = rank_names("王庙镇", towns, label="Region", min_score=0.3)
    assert [(m.candidate.name, m.score) for m in matches] == [
        ("王庙镇", 1.0),
        ("王凤楼镇", 0.4),  # ties by id: 371426101 < 371426105 < 371426108
        ("王杲铺镇", 0.4),
        ("王打卦镇", 0.4),
    ]
    assert [
        m.candidate.name
        for m in rank_names("王庙镇", towns, label="Region", limit=2, min_score=0.3)
    ] == [
        "王庙镇",
        "王凤楼镇",
    ]
    assert [m.candidate.name for m in rank_names("王庙镇", towns, label="Region")] == ["王庙镇"]
    assert rank_names("王庙镇", towns, label="Region", limit=0) == []
    assert rank_names("王庙镇", towns, label="Region", min_score=1.01) == []


def test_rank_label_filter() -> None:
    candidates = [
        NameCandidate("x1", "恩城镇", "Region"),
        NameCandidate("x2", "恩城", "Enterprise"),
        NameCandidate("x3", "恩城村", "Village"),
    ]
    assert [m.candidate.id for m in rank_names("恩城镇", candidates, label="Village")] == ["x3"]
    assert [m.candidate.id for m in rank_names("恩城镇", candidates, label="Region")] == ["x1"]
    assert rank_names("恩城镇", candidates, label="Institution") == []
    assert rank_names("恩城镇", candidates, label="Region")[0].features["label_agrees"] is True
    # without a label, the query is split as each candidate's label splits names
    everyone = rank_names("恩城镇", candidates)
    # 恩城镇 has no organisation suffix: core 恩城镇 against 恩城, 2·2/(3+2) = 0.8
    assert [(m.candidate.id, m.score) for m in everyone] == [("x1", 1.0), ("x2", 0.8), ("x3", 0.8)]
    assert "label_agrees" not in everyone[0].features


def test_rank_alias() -> None:
    bank = NameCandidate(
        "i1", "平原县农村商业银行股份有限公司", "Institution", aliases=("平原农商银行",)
    )
    other = NameCandidate("i2", "平原县农业农村局", "Institution")
    matches = rank_names("平原农商银行", [bank, other])
    assert matches[0].candidate is bank
    assert matches[0].score == 1.0
    assert matches[0].matched == "平原农商银行"
    assert matches[0].features["alias"] is True
    assert matches[0].explanation == ["按别名“平原农商银行”匹配", "名称相同"]
    by_name = rank_names("平原县农村商业银行股份有限公司", [bank])[0]
    assert by_name.matched == bank.name
    assert by_name.features["alias"] is False


def test_rank_region_names_prefix() -> None:
    candidates = [NameCandidate("e1", "森力啤酒饮料有限公司", "Enterprise")]
    same_suffix = rank_names("平原县森力啤酒饮料有限公司", candidates, region_names=["平原县"])
    assert [(m.score, m.explanation) for m in same_suffix] == [(0.95, ["去掉地名后相同"])]
    other_suffix = rank_names("平原县森力啤酒饮料公司", candidates, region_names=["平原县"])
    assert other_suffix[0].explanation == ["去掉地名和后缀后相同（公司 / 有限公司）"]
    # without region names the core 森力啤酒饮料 ends 平原县森力啤酒饮料 after a place (县)
    contained = rank_names("平原县森力啤酒饮料有限公司", candidates)[0]
    assert contained.score == 0.85
    assert contained.explanation == ["“森力啤酒饮料”是“平原县森力啤酒饮料”的末尾部分"]
    # after a head that is no place name (恩城精酿), similarity only: 2·6/(10+6) = 0.75
    assert rank_names("恩城精酿森力啤酒饮料有限公司", candidates)[0].score == 0.75


def test_rank_credit_code_wins() -> None:
    coded = NameCandidate("z9", "恩城酒业", "Enterprise", credit_code=VALID_CODE)
    same_name = NameCandidate("a1", "森力啤酒饮料有限公司", "Enterprise")
    other_code = NameCandidate(
        "a2", "森力啤酒饮料有限公司", "Enterprise", credit_code=VALID_CODE_LETTER
    )
    broken_code = NameCandidate("a3", "雪帝啤酒", "Enterprise", credit_code="91350100M000100Y44")
    matches = rank_names(
        "森力啤酒饮料有限公司",
        [same_name, other_code, coded, broken_code],
        credit_code=VALID_CODE.lower(),
    )
    assert [(m.candidate.id, m.score) for m in matches] == [("z9", 1.0), ("a1", 1.0), ("a2", 0.5)]
    assert matches[0].features["credit_code"] is True
    assert matches[0].explanation[0] == "统一社会信用代码相同"
    assert "credit_code" not in matches[1].features  # a1 has no code
    assert matches[2].features["credit_code"] is False
    assert matches[2].explanation == ["名称相同", "统一社会信用代码不同"]
    # an invalid query code is ignored
    plain = rank_names("森力啤酒饮料有限公司", [coded, same_name], credit_code="913501")
    assert [m.candidate.id for m in plain] == ["a1"]


def test_rank_empty_query() -> None:
    candidates = [NameCandidate("v", "台头村", "Village")]
    assert rank_names("", candidates) == []
    assert rank_names("（）", candidates, min_score=0.0) == []


def test_rank_thousands_of_candidates_fast() -> None:
    candidates = villages(None)
    assert len(candidates) > 5000
    rank_names("林庄村", candidates)  # forms cached
    start = time.perf_counter()
    for query in ["林庄村", "台头村", "王杲铺", "许铺社区", "西关村", "大寨", "光明村委会", "金辉"]:
        assert rank_names(query, candidates, label="Village")
    assert time.perf_counter() - start < 2.0


# --- duplicate_pairs -----------------------------------------------------------------------


def duplicate_fixture() -> list[NameCandidate]:
    return [
        NameCandidate("v1", "台头村委会", "Village", region_code="370302112206"),
        NameCandidate("v2", "台头村", "Village"),
        # same name as v1 but another village code: a different place
        NameCandidate("v3", "台头村民委员会", "Village", region_code="370302104999"),
        NameCandidate("i1", "台头村", "Institution"),  # another label: never paired
        NameCandidate(
            "e1", "森力啤酒饮料有限公司", "Enterprise", region_code="371426", credit_code=VALID_CODE
        ),
        # same core as e1, but another valid credit code
        NameCandidate("e2", "森力啤酒饮料公司", "Enterprise", credit_code=VALID_CODE_LETTER),
        NameCandidate(
            "e3",
            "SL啤酒",
            "Enterprise",
            aliases=("森力啤酒饮料有限责任公司",),
            region_code="371427",
        ),
        # e1's credit code under another name
        NameCandidate("e4", "恩城酒业", "Enterprise", credit_code=VALID_CODE),
        NameCandidate("r1", "王杲铺镇", "Region"),
        NameCandidate("r2", "王杲铺乡", "Region"),
        NameCandidate("r3", "王果铺镇", "Region"),
        NameCandidate("r4", "恩城镇", "Region", region_code="371426103"),
        NameCandidate("r5", "恩城镇", "Region", region_code="371426999"),
    ]


def test_duplicate_pairs() -> None:
    pairs = duplicate_pairs(duplicate_fixture())
    assert [(a.id, b.id, match.score) for a, b, match in pairs] == [
        ("e1", "e4", 1.0),
        ("e1", "e3", 0.95),
        ("e2", "e3", 0.95),
        ("r1", "r2", 0.95),
        ("v1", "v2", 0.95),
        ("v2", "v3", 0.95),
    ]
    e1_e4 = pairs[0][2]
    assert e1_e4.candidate.id == "e4"
    assert e1_e4.explanation[0] == "统一社会信用代码相同"
    e1_e3 = pairs[1][2]
    assert e1_e3.matched == "森力啤酒饮料有限责任公司"
    assert e1_e3.features["alias"] is True
    # other region codes do not keep enterprises apart, but are reported
    assert e1_e3.features["region_code_agrees"] is False
    assert pairs[4][2].explanation == ["去掉后缀后相同（村委会 / 村）"]
    assert "region_code_agrees" not in pairs[4][2].features  # v2 has no code


def test_duplicate_pairs_threshold_and_limit() -> None:
    candidates = duplicate_fixture()
    pairs = duplicate_pairs(candidates, threshold=0.6)
    # 王杲铺 / 王果铺: 0.6667 (r1, r2 against r3)
    assert [(a.id, b.id, match.score) for a, b, match in pairs][-2:] == [
        ("r1", "r3", 0.6667),
        ("r2", "r3", 0.6667),
    ]
    assert len(pairs) == 8
    assert [(a.id, b.id) for a, b, _ in duplicate_pairs(candidates, limit=2)] == [
        ("e1", "e4"),
        ("e1", "e3"),
    ]
    assert duplicate_pairs(candidates, threshold=0.96)[0][2].score == 1.0
    assert len(duplicate_pairs(candidates, threshold=0.96)) == 1
    assert duplicate_pairs(candidates, limit=0) == []


def test_duplicate_pairs_never_self_or_different_places() -> None:
    twice = [
        NameCandidate("a", "恩城镇", "Region", aliases=("恩城",)),
        NameCandidate("a", "恩城镇", "Region"),
        NameCandidate("b", "恩城村", "Village", region_code="1"),
        NameCandidate("c", "恩城村委会", "Village", region_code="2"),
    ]
    assert duplicate_pairs(twice, threshold=0.0) == []


def test_duplicate_pairs_contained_names() -> None:
    candidates = [
        NameCandidate("v1", "许铺社区林庄村民委员会", "Village"),
        NameCandidate("v2", "林庄村", "Village"),
        NameCandidate("v3", "西林庄村", "Village"),  # 西 is no place name: 林庄 / 西林庄 0.8
    ]
    pairs = duplicate_pairs(candidates)
    assert [(a.id, b.id, match.score) for a, b, match in pairs] == [("v1", "v2", 0.85)]
    assert pairs[0][2].features["contained"] is True


def test_duplicate_pairs_whole_register_fast() -> None:
    candidates = [
        NameCandidate(str(index), village.name, "Village")
        for index, village in enumerate(villages(None))
    ]
    start = time.perf_counter()
    pairs = duplicate_pairs(candidates, limit=100_000)
    assert time.perf_counter() - start < 10.0
    assert all(match.score >= 0.85 for _, _, match in pairs)
    assert all(a.id < b.id for a, b, _ in pairs)
    assert len({(a.id, b.id) for a, b, _ in pairs}) == len(pairs)
    # 台头村委会 (370302112206) and 台头崖村委会: 0.8, not a duplicate
    names = {frozenset((a.name, b.name)) for a, b, _ in pairs}
    assert frozenset(("台头村委会", "台头崖村委会")) not in names

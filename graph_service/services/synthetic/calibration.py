"""The generator's calibration: rates and dates taken from the seed articles.

Calibration
-----------
Each line: the figure, its article, the parameter it sets.

- 62 党建联合体 cover 424 administrative villages, 100% (000):
  ``PINGYUAN_BODIES_PER_VILLAGE`` = 62/424; ``PINGYUAN_UNCOVERED_RATE`` = 1% left out.
- 24 brand 联合体 cover 197 key villages (000): ``PINGYUAN_BRAND_SHARE`` = 24/62, brand
  status going to the larger bodies (≈46% of villages become ``key_village``).
- Rules: ≥1 enterprise, ≥10 returned talents a year, ≥1 college graduate, monthly meetings
  (000): ``PINGYUAN_BREACH_RATE`` = 10% of bodies break one of {no enterprise,
  meetings < 12, a single village}; talents < 10 for 5%, no graduate for 4%.
- 流转土地 5000 亩 over 4 villages; 亩均增收 500 元 (000): land on links log-normal around
  800 亩; ``INCOME_PER_MU_YUAN`` = 500.
- 56 党支部领办合作社 and 42 家庭农场 in 19 villages (000); 顺德村 合作社 流转土地近400亩
  (002); 芳草园合作社 村集体增收80多万元 (003): a cooperative in 40% of villages (land
  median 400 亩, revenue median 800,000 元), a family farm in 12%.
- 社区 红色物业 ↔ 村 合作社 (002); 8 村党组织 + 合作社党支部 form a 党建联盟 (003): community ↔
  village ``CO_BUILDS``; cooperatives as members of 联合体 and 产业链党委.
- 58 联建 party organizations link 197 village party organizations (001; the register has
  1,559 villages in 平凉市): ``PINGLIANG_LIANJIAN_PER_VILLAGE`` = 58/1559, 2–6 (mean ≈3.4)
  neighbouring village organizations each.
- 54 产业链党委, 377 subordinate organizations, 926 enterprises (001):
  ``PINGLIANG_CHAINS_PER_VILLAGE`` = 54/1559, ``PINGLIANG_FIRMS_PER_CHAIN`` = 926/54,
  ``PINGLIANG_PARTY_ORG_SHARE`` = 377/926 of chain firms with a party organization.
- Banks paired with 362 enterprise party organizations (001): ``PINGLIANG_BANK_PAIRING`` =
  362/377.
- 167 enterprises help 167 villages, 350万元 invested (001): ``PINGLIANG_BAIQI_PER_VILLAGE`` =
  167/1559, one village per enterprise, ``BAIQI_INVESTMENT_PER_PAIR_YUAN`` ≈ 21,000 元.
- 联建村集体经济收入村均 22.8万元 (001): ``MEDIAN_COLLECTIVE_INCOME_YUAN`` = 228,000;
  ``WEAK_INCOME_YUAN`` = 100,000 makes ≈18% of villages weak.
- 500 workers, 人均增收 1.5万元; 9.47万 employees in 926 firms (001): ``jobs`` on links
  log-normal around 30; chain firms ≈100 employees on average.
- 甘肃省科学院 sends 8 cadres to 4 villages (001): institute dispatches carry 1–3 people.
- 273 villages surveyed, 5 产业联合党委 (004): ``KAIYUAN_BODIES_PER_VILLAGE`` = 5/273.
- 红星贷: 2.05亿元 to 48 firms, single loans of 800万 and 430万 (004): company loans
  log-normal around 3,000,000 元.

About 8% of memberships end (``valid_to``); in 平原-profile counties a village whose
membership ends moves to another 联合体 of its town the next day, so coverage stays full while
as-of queries see the change.

"""

from __future__ import annotations

import datetime as dt
from typing import Final

from graph_service.domain import WEAK_INCOME_YUAN

__all__ = [
    "GENERATOR_VERSION",
    "KAIYUAN_BODIES_PER_VILLAGE",
    "MEDIAN_COLLECTIVE_INCOME_YUAN",
    "PINGLIANG_BAIQI_PER_VILLAGE",
    "PINGLIANG_CHAINS_PER_VILLAGE",
    "PINGLIANG_LIANJIAN_PER_VILLAGE",
    "PINGYUAN_BODIES_PER_VILLAGE",
    "PINGYUAN_BRAND_SHARE",
    "PROFILES",
    "PROFILE_WEIGHTS",
    "WEAK_INCOME_YUAN",
]

#: Part of every county's random stream key and of the generated source: a new version
#: draws different networks.
GENERATOR_VERSION: Final = "1"

#: County profiles and how often each is drawn.
PROFILES: Final[tuple[str, ...]] = ("pingyuan", "pingliang", "kaiyuan")
PROFILE_WEIGHTS: Final[tuple[float, ...]] = (0.35, 0.45, 0.20)
PROFILE_CUMULATIVE: Final = tuple(
    sum(PROFILE_WEIGHTS[: i + 1]) for i in range(len(PROFILE_WEIGHTS))
)

MEDIAN_COLLECTIVE_INCOME_YUAN: Final = 228_000.0
#: Standard deviations of the county, town and village effects on ln(collective income).
SIGMA_COUNTY, SIGMA_TOWN, SIGMA_VILLAGE = 0.2, 0.15, 0.85

PINGYUAN_BODIES_PER_VILLAGE: Final = 62 / 424
PINGYUAN_BRAND_SHARE: Final = 24 / 62
PINGYUAN_UNCOVERED_RATE: Final = 0.01
PINGYUAN_BREACH_RATE: Final = 0.10

PINGLIANG_LIANJIAN_PER_VILLAGE: Final = 58 / 1559
PINGLIANG_CHAINS_PER_VILLAGE: Final = 54 / 1559
PINGLIANG_FIRMS_PER_CHAIN: Final = 926 / 54
PINGLIANG_PARTY_ORG_SHARE: Final = 377 / 926
PINGLIANG_BANK_PAIRING: Final = 362 / 377
PINGLIANG_BAIQI_PER_VILLAGE: Final = 167 / 1559
BAIQI_INVESTMENT_PER_PAIR_YUAN: Final = 3_500_000 / 167

KAIYUAN_BODIES_PER_VILLAGE: Final = 5 / 273

#: Chance that an eligible membership ends (leads and sole enterprises never do): ≈8% of all.
MEMBERSHIP_END_RATE: Final = 0.11
INCOME_PER_MU_YUAN: Final = 500.0

#: Dates span the seed articles: bodies founded 2018–2023, nothing after the horizon.
FIRST_DAY: Final = dt.date(2018, 1, 1).toordinal()
LAST_FOUNDING: Final = dt.date(2023, 6, 30).toordinal()
HORIZON: Final = dt.date(2024, 6, 30).toordinal()

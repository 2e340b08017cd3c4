"""A calibrated, deterministic generator of synthetic 党建联建 networks.

Given the Region and Village documents of a scope (as :mod:`graph_service.register` builds
them), :func:`~graph_service.services.synthetic.network.generate_network` yields
``("node", doc)`` and ``("link", doc)`` documents that populate it with party organizations,
enterprises, cooperatives, institutions, joint bodies (联建组织) and the links between them,
at rates taken from the five seed articles;
:func:`~graph_service.services.synthetic.into_store.generate_into` writes them into a store.

Modules
-------
``network``       :func:`generate_network` and :func:`county_profile`: the order of
                  the documents, the national preamble, city institutions, one county
                  after another
``county``        the county's records (towns, villages, firms) and :class:`CountyBuilder`,
                  its random stream and the helpers every step shares
``units``         steps 2–5: industries, villages, party hierarchy, institutions, firms,
                  cooperatives; the enriched village copies
``joint_bodies``  step 6: the joint bodies of the three county profiles
``links``         step 7: co-building, 以强带弱 pairings, dispatches, finance
``calibration``   the rates taken from the seed articles, and their sources
``vocabulary``    industries, province groups and the words names are made of
``draws``         random draws built on ``Random.random()`` only
``names``         short forms of region and village names
``documents``     node and link documents of one block, their ids and the generated source
``into_store``    :func:`generate_into`: generate a scope's network into a store in batches

Model
-----
The unit of generation is the **county** (villages grouped by ``region_code[:6]``, towns by
``[:9]``). Each county draws everything from its own random stream, seeded by a BLAKE2b
digest of ``(GENERATOR_VERSION, seed, county code)``; cities have their own stream for the few
city-level institutions. Generating one county alone therefore yields exactly the documents
that county contributes to a province or national run. Only ``Random.random()`` is used (all
other draws are built on it here), so the output does not depend on the Python version's
implementation of ``choice``/``gauss``/``sample``, nor on ``PYTHONHASHSEED``.

Per county, in order:

1. **Profile.** One of three calibrated county profiles (:data:`PROFILES`, weights
   :data:`PROFILE_WEIGHTS`): ``pingyuan`` (平原县, 000: 党建联合体 covering every village),
   ``pingliang`` (平凉市, 001: small 联建 party organizations, 产业链党委, 百企帮百村) or
   ``kaiyuan`` (开原市, 004: a few large 产业联合党委).
2. **Industries.** 2–4 leading industries from a national list (:data:`INDUSTRIES`, weighted
   by province group: tea and rice in the south, apples in the north-west, hazelnuts in the
   north-east …); each town has a main industry, each village an industry (its town's with
   probability 0.6).
3. **Villages.** Collective income is log-normal around the 平凉 village average
   (村均22.8万元): ``ln income = ln 228000 + 0.2·county + 0.15·town + 0.85·village`` with
   standard normal effects, so neighbouring villages are alike and the national median stays
   at 228,000 元. A village is **weak** (薄弱村) when its income is below 100,000 元 (about
   18% of villages). Population, households, party members and land are drawn around
   typical figures (行政村 median 1,400 people, 社区 4,000).
4. **Party hierarchy.** County committee (党委) → town committees (党委, 街道 党工委) → one
   party organization per village (党支部; 党总支/党委 for villages with many members), with
   ``ORGANIZATION_OF``, ``SUBORDINATE_TO`` and ``IN_REGION``.
5. **Institutions and firms.** County departments (组织部, 农业农村局 …, 政府部门), a rural
   commercial bank (金融机构), companies (公司/集团), village-led cooperatives
   (``LEADS_COOPERATIVE``), family farms, town 强村富民公司; ``SUPPLIES`` (order farming)
   from cooperatives, farms and villages to companies of the same industry; ``FINANCES``
   from the bank.
6. **Joint bodies** of the county's profile (see the calibration table), with
   ``MEMBER_OF`` links carrying role (exactly one ``lead`` per body), dates, agreements,
   meetings, resources and outcomes — each attribute present with a probability, so the
   strength of links varies and some are unknown.
7. **Other 联建 links.** ``CO_BUILDS`` between neighbouring village organizations of a town
   (毗邻协作), community ↔ village (社区共建) and company ↔ village (村企共建);
   ``PAIRS_WITH`` strong village → weak village (以强带弱); ``DISPATCHES`` of 第一书记 and
   驻村干部 to weak villages, and of experts from city institutes.

Pairings (以强带弱 and 百企帮百村) come from a **latent preference**, never from graph
structure (no common neighbours, no Adamic–Adar). The helper of weak village ``w`` is the
candidate ``h`` with the highest ::

    1.0·[same industry] + t·[same town] + s·ln(strength_h / ref) − 0.5·load_h + 0.7·G

where ``G`` is standard Gumbel noise. For 以强带弱 the candidates are the county's villages in
the top income quintile (``strength`` = collective income, ``ref`` = the quintile threshold,
``s`` = 0.6, ``t`` = 1.5, a helper takes at most two villages); for 百企帮百村 they are the
county's companies (``strength`` = annual revenue, ``ref`` = 20,000,000 元, ``s`` = 0.5,
``t`` = 0.8, one village per company, no load term). The same preference (without load)
picks the companies that join a 联合体 and the buyers of ``SUPPLIES``. A recommender
evaluated on held-out pairings is therefore not graded against its own formula.


References
----------
The seed articles (``seed/documents``, curated in ``seed/curated``):

- 000 大众日报, “平原红” 铺就高质量发展底色 (平原县).
- 001 中国甘肃网/平凉市融媒体中心, 党建联建聚合力 以“联”共赢促发展——平凉市以党建联建助力
  高质量发展 (2023-10-25).
- 002 鲁中晨报, 高青县唐坊镇: 红色引领聚力 绿色发展领航.
- 003 鲁中晨报, “红色硒谷”党建联盟点燃乡村振兴新引擎 (淄川区龙泉镇).
- 004 产业联合党委凝聚合力 推动本土品牌提质增效 (开原市; 红星贷, 沈阳市).
"""

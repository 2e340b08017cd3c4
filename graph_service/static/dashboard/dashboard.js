/* 党建联建知识图谱 · 态势 (the /dashboard page).
 *
 * One answer, GET /v1/dashboard, drawn as headline cards, five ECharts charts (the vendored
 * echarts.min.js, SVG renderer) and three action lists; every chart and row links into the
 * explorer (/explorer#region=…, #node=…, #nodes=…). The page's state is always in the URL hash
 * (#region=…&as_of=…&since=…&measure=…; #view=ID opens a saved view), so any state can be
 * shared. Plain modern JavaScript, no build step, data only ever reaches the page as text.
 * Test hook: window.__dashboard (see the end of the file); performance mark "dashboard-drawn"
 * when the first answer is on screen (bench/dashboard_page.py reads it).
 */
"use strict";

(function () {
  const { $, el, fill, apiKey, rememberKey, rememberedKey, request } = window.graphServiceDom;

  const LEVELS = [
    { level: "省", select: "province" },
    { level: "市", select: "city" },
    { level: "县", select: "county" },
    { level: "乡镇", select: "town" },
  ];
  const REASONS = {
    industry: "产业匹配",
    proximity: "地理邻近",
    capacity: "帮扶余力",
    structural: "网络关联",
    strength: "综合实力",
    priority: "帮扶需求",
    needs: "需求对接",
  };
  const WEAK_REASONS = {
    listed_weak: "列入薄弱村名单",
    low_income: "集体收入低",
    few_links: "联建联系少",
  };
  const SEVERITY = { error: "错误", warning: "警告", info: "提示" };
  const DECISIONS = { accept: "已接受", reject: "已否决" };
  const LABELS_ZH = {
    Region: "区域",
    Village: "村",
    PartyOrganization: "党组织",
    Enterprise: "企业",
    Institution: "机构",
    Industry: "产业",
    Program: "项目",
    Person: "人员",
  };
  const RED = "#b71c1c";
  const NEUTRAL = "#7f8fa6";
  /** #nodes= links carry at most this many ids (the explorer draws at most 50). */
  const FOCUS_MAX = 50;

  const state = {
    config: { measures: {}, link_colours: {}, label_colours: {}, kind_colours: {} },
    provinces: [],
    children: new Map(), // region code → [{code, name, level}]
    params: { region: "", as_of: "", since: "", measure: "pagerank" },
    data: null,
    charts: {}, // name → echarts instance
    options: {}, // name → the option given to setOption
    pending: 0,
    sequence: 0, // the latest dashboard request; older answers are dropped
    loaded: 0, // the sequence whose answer is drawn
    drawnOnce: false,
    decisions: [], // [{village, partner, decision}] made on this page
    views: [],
  };

  // ---------------------------------------------------------------- helpers

  function busy(delta) {
    state.pending += delta;
    document.body.dataset.busy = String(state.pending);
  }

  function api(path, params, options) {
    return request(path, params, { noStore: true, ...(options || {}), busy });
  }

  /** The request prefetch.js started for ``url`` while the chart library loaded, once. */
  function prefetched(url) {
    const early = window.__dashboardPrefetch;
    if (!early || early.url !== url) return null;
    window.__dashboardPrefetch = null;
    return early.response;
  }

  const MAX_RETRIES = 8;

  /** The page's answer; while the server is still computing it (503 with Retry-After: the
   * computation goes on and its result is kept), ask again after the time it names. */
  async function dashboardAnswer(params, sequence) {
    for (let attempt = 0; ; attempt += 1) {
      const result = await api("/v1/dashboard", params, { prefetched });
      if (result.status !== 503 || !result.retryAfter || attempt >= MAX_RETRIES) return result;
      if (sequence !== state.sequence) return result; // a newer request replaces this one
      status(`服务器正在计算本区域的态势,${result.retryAfter} 秒后自动重试…`);
      await new Promise((resolve) => setTimeout(resolve, result.retryAfter * 1000));
    }
  }

  function status(text, isError) {
    const box = $("status");
    box.textContent = text;
    box.classList.toggle("error", Boolean(isError));
  }

  function problemText(result) {
    const body = result.body || {};
    const detail = body.detail || body.title || "";
    return detail ? `${detail}(HTTP ${result.status})` : `HTTP ${result.status}`;
  }

  function formatNumber(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "%") return Number(value).toFixed(1);
    if (Number.isInteger(value)) return value.toLocaleString("zh-CN");
    return String(value);
  }

  function formatScore(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toFixed(3);
  }

  function explorerRegion(code) {
    return `/explorer#region=${encodeURIComponent(code)}`;
  }

  function explorerNode(id) {
    return `/explorer#node=${encodeURIComponent(id)}`;
  }

  function explorerNodes(ids) {
    const unique = [...new Set(ids.filter(Boolean))].slice(0, FOCUS_MAX);
    if (unique.length === 1) return explorerNode(unique[0]);
    return `/explorer#nodes=${unique.map(encodeURIComponent).join(",")}`;
  }

  function explorerLink(href, text, label) {
    return el("a", { href, class: "explorer-link", "aria-label": label || null }, text || "在图谱中查看");
  }

  /** A table: caption, header cells and rows of cells (a cell: text or nodes). */
  function table(caption, headers, rows, attrs) {
    return el(
      "table",
      attrs || null,
      el("caption", { text: caption }),
      el("thead", null, el("tr", null, headers.map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        null,
        rows.map((row) =>
          el(
            "tr",
            row.attrs || null,
            row.cells.map((cell) => el("td", null, cell)),
          ),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- the URL hash

  function readHash() {
    const text = location.hash.replace(/^#/, "");
    const query = new URLSearchParams(text);
    return {
      view: query.get("view") || "",
      region: query.get("region") || "",
      as_of: query.get("as_of") || "",
      since: query.get("since") || "",
      measure: query.get("measure") || "",
    };
  }

  function hashOf(params) {
    const query = new URLSearchParams();
    for (const key of ["region", "as_of", "since", "measure"]) {
      if (params[key]) query.set(key, params[key]);
    }
    return `#${query.toString()}`;
  }

  function writeHash() {
    const hash = hashOf(state.params);
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function queryOf(params) {
    return {
      region: params.region,
      as_of: params.as_of || null,
      since: params.since || null,
      measure: params.measure || null,
    };
  }

  function updateLinks() {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(queryOf(state.params))) {
      if (value) query.set(key, value);
    }
    $("export-xlsx").href = `/v1/dashboard/report.xlsx?${query}`;
    $("explorer-region").href = state.params.region ? explorerRegion(state.params.region) : "/explorer";
  }

  // ---------------------------------------------------------------- region picker

  function optionsOf(select, regions, placeholder) {
    fill(
      select,
      el("option", { value: "", text: placeholder }),
      regions.map((r) => el("option", { value: r.code, text: r.name })),
    );
    select.disabled = regions.length === 0;
  }

  async function childrenOf(code) {
    if (state.children.has(code)) return state.children.get(code);
    const result = await api(`/v1/regions/${encodeURIComponent(code)}`);
    const children = result.ok
      ? (result.body.children || []).map((c) => ({
          code: c.region_code || c.code,
          name: c.name,
          level: c.kind || c.level,
        }))
      : [];
    if (result.ok) state.children.set(code, children);
    return children;
  }

  const PLACEHOLDERS = { province: "请选择省", city: "(全省)", county: "(全市)", town: "(全县)" };

  /** Set the four selects to a region's ancestors and the region itself (its path from the
   * dashboard's answer); the level below lists the region's children, the rest are empty. */
  async function syncPicker(region) {
    const self = { code: region.code, name: region.name, level: region.level };
    const chain = [...(region.path || []), self];
    let parent = null; // the region chosen at the level above
    for (const [index, spec] of LEVELS.entries()) {
      const select = $(spec.select);
      let options = [];
      if (index === 0) options = state.provinces;
      else if (parent && parent.code === region.code) options = region.children || [];
      else if (parent) options = await childrenOf(parent.code);
      optionsOf(select, options, PLACEHOLDERS[spec.select]);
      const node = chain.find((c) => c.level === spec.level);
      if (node && !options.some((o) => o.code === node.code)) {
        select.append(el("option", { value: node.code, text: node.name }));
        select.disabled = false;
      }
      select.value = node ? node.code : "";
      // Below the region's own level only its children are listed; a level the region's
      // path skips (a county straight under its province) keeps the parent.
      if (node) parent = node;
      else if (parent && parent.code === region.code) parent = null;
    }
  }

  async function onPick(event) {
    const select = event.target;
    const index = LEVELS.findIndex((spec) => spec.select === select.id);
    let code = select.value;
    if (!code) {
      // "(全省)" and the like: the level above is the region.
      for (let up = index - 1; up >= 0 && !code; up -= 1) code = $(LEVELS[up].select).value;
    }
    // The levels below are cleared at once: they list the new region's children when drawn.
    for (const spec of LEVELS.slice(index + 1)) optionsOf($(spec.select), [], PLACEHOLDERS[spec.select]);
    if (code && index + 1 < LEVELS.length && select.value) {
      const children = await childrenOf(code);
      optionsOf($(LEVELS[index + 1].select), children, PLACEHOLDERS[LEVELS[index + 1].select]);
    }
    if (code) go({ region: code });
  }

  async function searchRegions() {
    const text = $("region-search").value.trim();
    const list = $("region-results");
    if (!text) {
      list.hidden = true;
      return;
    }
    const result = await api("/v1/search", { q: text, label: "Region", limit: 20 });
    if (!result.ok) {
      fill(list, el("li", { class: "empty", text: `查找失败:${problemText(result)}` }));
      list.hidden = false;
      return;
    }
    const hits = (result.body.items || []).map((h) => h.node).filter((n) => n.region_code);
    if (!hits.length) {
      fill(list, el("li", { class: "empty", text: "没有找到区域" }));
    } else {
      fill(
        list,
        hits.map((node) =>
          el(
            "li",
            null,
            el(
              "button",
              {
                type: "button",
                dataset: { code: node.region_code },
                onclick: () => {
                  list.hidden = true;
                  $("region-search").value = node.name;
                  go({ region: node.region_code });
                },
              },
              `${node.name}`,
              el("span", { class: "meta", text: ` ${node.kind || ""} · ${node.region_code}` }),
            ),
          ),
        ),
      );
    }
    list.hidden = false;
    const first = list.querySelector("button");
    if (first) first.focus();
  }

  // ---------------------------------------------------------------- loading

  /** Change some parameters (region, dates, measure), put them in the hash and load. */
  function go(changes) {
    state.params = { ...state.params, ...changes };
    writeHash();
    return load();
  }

  function readInputs() {
    return {
      as_of: $("as-of").value || "",
      since: $("since").value || "",
      measure: $("measure").value || "pagerank",
    };
  }

  function writeInputs() {
    $("as-of").value = state.params.as_of || "";
    $("since").value = state.params.since || "";
    if (state.params.measure && state.config.measures[state.params.measure]) {
      $("measure").value = state.params.measure;
    }
  }

  async function load() {
    writeHash();
    updateLinks();
    writeInputs();
    const sequence = ++state.sequence;
    if (!state.params.region) {
      $("welcome").hidden = false;
      $("report").hidden = true;
      status("请选择区域。");
      state.loaded = sequence;
      return false;
    }
    status("正在加载…");
    const result = await dashboardAnswer(queryOf(state.params), sequence);
    if (sequence !== state.sequence) return false; // a newer request is on its way
    if (!result.ok) {
      status(`无法加载态势:${problemText(result)}`, true);
      state.loaded = sequence;
      return false;
    }
    state.data = result.body;
    $("welcome").hidden = true;
    $("report").hidden = false;
    draw(result.body);
    if (!state.drawnOnce) {
      state.drawnOnce = true;
      // Measured from the navigation's start: bench/dashboard_page.py reads this mark.
      performance.mark("dashboard-drawn");
    }
    await syncPicker(result.body.region);
    if (sequence !== state.sequence) return false;
    const region = result.body.region;
    const since = result.body.since ? `,对比 ${result.body.since}` : "";
    status(`已加载:${region.name}(${region.code}),截至 ${result.body.as_of}${since}。`);
    state.loaded = sequence;
    return true;
  }

  // ---------------------------------------------------------------- drawing

  function draw(data) {
    const region = data.region;
    const path = (region.path || []).map((p) => p.name).join(" · ");
    $("region-title").textContent = `${path ? `${path} · ` : ""}${region.name}`;
    document.title = `${region.name} · 党建联建态势`;
    $("as-of-note").textContent = data.since
      ? `截至 ${data.as_of},与 ${data.since} 对比`
      : `截至 ${data.as_of}`;
    drawCards(data);
    drawCoverage(data);
    drawLinksByYear(data);
    drawStrength(data);
    drawCentrality(data);
    drawCommunities(data);
    drawWeak(data);
    drawPairings(data);
    drawBreaches(data);
  }

  function changeText(card, since) {
    if (!since || card.previous === null || card.previous === undefined) return "";
    const change = card.change || 0;
    const previous = `${formatNumber(card.previous, card.unit)} ${card.unit}`;
    if (change === 0) return `较 ${since} 持平(原 ${previous})`;
    const arrow = change > 0 ? "↑" : "↓";
    return `较 ${since} ${arrow} ${formatNumber(Math.abs(change), card.unit)} ${card.unit}(原 ${previous})`;
  }

  function drawCards(data) {
    fill(
      $("cards"),
      data.cards.map((card) => {
        const change = changeText(card, data.since);
        const direction = !change ? "none" : card.change > 0 ? "up" : card.change < 0 ? "down" : "flat";
        return el(
          "li",
          { class: "card", dataset: { key: card.key, change: direction } },
          el("span", { class: "card-label", text: card.label }),
          el(
            "span",
            { class: "card-value" },
            el("strong", { text: formatNumber(card.value, card.unit) }),
            el("span", { class: "card-unit", text: ` ${card.unit}` }),
          ),
          el("span", { class: "card-change", text: change || (data.since ? "无对比数据" : "") }),
        );
      }),
    );
  }

  /** An ECharts chart on the element #chart-NAME (made once, SVG renderer, its own aria
   * off: the element carries role=img and our summary instead). */
  function chart(name) {
    if (state.charts[name]) return state.charts[name];
    const instance = echarts.init($(`chart-${name}`), null, { renderer: "svg", locale: "ZH" });
    instance.on("click", (event) => onChartClick(name, event));
    // The live SVG has no viewBox: give it one after each frame, so that the print style
    // sheet can scale a chart to the page's width as drawn (aspect kept).
    instance.on("finished", () => {
      const svg = $(`chart-${name}`).querySelector("svg");
      if (!svg) return;
      const box = `0 0 ${instance.getWidth()} ${instance.getHeight()}`;
      if (svg.getAttribute("viewBox") !== box) svg.setAttribute("viewBox", box);
    });
    state.charts[name] = instance;
    return instance;
  }

  function setChart(name, option, summary, height) {
    const box = $(`chart-${name}`);
    box.setAttribute("aria-label", summary);
    if (height) box.style.height = `${height}px`;
    const instance = chart(name);
    if (height) instance.resize();
    state.options[name] = option;
    instance.setOption({ aria: { enabled: false }, animation: false, ...option }, true);
  }

  // ECharts measures text with its own font (sans-serif) to truncate labels: no other font.
  const BASE = { tooltip: { trigger: "item", confine: true } };

  function drawCoverage(data) {
    const rows = data.coverage_by_town || [];
    const names = rows.map((r) => r.name);
    const rates = rows.map((r) => r.rate);
    const known = rows.filter((r) => r.rate !== null && r.rate !== undefined);
    const sorted = [...known].sort((a, b) => b.rate - a.rate);
    const summary = rows.length
      ? `柱状图:${data.region.name}下 ${rows.length} 个区域的联建覆盖率;` +
        `最高 ${sorted[0] ? `${sorted[0].name} ${formatNumber(sorted[0].rate, "%")}%` : "—"},` +
        `最低 ${sorted.length ? `${sorted[sorted.length - 1].name} ${formatNumber(sorted[sorted.length - 1].rate, "%")}%` : "—"}。`
      : "柱状图:没有下级区域的覆盖率数据。";
    setChart(
      "coverage",
      {
        ...BASE,
        grid: { left: 48, right: 16, top: 24, bottom: 80 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 40, interval: 0 } },
        yAxis: { type: "value", name: "%", max: 100 },
        series: [
          {
            name: "覆盖率",
            type: "bar",
            data: rates,
            itemStyle: { color: RED },
            label: { show: rows.length <= 30, position: "top", fontSize: 10 },
          },
        ],
      },
      summary,
    );
    $("link-coverage").href = explorerRegion(data.region.code);
    $("link-coverage").textContent = `在图谱中查看${data.region.name}`;
    fill(
      $("data-coverage"),
      table(
        "各下级区域的联建覆盖率",
        ["乡镇", "乡镇代码", "行政村数", "已覆盖", "覆盖率(%)", "图谱"],
        rows.map((r) => ({
          attrs: { dataset: { code: r.code } },
          cells: [
            r.name,
            r.code,
            formatNumber(r.villages),
            formatNumber(r.covered),
            formatNumber(r.rate, "%"),
            explorerLink(explorerRegion(r.code), "在图谱中查看", `在图谱中查看${r.name}`),
          ],
        })),
      ),
    );
  }

  function drawLinksByYear(data) {
    const block = data.links_by_year || { years: [], series: [] };
    const years = block.years.map(String);
    const colours = state.config.link_colours || {};
    const summary = block.series.length
      ? `折线图:${years[0]}–${years[years.length - 1]} 年各类联系数量;` +
        block.series
          .map((s) => `${s.label}从 ${s.counts[0]} 条到 ${s.counts[s.counts.length - 1]} 条`)
          .join(",") +
        "。"
      : "折线图:没有联系。";
    setChart(
      "links",
      {
        ...BASE,
        tooltip: { trigger: "axis", confine: true },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 48, right: 16, top: 32, bottom: 64 },
        xAxis: { type: "category", data: years, boundaryGap: false },
        yAxis: { type: "value", name: "条", minInterval: 1 },
        series: block.series.map((s) => ({
          name: s.label,
          type: "line",
          data: s.counts,
          itemStyle: { color: colours[s.type] || NEUTRAL },
          lineStyle: { color: colours[s.type] || NEUTRAL },
        })),
      },
      summary,
    );
    $("link-links").href = explorerRegion(data.region.code);
    fill(
      $("data-links"),
      table(
        "各类联系逐年数量(每年 12 月 31 日在册)",
        ["类型", ...years],
        block.series.map((s) => ({
          attrs: { dataset: { type: s.type } },
          cells: [s.label, ...s.counts.map((c) => formatNumber(c))],
        })),
      ),
    );
  }

  function binName(bin) {
    return `${Number(bin.from).toFixed(1)}–${Number(bin.to).toFixed(1)}`;
  }

  function drawStrength(data) {
    const block = data.strength_histogram || { bins: [], links: 0, median: null };
    const names = block.bins.map(binName);
    const counts = block.bins.map((b) => b.count);
    const median = block.median === null || block.median === undefined ? "—" : block.median;
    setChart(
      "strength",
      {
        ...BASE,
        title: { text: `共 ${block.links} 条联系,中位数 ${median}`, left: "center", textStyle: { fontSize: 12, fontWeight: "normal" } },
        grid: { left: 48, right: 16, top: 36, bottom: 40 },
        xAxis: { type: "category", data: names, name: "强度", axisLabel: { interval: 0, fontSize: 10 } },
        yAxis: { type: "value", name: "条", minInterval: 1 },
        series: [{ name: "联系数", type: "bar", data: counts, barCategoryGap: "4%", itemStyle: { color: "#fa541c" } }],
      },
      `直方图:联系强度分布,共 ${block.links} 条联系,中位数 ${median};` +
        `最多的区间 ${
          block.bins.length
            ? binName(block.bins.reduce((a, b) => (b.count > a.count ? b : a)))
            : "—"
        }。`,
    );
    $("link-strength").href = explorerRegion(data.region.code);
    fill(
      $("data-strength"),
      table(
        `联系强度分布(共 ${block.links} 条,中位数 ${median})`,
        ["强度区间", "联系数"],
        block.bins.map((b) => ({ cells: [binName(b), formatNumber(b.count)] })),
      ),
    );
  }

  function drawCentrality(data) {
    const block = data.centrality || { rows: [], label: "", measure: "" };
    const rows = block.rows || [];
    const colours = state.config.label_colours || {};
    $("centrality-measure").textContent = block.label ? `(${block.label},前 ${rows.length} 名)` : "";
    setChart(
      "centrality",
      {
        ...BASE,
        grid: { left: 190, right: 40, top: 8, bottom: 24 },
        xAxis: { type: "value" },
        yAxis: {
          type: "category",
          inverse: true,
          data: rows.map((r) => r.name),
          axisLabel: { width: 176, overflow: "truncate" },
        },
        series: [
          {
            name: block.label || block.measure,
            type: "bar",
            data: rows.map((r) => ({ value: r.score, itemStyle: { color: colours[r.label] || NEUTRAL } })),
          },
        ],
      },
      rows.length
        ? `横向条形图:${block.label}前 ${rows.length} 名;` +
            rows
              .slice(0, 3)
              .map((r) => `第 ${r.rank} 名 ${r.name}(${formatScore(r.score)})`)
              .join(",") +
            "。"
        : "横向条形图:没有中心度数据。",
      Math.max(200, rows.length * 24 + 40),
    );
    $("link-centrality").href = explorerNodes(rows.map((r) => r.node));
    $("link-centrality").textContent = `在图谱中查看这 ${rows.length} 个节点`;
    fill(
      $("data-centrality"),
      table(
        `${block.label}前 ${rows.length} 名`,
        ["名次", "名称", "类型", "得分", "图谱"],
        rows.map((r) => ({
          attrs: { dataset: { id: r.node } },
          cells: [
            String(r.rank),
            r.name,
            LABELS_ZH[r.label] || r.label,
            formatScore(r.score),
            explorerLink(explorerNode(r.node), "在图谱中查看", `在图谱中查看${r.name}`),
          ],
        })),
      ),
    );
  }

  function drawCommunities(data) {
    const block = data.communities || { sankey: { nodes: [], links: [] } };
    const sankey = block.sankey || { nodes: [], links: [] };
    const bodies = sankey.nodes.filter((n) => n.kind === "body");
    const communities = sankey.nodes.filter((n) => n.kind === "community");
    // A node without a link has no width in a sankey (it would be drawn over the others):
    // the chart leaves it out, the data table names it.
    const linked = new Set(sankey.links.flatMap((l) => [l.source, l.target]));
    const drawn = sankey.nodes.filter((n) => linked.has(n.id));
    const alone = bodies.filter((n) => !linked.has(n.id));
    const modularity =
      block.modularity === null || block.modularity === undefined ? "—" : Number(block.modularity).toFixed(3);
    $("communities-note").textContent = `(${block.method || ""},共 ${block.count ?? "—"} 个社区,模块度 ${modularity})`;
    const kindColours = state.config.kind_colours || {};
    const names = new Map(sankey.nodes.map((n) => [n.id, n.name]));
    setChart(
      "communities",
      {
        ...BASE,
        series: [
          {
            type: "sankey",
            left: 8,
            right: 160,
            top: 8,
            bottom: 8,
            nodeGap: 6,
            draggable: false,
            emphasis: { focus: "adjacency" },
            data: drawn.map((n) => ({
              id: n.id,
              name: n.name,
              itemStyle: { color: n.kind === "body" ? kindColours["党建联合体"] || RED : "#1677ff" },
            })),
            links: sankey.links.map((l) => ({ source: l.source, target: l.target, value: l.value })),
            label: { fontSize: 11, formatter: (item) => item.data.name },
            tooltip: {
              formatter: (item) =>
                item.dataType === "edge"
                  ? `${names.get(item.data.source)} → ${names.get(item.data.target)}:${item.data.value} 个成员`
                  : item.data.name,
            },
          },
        ],
      },
      bodies.length
        ? `桑基图:${bodies.length - alone.length} 个联合体的成员分属 ${communities.length} 个检测到的社区` +
            `(全区域共 ${block.count} 个社区,模块度 ${modularity})` +
            `${alone.length ? `;另有 ${alone.length} 个联合体的成员不在其中` : ""}。`
        : "桑基图:本区域没有联合体。",
      Math.max(240, Math.max(bodies.length - alone.length, communities.length) * 26 + 40),
    );
    $("link-communities").href = explorerNodes(bodies.map((b) => b.id));
    $("link-communities").textContent = `在图谱中查看这 ${bodies.length} 个联合体`;
    fill(
      $("data-communities"),
      table(
        "联合体成员按社区",
        ["联建组织", "社区", "成员数", "图谱"],
        [
          ...sankey.links.map((l) => ({
            attrs: { dataset: { id: l.source } },
            cells: [
              names.get(l.source) || l.source,
              names.get(l.target) || l.target,
              formatNumber(l.value),
              explorerLink(explorerNode(l.source), "在图谱中查看", `在图谱中查看${names.get(l.source) || ""}`),
            ],
          })),
          ...alone.map((b) => ({
            attrs: { dataset: { id: b.id } },
            cells: [
              b.name,
              "(成员不在所列社区)",
              "0",
              explorerLink(explorerNode(b.id), "在图谱中查看", `在图谱中查看${b.name}`),
            ],
          })),
        ],
      ),
    );
  }

  function drawnNodes(data) {
    const sankey = data.communities.sankey;
    const linked = new Set(sankey.links.flatMap((l) => [l.source, l.target]));
    return sankey.nodes.filter((n) => linked.has(n.id));
  }

  function onChartClick(name, event) {
    const data = state.data;
    if (!data) return;
    let href = null;
    if (name === "coverage") {
      const row = (data.coverage_by_town || [])[event.dataIndex];
      if (row) href = explorerRegion(row.code);
    } else if (name === "centrality") {
      const row = (data.centrality.rows || [])[event.dataIndex];
      if (row) href = explorerNode(row.node);
    } else if (name === "communities" && event.dataType === "node") {
      const node = drawnNodes(data)[event.dataIndex];
      if (node && node.kind === "body") href = explorerNode(node.id);
      else if (node && node.members) href = explorerNodes(node.members.items.map((m) => m.id));
    }
    if (href) location.assign(href);
  }

  function drawWeak(data) {
    const block = data.unpartnered_weak || { items: [], total: 0 };
    const items = block.items || [];
    $("weak-total").textContent = block.truncated
      ? `(共 ${block.total} 个,列出前 ${items.length} 个)`
      : `(共 ${block.total} 个)`;
    $("link-weak").href = explorerNodes(items.map((i) => i.id));
    $("link-weak").textContent = `在图谱中查看${items.length > FOCUS_MAX ? `前 ${FOCUS_MAX} 个` : "这些村"}`;
    fill(
      $("weak-table"),
      items.length
        ? table(
            "待结对薄弱村",
            ["村", "所属乡镇", "原因", "原因说明", "图谱"],
            items.map((item) => ({
              attrs: { dataset: { id: item.id } },
              cells: [
                item.name,
                item.region_name || "",
                (item.reasons || []).map((r) => WEAK_REASONS[r] || r).join("、"),
                item.explanation || "",
                explorerLink(explorerNode(item.id), "在图谱中查看", `在图谱中查看${item.name}`),
              ],
            })),
            { id: "weak-list", class: "list" },
          )
        : el("p", { class: "muted", text: "没有待结对的薄弱村。" }),
    );
  }

  function decisionOf(villageId, partnerId) {
    const found = state.decisions.find((d) => d.village.id === villageId && d.partner.id === partnerId);
    return found ? found.decision : null;
  }

  function drawPairings(data) {
    const pairings = data.pairings || [];
    $("pairings-total").textContent = `(${pairings.length} 个薄弱村的最佳结对对象)`;
    fill(
      $("pairings-table"),
      pairings.length
        ? table(
            "推荐结对",
            ["村", "推荐伙伴", "得分", "理由", "决定", "图谱"],
            pairings.map((p) => {
              const decided = decisionOf(p.village.id, p.partner.id);
              return {
                attrs: {
                  dataset: { village: p.village.id, partner: p.partner.id, state: decided || "open" },
                },
                cells: [
                  p.village.name,
                  el("span", null, p.partner.name, el("span", { class: "muted", text: ` ${p.partner.kind || LABELS_ZH[p.partner.label] || ""}` })),
                  formatScore(p.score),
                  el(
                    "ul",
                    { class: "reasons" },
                    (p.reasons || []).map((r) =>
                      el(
                        "li",
                        null,
                        `${REASONS[r.name] || r.name}` +
                          `${typeof r.contribution === "number" ? `(+${r.contribution.toFixed(2)})` : ""}` +
                          `:${r.explanation || ""}`,
                      ),
                    ),
                  ),
                  judgeCell(p, decided),
                  explorerLink(
                    explorerNodes([p.village.id, p.partner.id]),
                    "在图谱中查看",
                    `在图谱中查看${p.village.name}与${p.partner.name}`,
                  ),
                ],
              };
            }),
            { id: "pairings-list", class: "list" },
          )
        : el("p", { class: "muted", text: "没有可推荐的结对。" }),
    );
  }

  function judgeCell(pairing, decided) {
    if (decided) return el("span", { class: `badge ${decided}`, text: DECISIONS[decided] });
    const who = `${pairing.village.name}与${pairing.partner.name}`;
    return el(
      "span",
      { class: "judge" },
      el(
        "button",
        {
          type: "button",
          class: "judge-accept",
          "aria-label": `接受:${who}结对`,
          onclick: (event) => judge(pairing, "accept", event.currentTarget),
        },
        "接受",
      ),
      el(
        "button",
        {
          type: "button",
          class: "judge-reject",
          "aria-label": `否决:${who}结对`,
          onclick: (event) => judge(pairing, "reject", event.currentTarget),
        },
        "否决",
      ),
    );
  }

  function pairingsMessage(text, kind) {
    const box = $("pairings-message");
    box.textContent = text;
    box.dataset.kind = kind;
    box.hidden = !text;
  }

  async function judge(pairing, decision, button) {
    const key = apiKey();
    if (!key) {
      pairingsMessage("接受或否决需要 API 密钥:请在上方“API 密钥”中填写规划人员的密钥。", "error");
      $("api-key").focus();
      return false;
    }
    const row = button.closest("tr");
    row.querySelectorAll(".judge button").forEach((b) => (b.disabled = true));
    const result = await api(
      "/v1/recommendations/judgements",
      null,
      {
        method: "POST",
        key,
        body: { target: pairing.village.id, partner: pairing.partner.id, decision },
      },
    );
    if (!result.ok) {
      row.querySelectorAll(".judge button").forEach((b) => (b.disabled = false));
      const what = { 401: "密钥无效", 403: "此密钥无写入权限", 409: "与现有联系冲突" }[result.status];
      pairingsMessage(`${what ? `${what}:` : ""}${problemText(result)}`, "error");
      return false;
    }
    state.decisions.push({ village: pairing.village, partner: pairing.partner, decision });
    row.dataset.state = decision;
    const cell = row.querySelector(".judge");
    if (cell) cell.replaceWith(el("span", { class: `badge ${decision}`, text: DECISIONS[decision] }));
    pairingsMessage(`${DECISIONS[decision]}:${pairing.village.name} — ${pairing.partner.name}。`, "ok");
    drawDecisions();
    await load();
    return true;
  }

  function drawDecisions() {
    fill(
      $("decisions"),
      state.decisions.map((d) =>
        el(
          "li",
          { dataset: { village: d.village.id, partner: d.partner.id, decision: d.decision } },
          el("span", { class: `badge ${d.decision}`, text: DECISIONS[d.decision] }),
          ` ${d.village.name} — ${d.partner.name} `,
          explorerLink(explorerNodes([d.village.id, d.partner.id])),
        ),
      ),
    );
  }

  function drawBreaches(data) {
    const breaches = data.breaches || [];
    $("breaches-total").textContent = `(${breaches.length} 项)`;
    $("link-breaches").href = explorerNodes(breaches.map((b) => b.body.id));
    fill(
      $("breaches-table"),
      breaches.length
        ? table(
            "规则违反",
            ["联建组织", "规则", "严重程度", "证据", "图谱"],
            breaches.map((b) => ({
              attrs: { dataset: { id: b.body.id, rule: b.rule_id, severity: b.severity } },
              cells: [
                b.body.name,
                b.description || b.rule_id,
                el("span", { class: `severity ${b.severity}`, text: SEVERITY[b.severity] || b.severity }),
                b.evidence || "",
                explorerLink(explorerNode(b.body.id), "在图谱中查看", `在图谱中查看${b.body.name}`),
              ],
            })),
            { id: "breaches-list", class: "list" },
          )
        : el("p", { class: "muted", text: "没有规则违反。" }),
    );
  }

  // ---------------------------------------------------------------- saved views

  function viewsMessage(text, kind) {
    const box = $("views-message");
    box.textContent = text;
    box.dataset.kind = kind || "info";
    box.hidden = !text;
  }

  async function refreshViews() {
    const key = apiKey();
    if (!key) {
      state.views = [];
      fill($("views"), el("li", { class: "muted", text: "填写 API 密钥后列出您保存的视图。" }));
      return;
    }
    const result = await api("/v1/views", null, { key });
    if (!result.ok) {
      fill($("views"), el("li", { class: "muted", text: `无法列出视图:${problemText(result)}` }));
      return;
    }
    const body = result.body;
    state.views = Array.isArray(body) ? body : body.items || [];
    fill(
      $("views"),
      state.views.length
        ? state.views.map((view) =>
            el(
              "li",
              { dataset: { id: view.id } },
              el("a", { href: `#view=${encodeURIComponent(view.id)}` }, view.name),
              el("span", {
                class: "muted",
                text: ` ${view.region || ""}${view.as_of ? ` · 截至 ${view.as_of}` : ""}${view.since ? ` · 对比 ${view.since}` : ""}`,
              }),
            ),
          )
        : el("li", { class: "muted", text: "尚未保存视图。" }),
    );
  }

  async function saveView(event) {
    event.preventDefault();
    const name = $("view-name").value.trim();
    if (!name) {
      viewsMessage("请填写视图名称。", "error");
      $("view-name").focus();
      return false;
    }
    if (!state.params.region) {
      viewsMessage("请先选择区域。", "error");
      return false;
    }
    const key = apiKey();
    if (!key) {
      viewsMessage("保存视图需要 API 密钥。", "error");
      $("api-key").focus();
      return false;
    }
    // A town chosen in the picker is the region itself: filters hold the measure only.
    const filters = { measure: state.params.measure || "pagerank" };
    const result = await api("/v1/views", null, {
      method: "POST",
      key,
      body: {
        name,
        region: state.params.region,
        as_of: state.params.as_of || null,
        since: state.params.since || null,
        filters,
      },
    });
    if (!result.ok) {
      viewsMessage(`无法保存视图:${problemText(result)}`, "error");
      return false;
    }
    viewsMessage(`已保存视图“${name}”。`, "ok");
    $("view-name").value = "";
    await refreshViews();
    return result.body;
  }

  async function openView(id) {
    const result = await api(`/v1/views/${encodeURIComponent(id)}`, null, { key: apiKey() || null });
    if (!result.ok) {
      status(`无法打开视图:${problemText(result)}`, true);
      return false;
    }
    const view = result.body;
    const filters = view.filters || {};
    viewsMessage(`已打开视图“${view.name}”。`, "ok");
    return go({
      region: view.region || "",
      as_of: view.as_of || "",
      since: view.since || "",
      measure: filters.measure || "pagerank",
    });
  }

  async function fromHash() {
    const hash = readHash();
    if (hash.view) return openView(hash.view);
    state.params = {
      region: hash.region,
      as_of: hash.as_of,
      since: hash.since,
      measure: hash.measure || "pagerank",
    };
    return load();
  }

  // ---------------------------------------------------------------- print

  /** Charts follow the window's width on screen. Not while printing: the print style sheet
   * scales each chart as drawn (its viewBox) to the page, where a resize would lay it out
   * anew in a container of no height. */
  function resizeCharts() {
    if (window.matchMedia("print").matches) return;
    Object.values(state.charts).forEach((c) => c.resize());
  }

  // ---------------------------------------------------------------- boot

  async function boot() {
    performance.mark("dashboard-start");
    if (typeof echarts !== "object") {
      status("图表库未能加载(/explorer/static/vendor/echarts.min.js)", true);
      return;
    }
    const [config, provinces] = await Promise.all([
      api("/explorer/config.json"),
      api("/v1/nodes", { label: "Region", kind: "省", limit: 100 }),
    ]);
    if (config.ok) state.config = config.body;
    fill(
      $("measure"),
      Object.entries(state.config.measures || { pagerank: "PageRank" }).map(([value, text]) =>
        el("option", { value, text }),
      ),
    );
    $("measure").value = "pagerank";
    state.provinces = provinces.ok
      ? (provinces.body.items || [])
          .map((n) => ({ code: n.region_code, name: n.name, level: "省" }))
          .sort((a, b) => a.code.localeCompare(b.code))
      : [];
    optionsOf($("province"), state.provinces, PLACEHOLDERS.province);
    for (const spec of LEVELS.slice(1)) optionsOf($(spec.select), [], PLACEHOLDERS[spec.select]);

    LEVELS.forEach((spec) => $(spec.select).addEventListener("change", onPick));
    $("query-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go(readInputs());
    });
    for (const id of ["as-of", "since", "measure"]) {
      $(id).addEventListener("change", () => go(readInputs()));
    }
    $("region-search-button").addEventListener("click", searchRegions);
    $("region-search").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        searchRegions();
      }
      if (event.key === "Escape") $("region-results").hidden = true;
    });
    $("print").addEventListener("click", () => window.print());
    window.addEventListener("afterprint", resizeCharts);
    window.addEventListener("resize", resizeCharts);
    $("api-key").value = rememberedKey();
    $("api-key").addEventListener("input", () => rememberKey($("api-key").value));
    $("api-key").addEventListener("change", refreshViews);
    $("api-key-clear").addEventListener("click", () => {
      $("api-key").value = "";
      rememberKey("");
      refreshViews();
      status("已清除密钥。");
    });
    $("view-form").addEventListener("submit", saveView);
    window.addEventListener("hashchange", () => {
      if (location.hash !== hashOf(state.params)) fromHash();
    });
    document.body.dataset.ready = "1";
    await Promise.all([fromHash(), refreshViews()]);
  }

  // ---------------------------------------------------------------- test hook

  window.__dashboard = {
    /** Set up, nothing in flight, and the latest request answered (drawn or failed). */
    ready: () =>
      document.body.dataset.ready === "1" && state.pending === 0 && state.loaded === state.sequence,
    data: () => state.data,
    params: () => ({ ...state.params }),
    charts: () => Object.keys(state.charts),
    /** The option ECharts holds for a chart (functions left out), or null. */
    chartOption: (name) => {
      const instance = state.charts[name];
      return instance ? JSON.parse(JSON.stringify(instance.getOption())) : null;
    },
    /** The option this page gave the chart (before ECharts filled in its defaults). */
    givenOption: (name) => (state.options[name] ? JSON.parse(JSON.stringify(state.options[name])) : null),
    decisions: () => state.decisions.map((d) => ({ ...d })),
    views: () => state.views.map((v) => ({ ...v })),
    go,
    load,
    openView,
    saveView: () => saveView({ preventDefault: () => {} }),
    refreshViews,
  };

  boot();
})();

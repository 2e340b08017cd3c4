/* 党建联建知识图谱 · 图谱浏览 (the /explorer page).
 *
 * Plain modern JavaScript, no build step. Everything comes from this service: the API under
 * /v1 and the vendored Cytoscape.js. Test hook: window.__explorer (see the end of the file);
 * document.body.dataset.busy counts requests in flight, dataset.ready is "1" once set up.
 */
"use strict";

(function () {
  const SOURCE_KINDS = {
    article: "报道",
    register: "区划名录",
    generated: "生成数据",
    planner_decision: "规划决定",
    import: "导入",
    api: "接口录入",
  };
  const REASONS = {
    industry: "产业匹配",
    proximity: "地理邻近",
    capacity: "帮扶余力",
    structural: "网络关联",
    strength: "综合实力",
    priority: "帮扶需求",
    needs: "需求对接",
  };
  const DECISIONS = { accept: "采纳", reject: "否决", unsure: "待定" };
  /** The API key lives in this tab's sessionStorage only: never localStorage, never a URL. */
  /** Labels a judgement can be about (actors and joint bodies). */
  const ACTOR_LABELS = ["Village", "Enterprise", "Institution", "PartyOrganization"];
  const NEUTRAL = "#7f8fa6";
  const MIN_SIZE = 18;
  const MAX_SIZE = 64;
  const BASE_SIZE = 30;
  /** #nodes= draws at most this many nodes with their neighbourhoods (a dashboard chart's
   * top 20 fits; a longer hand-made list would fetch a neighbourhood per id). */
  const FOCUS_MAX = 50;
  /** A region view lists this many nodes in the side panel (the canvas shows them all). */
  const REGION_LIST_MAX = 300;
  /** Level of detail of big views: labels are drawn only when they would be at least this
   * many pixels high (font-size × zoom), so a county seen whole draws dots and lines only. */
  const LOD_MIN_FONT_PX = 9;
  const LOD_FONT_PX = 10;

  const state = {
    labels: {}, // label → {label_zh, attributes: {name: {label_zh, unit}}}
    linkTypes: [], // [{type, label_zh, structural}]
    linkAttrs: {}, // type → {name: {label_zh, unit}}
    // From /explorer/config.json: colours, the measures' names and the limits to ask with.
    palette: {
      label_colours: {},
      kind_colours: {},
      link_colours: {},
      joint_body_kinds: [],
      measures: {},
      limits: { top: 20, neighbourhood: 100 },
    },
    centre: null,
    loaded: [], // node ids whose neighbourhoods are drawn, in order
    docs: new Map(),
    links: new Map(),
    selected: null,
    scores: new Map(),
    strengths: new Map(),
    pending: 0,
    recommendTarget: null,
    recommendRelation: "pairing",
    historyNode: null,
    // A region drawn whole: {region, layout: "server" | "client", lod, nodes, drawnMs}.
    region: null,
    // Several nodes drawn together (#nodes=…, the dashboard's links): their ids, else null.
    focus: null,
  };
  let cy = null;
  /** Which renderer draws `cy`: "canvas" (every small view) or "webgl" (region views). */
  let cyRenderer = null;
  /** This browser's WebGL 2: null until asked, then {available, software, renderer} (asked
   * once, on a canvas that is thrown away). */
  let webglInfo = null;

  // ---------------------------------------------------------------- helpers

  const { $, el, fill, apiKey, rememberKey, rememberedKey, request } = window.graphServiceDom;

  function busy(delta) {
    state.pending += delta;
    document.body.dataset.busy = String(state.pending);
  }

  /** The rows of a list the API may cut: {items, total, truncated, more}. */
  function listed(listing) {
    return (listing && listing.items) || [];
  }

  /** GET (or, with options.method and options.body, a JSON write) under this origin;
   * options.key sends the API key as X-API-Key (only the judgement calls do); options.fresh
   * bypasses the HTTP cache. */
  function api(path, params, options) {
    const opts = options || {};
    return request(path, params, { ...opts, noStore: Boolean(opts.fresh), busy });
  }

  function status(text, isError) {
    const box = $("status");
    box.textContent = text;
    box.classList.toggle("error", Boolean(isError));
  }

  function problemText(result) {
    const body = result.body || {};
    return body.detail || body.title || `HTTP ${result.status}`;
  }

  /** "2026-05-01T08:30:00.123456Z" → "2026-05-01 16:30" (local time). */
  function formatTime(text) {
    const date = new Date(String(text || "").replace(/(\.\d{3})\d+/, "$1"));
    if (Number.isNaN(date.getTime())) return String(text || "");
    const two = (n) => String(n).padStart(2, "0");
    return (
      `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
      `${two(date.getHours())}:${two(date.getMinutes())}`
    );
  }

  function labelZh(label) {
    return (state.labels[label] && state.labels[label].label_zh) || label || "";
  }

  function typeZh(type) {
    const spec = state.linkTypes.find((t) => t.type === type);
    return spec ? spec.label_zh : type;
  }

  function nodeName(id) {
    const doc = state.docs.get(id);
    return (doc && doc.name) || id;
  }

  function baseColour(doc) {
    const p = state.palette;
    return (doc.kind && p.kind_colours[doc.kind]) || p.label_colours[doc.label] || NEUTRAL;
  }

  function shortName(name) {
    const text = String(name || "");
    return text.length > 14 ? `${text.slice(0, 13)}…` : text;
  }

  function formatValue(value, unit) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? "是" : "否";
    if (Array.isArray(value)) return value.map((v) => formatValue(v)).join("、");
    if (typeof value === "number") {
      const text = Number.isInteger(value) ? value.toLocaleString("zh-CN") : value.toFixed(2);
      return unit ? `${text} ${unit}` : text;
    }
    if (typeof value === "object") return JSON.stringify(value);
    return unit ? `${value} ${unit}` : String(value);
  }

  // ---------------------------------------------------------------- filters and settings

  function selectedLinkTypes() {
    return Array.from(document.querySelectorAll("#link-type-filters input:checked")).map(
      (input) => input.value,
    );
  }

  function viewParams() {
    const types = selectedLinkTypes();
    const all = types.length === state.linkTypes.length;
    return {
      link_type: all ? null : types,
      as_of: $("as-of").value || null,
      depth: Number($("depth").value) || 1,
      noLinks: types.length === 0,
    };
  }

  // ---------------------------------------------------------------- graph

  /** Software rasterisers: WebGL there runs on the CPU, slower than Cytoscape's canvas
   * (measured in bench/explorer_view.py: headless Chromium's SwiftShader pans at seconds a
   * frame, where the canvas draws a texture of the view). */
  const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

  function probeWebgl() {
    if (webglInfo) return webglInfo;
    webglInfo = { available: false, software: false, renderer: "" };
    try {
      const context = document.createElement("canvas").getContext("webgl2");
      if (context) {
        const debug = context.getExtension("WEBGL_debug_renderer_info");
        const name = String(
          context.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : context.RENDERER) || "",
        );
        webglInfo = { available: true, software: SOFTWARE_GL.test(name), renderer: name };
        const lose = context.getExtension("WEBGL_lose_context");
        if (lose) lose.loseContext();
      }
    } catch (error) {
      webglInfo = { available: false, software: false, renderer: String(error) };
    }
    return webglInfo;
  }

  /** The renderer of a region view: "webgl" with a hardware WebGL 2, else "canvas"; the
   * choice "on" takes WebGL 2 even when it is software, "off" never. */
  function regionRenderer(choice) {
    if (choice === "off") return "canvas";
    const gl = probeWebgl();
    if (!gl.available) return "canvas";
    return gl.software && choice !== "on" ? "canvas" : "webgl";
  }

  /** Renderer options: Cytoscape fixes its renderer when the graph is created. A region view
   * (thousands of nodes) draws with the WebGL renderer (3.31+), which batches nodes and edges
   * into a few draw calls instead of one canvas path each: its first frame is what takes
   * seconds on the canvas. Small views keep the canvas (labels, arrows, bezier curves). */
  function rendererOptions(kind) {
    if (kind !== "webgl") return { name: "canvas" };
    return {
      name: "canvas",
      webgl: true,
      // Node and label bitmaps go to texture atlases of this size (the default); a region's
      // few distinct styles fit in one or two.
      webglTexSize: 2048,
      webglBatchSize: 4096,
    };
  }

  /** Make sure `cy` draws with the renderer `kind` ("canvas" or "webgl", which falls back to
   * the canvas without WebGL 2): a graph of the other kind is replaced by an empty one. */
  function useRenderer(kind) {
    const wanted = kind === "webgl" && probeWebgl().available ? "webgl" : "canvas";
    if (cy && cyRenderer === wanted) return;
    if (cy) cy.destroy();
    initGraph(wanted);
  }

  function initGraph(kind) {
    cyRenderer = kind || "canvas";
    const big = cyRenderer === "webgl";
    cy = cytoscape({
      container: $("graph"),
      renderer: rendererOptions(cyRenderer),
      // Big views: one device pixel per CSS pixel (a 4× cheaper frame on a HiDPI screen).
      pixelRatio: big ? 1 : "auto",
      motionBlur: false,
      minZoom: 0.15,
      maxZoom: 4,
      boxSelectionEnabled: false,
      style: [
        {
          selector: "node",
          style: {
            "background-color": "data(color)",
            width: "data(size)",
            height: "data(size)",
            label: "data(short)",
            "font-family": getComputedStyle(document.documentElement).fontFamily,
            "font-size": 11,
            color: "#262626",
            "text-valign": "bottom",
            "text-margin-y": 3,
            "text-outline-color": "#ffffff",
            "text-outline-width": 2,
            "border-width": 1,
            "border-color": "#ffffff",
          },
        },
        { selector: "node.joint-body", style: { shape: "round-hexagon" } },
        { selector: "node.centre", style: { "border-width": 3, "border-color": "#262626" } },
        {
          selector: "node:selected",
          style: { "border-width": 4, "border-color": "#fadb14", "z-index": 10 },
        },
        {
          selector: "edge",
          style: {
            width: "data(width)",
            "line-color": "data(color)",
            "target-arrow-color": "data(color)",
            "target-arrow-shape": "triangle",
            "arrow-scale": 0.7,
            "curve-style": "bezier",
            opacity: 0.85,
          },
        },
        {
          selector: "edge:selected, edge.hover",
          style: {
            label: "data(label)",
            "font-size": 10,
            "text-rotation": "autorotate",
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.85,
            "line-color": "#fa541c",
            "target-arrow-color": "#fa541c",
            opacity: 1,
          },
        },
        // A region drawn whole: small nodes whose labels appear only when zoomed in, and
        // straight, arrowless edges (haystack edges are the cheapest Cytoscape draws).
        {
          selector: "node.lod",
          style: {
            width: 10,
            height: 10,
            "font-size": LOD_FONT_PX,
            "min-zoomed-font-size": LOD_MIN_FONT_PX,
            "text-outline-width": 1,
            "border-width": 0,
            // No label at all until zoomed in (class lod-labels): a label the renderer has
            // to measure for every node's bounding box costs seconds in a city's first frame.
            label: "",
          },
        },
        { selector: "node.lod.lod-labels", style: { label: "data(short)" } },
        { selector: "node.lod.joint-body", style: { width: 16, height: 16 } },
        {
          selector: "edge.lod",
          style: {
            width: 0.6,
            "curve-style": "haystack",
            "haystack-radius": 0,
            "target-arrow-shape": "none",
            opacity: 0.5,
          },
        },
      ],
    });
    cy.on("tap", "node", (event) => select(event.target.id()));
    cy.on("dbltap", "node", (event) => expand(event.target.id()));
    cy.on("tap", "edge", (event) => selectLink(event.target.id()));
    cy.on("tap", (event) => {
      if (event.target === cy) clearSelection();
    });
    cy.on("zoom", () => {
      if (state.region && state.region.lod) showRegionLabels();
    });
    cy.on("mouseover", "edge", (event) => event.target.addClass("hover"));
    cy.on("mouseout", "edge", (event) => event.target.removeClass("hover"));
  }

  function nodeData(doc) {
    return {
      id: doc.id,
      name: doc.name,
      short: shortName(doc.name),
      label: doc.label,
      kind: doc.kind || "",
      color: NEUTRAL,
      size: BASE_SIZE,
    };
  }

  function addSubgraph(nodes, links, anchorId) {
    const anchor = anchorId ? cy.getElementById(anchorId) : null;
    const around = anchor && anchor.length ? anchor.position() : { x: 0, y: 0 };
    const add = [];
    for (const doc of nodes) {
      state.docs.set(doc.id, doc);
      if (cy.getElementById(doc.id).length) continue;
      const classes = [doc.label];
      if (state.palette.joint_body_kinds.includes(doc.kind)) classes.push("joint-body");
      add.push({
        group: "nodes",
        data: nodeData(doc),
        classes: classes.join(" "),
        position: { x: around.x + Math.random() * 40 - 20, y: around.y + Math.random() * 40 - 20 },
      });
    }
    const present = (id) => cy.getElementById(id).length || add.some((e) => e.data.id === id);
    for (const link of links) {
      state.links.set(link.id, link);
      if (cy.getElementById(link.id).length) continue;
      if (!present(link.source) || !present(link.target)) continue;
      add.push({
        group: "edges",
        data: {
          id: link.id,
          source: link.source,
          target: link.target,
          type: link.type,
          label: typeZh(link.type),
          color: "#bfbfbf",
          width: 1.5,
        },
      });
    }
    cy.add(add);
    return add.filter((e) => e.group === "nodes").length;
  }

  function runLayout(force) {
    if (!cy || cy.nodes().length === 0) return;
    let options;
    // Rings around the centre, or around every focused node at once (a multi-source walk).
    const roots = state.focus
      ? cy.collection(state.focus.map((id) => cy.getElementById(id))).nodes()
      : state.centre
        ? cy.getElementById(state.centre)
        : cy.collection();
    if (!force && roots.length) {
      const depth = new Map();
      cy.elements().bfs({
        roots,
        directed: false,
        visit: (node, edge, previous, index, hops) => {
          depth.set(node.id(), hops);
        },
      });
      options = {
        name: "concentric",
        concentric: (node) => 100 - (depth.has(node.id()) ? depth.get(node.id()) : 99),
        levelWidth: () => 1,
        minNodeSpacing: 28,
        animate: false,
        padding: 40,
      };
    } else {
      options = {
        name: "cose",
        animate: false,
        randomize: true,
        nodeRepulsion: () => 9000,
        idealEdgeLength: () => 90,
        padding: 40,
        numIter: 1500,
      };
    }
    cy.layout(options).run();
  }

  function setData(element, key, value) {
    if (element.data(key) !== value) element.data(key, value);
  }

  function applyStyles() {
    if (!cy) return;
    const byKind = $("colour-by-kind").checked;
    const metric = $("size-metric").value;
    const byStrength = $("width-by-strength").checked;
    let lo = Infinity;
    let hi = -Infinity;
    if (metric) {
      cy.nodes().forEach((n) => {
        const s = state.scores.get(n.id());
        if (s !== undefined) {
          lo = Math.min(lo, s);
          hi = Math.max(hi, s);
        }
      });
    }
    cy.batch(() => {
      cy.nodes().forEach((n) => {
        const doc = state.docs.get(n.id()) || {};
        // Only what changes: every data() write restyles its element, seconds for a region.
        setData(n, "color", byKind ? baseColour(doc) : NEUTRAL);
        let size = BASE_SIZE;
        if (metric) {
          const s = state.scores.get(n.id());
          if (s === undefined) size = MIN_SIZE;
          else size = hi > lo ? MIN_SIZE + ((s - lo) / (hi - lo)) * (MAX_SIZE - MIN_SIZE) : BASE_SIZE;
        }
        setData(n, "size", Math.round(size * 10) / 10);
        n.toggleClass(
          "centre",
          n.id() === state.centre || Boolean(state.focus && state.focus.includes(n.id())),
        );
      });
      cy.edges().forEach((e) => {
        const type = e.data("type");
        setData(e, "color", state.palette.link_colours[type] || "#bfbfbf");
        const s = state.strengths.get(e.id());
        setData(e, "width", byStrength ? (s === undefined ? 1 : 1 + 7 * s) : 1.5);
      });
    });
  }

  async function refreshMetrics() {
    const metric = $("size-metric").value;
    const params = viewParams();
    const scope = state.region
      ? `region:${state.region.region}`
      : state.centre
        ? `node:${state.centre}`
        : null;
    if (metric && scope) {
      const result = await api("/v1/analysis/centrality", {
        scope,
        depth: 2,
        measure: metric,
        top: state.palette.limits.top,
        link_type: params.link_type,
        as_of: params.as_of,
      });
      state.scores = new Map();
      if (result.ok) {
        const rows = listed(((result.body.measures || {})[metric] || {}).rows);
        rows.forEach((row) => state.scores.set(row.node, row.score));
      } else {
        status(`中心性计算失败:${problemText(result)}`, true);
      }
    }
    if ($("width-by-strength").checked && scope) {
      const result = await api("/v1/analysis/links/strongest", {
        scope,
        depth: 2,
        top: state.palette.limits.top,
        as_of: params.as_of,
      });
      state.strengths = new Map();
      if (result.ok) {
        listed(result.body.links).forEach((row) =>
          (row.link_ids || []).forEach((id) => state.strengths.set(id, row.score)),
        );
      } else {
        status(`联系强度计算失败:${problemText(result)}`, true);
      }
    }
    applyStyles();
  }

  function updateStatus() {
    const n = cy.nodes().length;
    const m = cy.edges().length;
    $("welcome").hidden = n > 0 || Boolean(state.centre) || Boolean(state.region);
    if (n === 0) {
      status("尚未显示任何节点:请搜索");
      return;
    }
    const centre = state.region
      ? `区域全图:${nodeName(`region:${state.region.region}`)}(${state.region.region}) · `
      : state.focus && state.focus.length > 1
        ? `选中 ${state.focus.length} 个节点(${shortName(nodeName(state.focus[0]))} 等) · `
        : state.centre
          ? `中心:${nodeName(state.centre)} · `
          : "";
    const metric = $("size-metric").value;
    const sized = metric ? ` · 节点大小:${state.palette.measures[metric]}` : "";
    const date = $("as-of").value ? ` · 截至 ${$("as-of").value}` : "";
    status(`${centre}已显示 ${n} 个节点、${m} 条联系${sized}${date}`);
  }

  function renderNodeList() {
    const list = $("node-list");
    list.replaceChildren();
    const nodes = cy.nodes().map((n) => state.docs.get(n.id())).filter(Boolean);
    const order = Object.keys(state.labels);
    nodes.sort((a, b) => {
      if (a.id === state.centre) return -1;
      if (b.id === state.centre) return 1;
      const byLabel = order.indexOf(a.label) - order.indexOf(b.label);
      return byLabel || String(a.name).localeCompare(String(b.name), "zh-CN");
    });
    const shown = state.region ? nodes.slice(0, REGION_LIST_MAX) : nodes;
    for (const doc of shown) {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = baseColour(doc);
      list.append(
        el(
          "li",
          null,
          el(
            "button",
            {
              type: "button",
              class: doc.id === state.selected ? "selected" : null,
              dataset: { id: doc.id, label: doc.label },
              title: doc.id,
              onclick: () => select(doc.id),
            },
            swatch,
            el("span", { text: doc.name }),
            el("span", { class: "muted", text: labelZh(doc.label) }),
          ),
        ),
      );
    }
    $("node-count").textContent =
      shown.length < nodes.length ? `(${nodes.length},列出前 ${shown.length} 个)` : `(${nodes.length})`;
  }

  function afterChange() {
    applyStyles();
    renderNodeList();
    updateStatus();
  }

  // ---------------------------------------------------------------- loading

  async function fetchNeighbourhood(id) {
    const params = viewParams();
    if (params.noLinks) {
      const single = await api(`/v1/nodes/${encodeURIComponent(id)}`, { as_of: params.as_of });
      return single.ok ? { ok: true, body: { nodes: [single.body], links: [] } } : single;
    }
    return api(`/v1/nodes/${encodeURIComponent(id)}/neighbourhood`, {
      depth: params.depth,
      link_type: params.link_type,
      as_of: params.as_of,
      limit: state.palette.limits.neighbourhood,
    });
  }

  async function load(id) {
    const result = await fetchNeighbourhood(id);
    if (!result.ok) {
      if (state.centre === id) {
        // The view no longer holds under the new filters or date: show nothing, keep the
        // centre so that changing them back restores it.
        cy.elements().remove();
        state.selected = null;
        $("detail-panel").hidden = true;
        renderNodeList();
      }
      const date = $("as-of").value;
      const when = date && result.status === 404 ? `(截至 ${date} 尚不存在)` : "";
      status(`无法加载 ${nodeName(id)}${when}:${problemText(result)}`, true);
      return false;
    }
    leaveRegion();
    cy.elements().remove();
    state.docs.clear();
    state.links.clear();
    state.focus = null;
    state.centre = id;
    state.loaded = [id];
    state.selected = null;
    addSubgraph(result.body.nodes, result.body.links, null);
    await refreshMetrics();
    runLayout(false);
    cy.fit(undefined, 40);
    afterChange();
    history.replaceState(null, "", `#node=${encodeURIComponent(id)}`);
    select(id);
    updateStatus();
    return true;
  }

  async function expand(id) {
    if (!state.centre) return load(id);
    const result = await fetchNeighbourhood(id);
    if (!result.ok) {
      status(`无法展开 ${nodeName(id)}:${problemText(result)}`, true);
      return false;
    }
    if (!state.loaded.includes(id)) state.loaded.push(id);
    const added = addSubgraph(result.body.nodes, result.body.links, id);
    await refreshMetrics();
    if (added) {
      runLayout(false);
      cy.fit(undefined, 40);
    }
    afterChange();
    if (state.selected) renderDetail(state.selected);
    return true;
  }

  /** Several nodes, each with its neighbourhood, drawn together and all selected (the
   * dashboard links here with #nodes=ID1,ID2,…: the nodes a chart or row shows). The first
   * that exists is the centre; ids that do not (or not on the date) are named in the status. */
  async function loadNodes(ids) {
    const wanted = [...new Set((ids || []).map((id) => String(id).trim()).filter(Boolean))];
    const asked = wanted.slice(0, FOCUS_MAX);
    if (!asked.length) return false;
    const results = await Promise.all(asked.map((id) => fetchNeighbourhood(id)));
    const found = asked.filter((_, i) => results[i].ok);
    const missing = asked.filter((_, i) => !results[i].ok);
    if (!found.length) {
      status(`无法加载所选节点:${problemText(results[0])}`, true);
      return false;
    }
    leaveRegion();
    cy.elements().remove();
    state.docs.clear();
    state.links.clear();
    state.centre = found[0];
    state.loaded = [...found];
    state.focus = [...found];
    state.selected = null;
    // One batch, every node before any link: a link between two neighbourhoods is drawn too.
    const nodes = new Map();
    const links = new Map();
    for (const result of results) {
      if (!result.ok) continue;
      result.body.nodes.forEach((doc) => nodes.set(doc.id, doc));
      result.body.links.forEach((link) => links.set(link.id, link));
    }
    addSubgraph([...nodes.values()], [...links.values()], null);
    await refreshMetrics();
    runLayout(false);
    cy.fit(undefined, 40);
    afterChange();
    history.replaceState(null, "", `#nodes=${found.map(encodeURIComponent).join(",")}`);
    select(found[0]);
    cy.collection(found.map((id) => cy.getElementById(id))).select();
    updateStatus();
    const notes = [];
    if (missing.length) notes.push(`${missing.length} 个节点无法加载:${missing.join("、")}`);
    if (wanted.length > asked.length) notes.push(`只显示前 ${asked.length} 个`);
    if (notes.length) status(`已选中 ${found.length} 个节点;${notes.join(";")}`, true);
    return true;
  }

  async function reload() {
    if (state.region) {
      await loadRegion(state.region.region, state.region);
      return;
    }
    if (state.focus) {
      await loadNodes(state.focus);
      return;
    }
    if (!state.centre) return;
    const [centre, ...others] = state.loaded;
    const selected = state.selected;
    if (!(await load(centre))) return;
    for (const id of others) {
      if (cy.getElementById(id).length) await expand(id);
    }
    if (selected && cy.getElementById(selected).length) select(selected);
  }

  // ---------------------------------------------------------------- region views

  /** Level of detail on or off: while the view moves, draw a bitmap of it and no edges. */
  function setLevelOfDetail(on) {
    const renderer = cy.renderer();
    renderer.hideEdgesOnViewport = on;
    renderer.textureOnViewport = on;
  }

  /** Labels of a region view only once they would be drawn (font-size × zoom large enough). */
  function showRegionLabels() {
    const wanted = cy.zoom() * LOD_FONT_PX >= LOD_MIN_FONT_PX;
    if (wanted === state.region.labels) return;
    state.region.labels = wanted;
    cy.batch(() => cy.nodes().toggleClass("lod-labels", wanted));
  }

  function leaveRegion() {
    if (!state.region) return;
    state.region = null;
    useRenderer("canvas");
    setLevelOfDetail(false);
    document.body.dataset.view = "neighbourhood";
  }

  /** The next frame drawn after now (the graph is on screen once it has been). */
  function drawn() {
    return new Promise((resolve) => {
      const renderer = cy.renderer();
      if (!renderer.webgl) {
        cy.one("render", () => requestAnimationFrame(() => resolve()));
        cy.forceRender();
        return;
      }
      // The WebGL renderer emits no "render" event: it clears the node layer's redraw flag
      // once it has drawn the frame that forceRender asked for.
      const layer = renderer.NODE;
      const poll = () => {
        if (renderer.data.canvasNeedsRedraw[layer]) requestAnimationFrame(poll);
        else requestAnimationFrame(() => resolve());
      };
      cy.forceRender();
      requestAnimationFrame(poll);
    });
  }

  /** Draw a whole region (a county, several counties of a city) with the positions the
   * server computed (GET /v1/layout, cached there per region, date, version and audience).
   * options.layout "client" lays it out here instead (cose: the benchmark's peer);
   * options.lod false keeps the full detail while zoomed out; options.webgl "auto" draws
   * with WebGL when the browser has it in hardware, "on" with any WebGL 2, "off" on the
   * canvas (the benchmark's peers). */
  async function loadRegion(code, options) {
    const opts = { layout: "server", lod: true, webgl: "auto", ...(options || {}) };
    const region = String(code || "").trim();
    if (!region) return false;
    performance.mark("region-start");
    const asOf = $("as-of").value || null;
    const result = await api("/v1/layout", { region, as_of: asOf });
    if (!result.ok) {
      status(`无法显示区域 ${region}:${problemText(result)}`, true);
      return false;
    }
    performance.mark("region-fetched");
    busy(1);
    try {
      const body = result.body;
      useRenderer(regionRenderer(opts.webgl));
      cy.elements().remove();
      state.docs.clear();
      state.links.clear();
      state.centre = null;
      state.loaded = [];
      state.focus = null;
      state.selected = null;
      $("detail-panel").hidden = true;
      const classes = opts.lod ? "lod" : "";
      const elements = [];
      for (const doc of body.nodes) {
        // Drawn from the layout's short rows; the full document is read on a click.
        state.docs.set(doc.id, { ...doc, partial: true });
        const data = nodeData(doc);
        data.color = baseColour(doc);
        const kinds = state.palette.joint_body_kinds.includes(doc.kind) ? " joint-body" : "";
        elements.push({
          group: "nodes",
          data,
          classes: `${doc.label} ${classes}${kinds}`,
          position: { x: doc.x, y: doc.y },
        });
      }
      for (const link of body.links) {
        state.links.set(link.id, { ...link, partial: true });
        elements.push({
          group: "edges",
          data: {
            id: link.id,
            source: link.source,
            target: link.target,
            type: link.type,
            label: typeZh(link.type),
            color: state.palette.link_colours[link.type] || "#bfbfbf",
            width: 1.5,
          },
          classes,
        });
      }
      state.region = {
        region,
        layout: opts.layout,
        lod: opts.lod,
        renderer: cyRenderer,
        webglRenderer: probeWebgl().renderer,
        nodes: body.nodes.length,
        labels: false,
      };
      document.body.dataset.view = "region";
      setLevelOfDetail(opts.lod);
      performance.mark("region-elements");
      cy.batch(() => cy.add(elements));
      performance.mark("region-added");
      if (opts.layout === "client") {
        const iterations = Number(opts.iterations) || 100;
        cy.layout({ name: "cose", animate: false, randomize: true, numIter: iterations }).run();
      } else {
        cy.layout({ name: "preset", fit: false }).run();
      }
      performance.mark("region-placed");
      if (opts.layout === "client") cy.fit(undefined, 20);
      else fitExtent(body.width, body.height, 20);
      if (opts.lod) showRegionLabels();
      performance.mark("region-fitted");
      await drawn();
      performance.mark("region-drawn");
      state.region.drawnMs = performance.now();
      history.replaceState(null, "", `#region=${encodeURIComponent(region)}`);
      applyStyles();
      renderNodeList();
      updateStatus();
      return true;
    } finally {
      busy(-1);
    }
  }

  /** Fit the view to the server's drawing, whose extent the server states: cy.fit() would
   * measure every element's bounding box (labels included), seconds for a city. */
  function fitExtent(width, height, padding) {
    const w = Math.max(cy.width() - 2 * padding, 1);
    const h = Math.max(cy.height() - 2 * padding, 1);
    const zoom = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), Math.min(w / width, h / height)));
    cy.viewport({
      zoom,
      pan: { x: (cy.width() - width * zoom) / 2, y: (cy.height() - height * zoom) / 2 },
    });
  }

  /** The region view's level of detail as drawn now (for tests and the benchmark). */
  function levelOfDetail() {
    const node = cy.nodes().first();
    if (!node.length) return null;
    const label = node.pstyle("label").strValue;
    const fontSize = parseFloat(node.pstyle("font-size").strValue);
    const minimum = parseFloat(node.pstyle("min-zoomed-font-size").strValue) || 0;
    const renderer = cy.renderer();
    return {
      zoom: cy.zoom(),
      fontSize,
      minZoomedFontSize: minimum,
      labelsDrawn: Boolean(label) && fontSize * cy.zoom() >= minimum,
      hideEdgesOnViewport: Boolean(renderer.hideEdgesOnViewport),
      textureOnViewport: Boolean(renderer.textureOnViewport),
      // What Cytoscape itself draws with: its WebGL flag and a live WebGL 2 context of its own.
      webgl:
        Boolean(renderer.webgl) &&
        renderer.data.contexts.some(
          (c) => typeof WebGL2RenderingContext === "function" &&
            c instanceof WebGL2RenderingContext && !c.isContextLost(),
        ),
      edgeCurveStyle: cy.edges().length ? cy.edges().first().pstyle("curve-style").strValue : null,
    };
  }

  // ---------------------------------------------------------------- search

  async function search(text) {
    const q = String(text || "").trim();
    const box = $("search-results");
    if (!q) {
      box.hidden = true;
      return [];
    }
    $("search-input").value = q;
    const result = await api("/v1/search", { q, limit: 12, as_of: $("as-of").value || null });
    box.replaceChildren();
    box.hidden = false;
    if (!result.ok) {
      box.append(el("li", { class: "empty", text: `搜索失败:${problemText(result)}` }));
      return [];
    }
    const items = result.body.items || [];
    if (!items.length) box.append(el("li", { class: "empty", text: `没有找到“${q}”` }));
    for (const item of items) {
      const node = item.node;
      const meta = [labelZh(node.label), node.kind, node.region_code].filter(Boolean).join(" · ");
      const alias = item.matched && item.matched !== node.name ? `(别名:${item.matched})` : "";
      box.append(
        el(
          "li",
          null,
          el(
            "button",
            {
              type: "button",
              dataset: { id: node.id },
              onclick: () => {
                box.hidden = true;
                load(node.id);
              },
            },
            el("span", { text: `${node.name}${alias}` }),
            el("span", { class: "meta", text: meta }),
          ),
        ),
      );
    }
    return items;
  }

  // ---------------------------------------------------------------- side panel

  function attributeRows(doc, specs) {
    const rows = [];
    const add = (name, value) =>
      rows.push(el("tr", null, el("th", { text: name }), el("td", { text: value })));
    const attrs = doc.attributes || {};
    for (const [key, value] of Object.entries(attrs)) {
      const spec = specs[key] || {};
      add(spec.label_zh || key, formatValue(value, spec.unit));
    }
    if (doc.valid_from || doc.valid_to) {
      add("起止日期", `${doc.valid_from || "…"} 至 ${doc.valid_to || "今"}`);
    }
    return rows;
  }

  function sourceList(sources) {
    if (!sources || !sources.length) return el("p", { class: "muted", text: "无来源记录" });
    return el(
      "ol",
      { class: "sources" },
      sources.map((source) => {
        const kind = SOURCE_KINDS[source.kind] || source.kind || "来源";
        const doc = source.document;
        const isArticle = source.kind === "article" && doc;
        return el(
          "li",
          { class: "source" },
          source.quote ? el("blockquote", { class: "quote", text: source.quote }) : null,
          el(
            "div",
            { class: "source-doc" },
            `${kind}`,
            source.by ? ` · 决策人:${source.by}` : null,
            doc ? " · 出处:" : null,
            isArticle
              ? el("a", {
                  href: `/v1/documents/${encodeURIComponent(doc)}`,
                  target: "_blank",
                  rel: "noopener",
                  class: "document-link",
                  dataset: { document: doc },
                  text: doc,
                })
              : doc
                ? el("span", { class: "document-id", text: doc })
                : null,
            isArticle
              ? el("button", {
                  type: "button",
                  class: "link-button",
                  text: "查看原文",
                  onclick: () => openDocument(doc, source.quote),
                })
              : null,
          ),
        );
      }),
    );
  }

  function renderDetail(id) {
    const doc = state.docs.get(id);
    const panel = $("detail-panel");
    if (!doc) {
      panel.hidden = true;
      return;
    }
    const spec = state.labels[doc.label] || { attributes: {} };
    const badge = el("span", { class: "badge coloured", text: labelZh(doc.label) });
    badge.style.background = baseColour(doc);
    const attrs = attributeRows(doc, spec.attributes);
    if (doc.aliases && doc.aliases.length) {
      attrs.unshift(el("tr", null, el("th", { text: "别名" }), el("td", { text: doc.aliases.join("、") })));
    }
    const figures = (doc.figures || []).map((f) =>
      el(
        "tr",
        { title: f.quote || "" },
        el("th", { text: f.label || f.metric }),
        el("td", { text: `${formatValue(f.value, f.unit)}${f.as_of ? `(${f.as_of})` : ""}` }),
      ),
    );
    const neighbours = [];
    if (cy.getElementById(id).length) {
      cy.getElementById(id)
        .connectedEdges()
        .forEach((edge) => {
          const other = edge.source().id() === id ? edge.target().id() : edge.source().id();
          const arrow = edge.source().id() === id ? "→" : "←";
          neighbours.push(
            el(
              "li",
              null,
              el("span", { class: "type", text: `${arrow} ${typeZh(edge.data("type"))}` }),
              el("button", {
                type: "button",
                class: "link-button",
                text: nodeName(other),
                onclick: () => select(other),
              }),
              el("button", {
                type: "button",
                class: "link-button",
                text: "(联系详情)",
                onclick: () => selectLink(edge.id()),
              }),
            ),
          );
        });
    }
    const score = state.scores.get(id);
    const metric = $("size-metric").value;
    fill(
      panel,
      el("h2", { id: "detail-title", text: doc.name }),
      el(
        "div",
        { class: "badges" },
        badge,
        doc.kind ? el("span", { class: "badge", text: doc.kind }) : null,
        doc.region_code ? el("span", { class: "badge", text: `区划代码 ${doc.region_code}` }) : null,
        metric && score !== undefined
          ? el("span", { class: "badge", text: `${state.palette.measures[metric]} ${score.toFixed(4)}` })
          : null,
      ),
      el("div", { class: "node-id", text: doc.id }),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", id: "action-expand", text: "展开", onclick: () => expand(id) }),
        id !== state.centre
          ? el("button", { type: "button", id: "action-centre", text: "以此为中心", onclick: () => load(id) })
          : null,
        doc.label === "Village"
          ? el("button", {
              type: "button",
              id: "action-recommend",
              class: "primary",
              text: "推荐结对",
              onclick: () => openRecommendations(id),
            })
          : null,
        ACTOR_LABELS.includes(doc.label)
          ? el("button", {
              type: "button",
              id: "action-history",
              text: "决策记录",
              onclick: () => openHistory(id),
            })
          : null,
      ),
      el("h3", { text: "属性" }),
      attrs.length ? el("table", { class: "attrs" }, attrs) : el("p", { class: "muted", text: "无属性" }),
      figures.length ? el("h3", { text: "数据" }) : null,
      figures.length ? el("table", { class: "attrs" }, figures) : null,
      el("h3", { text: "来源" }),
      sourceList(doc.sources),
      neighbours.length ? el("h3", { text: `联系(${neighbours.length})` }) : null,
      neighbours.length ? el("ul", { class: "links-list" }, neighbours) : null,
    );
    panel.dataset.nodeId = id;
    panel.dataset.linkId = "";
    panel.dataset.kind = "node";
    panel.hidden = false;
  }

  /** A region view draws from short rows: read the full document (sources, attributes) of
   * what is clicked, then show it if it is still the one selected. */
  async function completeDoc(kind, id, shown) {
    const map = kind === "node" ? state.docs : state.links;
    const doc = map.get(id);
    if (!doc || !doc.partial) return;
    const result = await api(`/v1/${kind}s/${encodeURIComponent(id)}`, {
      as_of: $("as-of").value || null,
    });
    if (!result.ok || map.get(id) !== doc) return;
    map.set(id, result.body);
    if (shown()) (kind === "node" ? renderDetail : selectLink)(id);
  }

  function select(id) {
    if (!cy || !cy.getElementById(id).length) return false;
    state.selected = id;
    cy.elements().unselect();
    cy.getElementById(id).select();
    renderDetail(id);
    completeDoc("node", id, () => state.selected === id);
    document.querySelectorAll("#node-list button").forEach((b) => {
      b.classList.toggle("selected", b.dataset.id === id);
    });
    return true;
  }

  function selectLink(id) {
    const link = state.links.get(id);
    if (!link) return false;
    completeDoc("link", id, () => $("detail-panel").dataset.linkId === id);
    state.selected = null;
    cy.elements().unselect();
    cy.getElementById(id).select();
    const specs = state.linkAttrs[link.type] || {};
    const rows = attributeRows(link, specs);
    const strength = state.strengths.get(id);
    if (strength !== undefined) {
      rows.unshift(el("tr", null, el("th", { text: "联系强度" }), el("td", { text: strength.toFixed(3) })));
    }
    const panel = $("detail-panel");
    fill(
      panel,
      el("h2", { id: "detail-title", text: typeZh(link.type) }),
      el(
        "p",
        null,
        el("button", { type: "button", class: "link-button", text: nodeName(link.source), onclick: () => select(link.source) }),
        " → ",
        el("button", { type: "button", class: "link-button", text: nodeName(link.target), onclick: () => select(link.target) }),
      ),
      el("div", { class: "node-id", text: link.id }),
      el("h3", { text: "属性" }),
      rows.length ? el("table", { class: "attrs" }, rows) : el("p", { class: "muted", text: "无属性" }),
      el("h3", { text: "来源" }),
      sourceList(link.sources),
    );
    panel.dataset.nodeId = "";
    panel.dataset.linkId = id;
    panel.dataset.kind = "link";
    panel.hidden = false;
    return true;
  }

  function clearSelection() {
    state.selected = null;
    cy.elements().unselect();
    $("detail-panel").hidden = true;
    document.querySelectorAll("#node-list button.selected").forEach((b) => b.classList.remove("selected"));
  }

  async function openDocument(documentId, quote) {
    const dialog = $("doc-dialog");
    $("doc-title").textContent = "原文加载中…";
    $("doc-meta").textContent = documentId;
    $("doc-text").replaceChildren();
    if (!dialog.open) dialog.showModal();
    const result = await api(`/v1/documents/${encodeURIComponent(documentId)}`);
    if (!result.ok) {
      $("doc-title").textContent = "无法加载原文";
      $("doc-text").textContent = problemText(result);
      return;
    }
    const doc = result.body;
    $("doc-title").textContent = doc.title || documentId;
    $("doc-meta").textContent = [doc.publisher, doc.date, documentId].filter(Boolean).join(" · ");
    const text = String(doc.text || "");
    const at = quote ? text.indexOf(quote) : -1;
    if (at < 0) {
      $("doc-text").textContent = text;
      return;
    }
    const mark = el("mark", { text: quote });
    $("doc-text").replaceChildren(text.slice(0, at), mark, text.slice(at + quote.length));
    mark.scrollIntoView({ block: "center" });
  }

  // ---------------------------------------------------------------- 推荐结对

  function recommendMessage(text, kind) {
    const box = $("recommend-message");
    if (!text) {
      box.hidden = true;
      box.textContent = "";
      box.dataset.kind = "";
      return;
    }
    box.textContent = text;
    box.className = `notice message ${kind || "info"}`;
    box.dataset.kind = kind || "info";
    box.hidden = false;
  }

  function reasonRows(reasons) {
    return el(
      "ul",
      { class: "reasons" },
      (reasons || []).map((r) =>
        el(
          "li",
          null,
          el("b", { text: REASONS[r.name] || r.name }),
          typeof r.value === "number" ? `(${r.value.toFixed(2)})` : "",
          r.explanation ? `:${r.explanation}` : "",
        ),
      ),
    );
  }

  function candidateRow(targetId, c) {
    const partner = c.partner || {};
    const score = typeof c.score === "number" ? c.score.toFixed(2) : "";
    const marked = c.judgement && c.judgement.decision === "unsure";
    const note = el("input", {
      type: "text",
      class: "judge-note",
      maxlength: 2000,
      placeholder: "备注(可选)",
      "aria-label": `对 ${partner.name || partner.id} 的备注`,
    });
    const buttons = [];
    const decide = (decision) => () =>
      judge(targetId, partner, decision, note.value.trim(), [note, ...buttons]);
    buttons.push(
      el("button", { type: "button", class: "judge-accept primary", text: "采纳", onclick: decide("accept") }),
      el("button", { type: "button", class: "judge-reject", text: "否决", onclick: decide("reject") }),
      el("button", { type: "button", class: "judge-unsure", text: "待定", onclick: decide("unsure") }),
    );
    return el(
      "li",
      { class: "candidate", dataset: { id: partner.id || "", judgement: marked ? "unsure" : "" } },
      el(
        "div",
        { class: "candidate-head" },
        el("strong", { text: partner.name || partner.id }),
        el("span", { class: "muted", text: ` ${labelZh(partner.label)}` }),
        marked
          ? el("span", {
              class: "badge unsure",
              title: c.judgement.decided_at ? `标记于 ${formatTime(c.judgement.decided_at)}` : null,
              text: "待定",
            })
          : null,
        el("span", { class: "score", text: score ? `得分 ${score}` : "" }),
        partner.id
          ? el("button", {
              type: "button",
              class: "link-button",
              text: "在图中显示",
              onclick: () => showPartner(targetId, partner.id),
            })
          : null,
      ),
      reasonRows(c.reasons),
      partner.id ? el("div", { class: "judge" }, note, buttons) : null,
    );
  }

  /** Open (or, with keepMessage, refresh) the ranked partners of a village. */
  async function openRecommendations(id, keepMessage) {
    const panel = $("recommend-panel");
    const body = $("recommend-body");
    state.recommendTarget = id;
    $("recommend-target").textContent = `· ${nodeName(id)}`;
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
    panel.dataset.state = "loading";
    panel.dataset.target = id;
    if (keepMessage !== true) recommendMessage(null);
    body.replaceChildren(el("p", { class: "muted", text: "正在计算推荐…" }));
    const result = await api("/v1/recommendations/partners", { target: id, top: 10 }, { fresh: true });
    if (state.recommendTarget !== id) return;
    if (result.ok) {
      const listing = (result.body && result.body.candidates) || {};
      const candidates = listed(listing);
      const total = Number(listing.total || 0);
      state.recommendRelation = (result.body && result.body.relation) || "pairing";
      const rejected = Number((result.body && result.body.excluded_rejected) || 0);
      const excluded = rejected
        ? el("span", { class: "excluded", text: ` · 已排除 ${rejected} 个否决` })
        : null;
      const history = el("button", {
        type: "button",
        class: "link-button",
        id: "recommend-history",
        text: "决策记录",
        onclick: () => openHistory(id),
      });
      if (!candidates.length) {
        panel.dataset.state = "empty";
        body.replaceChildren(
          el("p", { class: "notice", text: "暂无合适的结对对象。" }),
          el("p", { class: "muted intro" }, excluded, " ", history),
        );
        return;
      }
      panel.dataset.state = "ok";
      body.replaceChildren(
        el(
          "p",
          { class: "muted intro" },
          `为 ${nodeName(id)} 推荐的结对对象(按得分排序`,
          total > candidates.length ? `,共 ${total} 个中的前 ${candidates.length} 个` : "",
          ")",
          excluded,
          " ",
          history,
        ),
        el(
          "ol",
          { class: "candidates" },
          candidates.map((c) => candidateRow(id, c)),
        ),
      );
      return;
    }
    const problem = result.body || {};
    if (result.status === 404 && !problem.field) {
      panel.dataset.state = "unavailable";
      body.replaceChildren(
        el("p", { class: "notice", text: "暂无推荐服务:本服务尚未提供结对推荐接口。" }),
      );
    } else if (result.status === 404) {
      panel.dataset.state = "error";
      body.replaceChildren(el("p", { class: "notice error", text: `未找到该村:${problemText(result)}` }));
    } else {
      panel.dataset.state = "error";
      body.replaceChildren(
        el("p", { class: "notice error", text: `推荐服务暂不可用:${problemText(result)}` }),
      );
    }
  }

  function judgeProblem(result) {
    const detail = problemText(result);
    if (result.status === 0) return `提交失败:无法连接服务(${detail})`;
    if (result.status === 401) return `密钥无效,无法写入决策(401):${detail}`;
    if (result.status === 403) return `此密钥无权写入决策(403):${detail}`;
    if (result.status === 409) return `无法提交,与现有数据冲突(409):${detail}`;
    return `提交失败(${result.status}):${detail}`;
  }

  /** Record a planner's judgement of a proposed pair; accept writes the link. Without a
   * key nothing is sent. */
  async function judge(targetId, partner, decision, note, controls) {
    const key = apiKey();
    const name = partner.name || partner.id;
    if (!key) {
      recommendMessage(
        "写入决策需要 API 密钥:请先在上方“密钥”框中输入(只保存在本标签页,关闭即清除)。",
        "error",
      );
      $("api-key").focus();
      return false;
    }
    busy(1);
    controls.forEach((c) => (c.disabled = true));
    try {
      recommendMessage(`正在提交:${DECISIONS[decision]} ${name}…`, "info");
      const body = { target: targetId, partner: partner.id, decision };
      if (note) body.note = note;
      if (state.recommendRelation) body.relation = state.recommendRelation;
      const result = await api("/v1/recommendations/judgements", null, {
        method: "POST",
        body,
        key,
      });
      if (!result.ok) {
        recommendMessage(judgeProblem(result), "error");
        controls.forEach((c) => (c.disabled = false));
        return false;
      }
      const link = result.body && result.body.link;
      if (decision === "accept") {
        const names = { [targetId]: nodeName(targetId), [partner.id]: name };
        const ends = link ? `(${names[link.source] || link.source} → ${names[link.target] || link.target})` : "";
        recommendMessage(
          link ? `已采纳:写入 ${typeZh(link.type)} 关系${ends}` : `已采纳:${name}`,
          "ok",
        );
      } else if (decision === "reject") {
        recommendMessage(`已否决:${name},今后不再推荐这一对。`, "ok");
      } else {
        recommendMessage(`已标记待定:${name}`, "ok");
      }
      if (state.recommendTarget === targetId) await openRecommendations(targetId, true);
      if (link) await drawDecisionLink(targetId, link);
      if (state.historyNode === targetId || state.historyNode === partner.id) {
        await openHistory(state.historyNode);
      }
      return true;
    } finally {
      busy(-1);
    }
  }

  /** After an accept: refresh the drawn neighbourhoods so the new link appears (adding it
   * and its ends if the view did not reach them), then show its provenance. */
  async function drawDecisionLink(anchorId, link) {
    await refreshStats();
    if (state.centre) await reload();
    const params = viewParams();
    const shown = !params.link_type || params.link_type.includes(link.type);
    const valid = !params.as_of || !link.valid_from || link.valid_from <= params.as_of;
    if (!cy.getElementById(link.id).length && shown && valid && !params.noLinks) {
      const docs = [];
      for (const end of [link.source, link.target]) {
        if (cy.getElementById(end).length) continue;
        const result = await api(`/v1/nodes/${encodeURIComponent(end)}`);
        if (result.ok) docs.push(result.body);
      }
      addSubgraph(docs, [link], anchorId);
      await refreshMetrics();
      runLayout(false);
      cy.fit(undefined, 40);
      afterChange();
    }
    if (!state.links.has(link.id) || !(state.links.get(link.id).sources || []).length) {
      state.links.set(link.id, link);
    }
    if (cy.getElementById(link.id).length) selectLink(link.id);
  }

  // ---------------------------------------------------------------- 决策记录

  async function openHistory(id, cursor) {
    const panel = $("history-panel");
    const body = $("history-body");
    state.historyNode = id;
    $("history-target").textContent = `· ${nodeName(id)}`;
    panel.hidden = false;
    panel.dataset.target = id;
    panel.dataset.state = "loading";
    if (!cursor) body.replaceChildren(el("p", { class: "muted", text: "正在加载决策记录…" }));
    const params = { node: id, limit: 50, cursor };
    const key = apiKey();
    let result = await api("/v1/recommendations/judgements", params, { key, fresh: true });
    let keyRefused = false;
    if (result.status === 401 && key) {
      // A wrong key closes reads too: show the record without names and notes.
      keyRefused = true;
      result = await api("/v1/recommendations/judgements", params, { fresh: true });
    }
    if (state.historyNode !== id) return;
    if (!result.ok) {
      panel.dataset.state = "error";
      body.replaceChildren(
        el("p", { class: "notice error", text: `无法加载决策记录:${problemText(result)}` }),
      );
      return;
    }
    const items = result.body.items || [];
    const list = cursor ? body.querySelector("ol.history") : null;
    const ol = list || el("ol", { class: "history" });
    const superseded = new Set(
      Array.from(body.querySelectorAll("li.judgement"))
        .map((li) => li.dataset.supersedes)
        .concat(items.map((j) => j.supersedes))
        .filter(Boolean),
    );
    for (const j of items) ol.append(historyRow(id, j));
    ol.querySelectorAll("li.judgement").forEach((li) =>
      li.classList.toggle("superseded", superseded.has(li.dataset.id)),
    );
    const rows = ol.querySelectorAll("li.judgement").length;
    const hidden = !key || keyRefused;
    panel.dataset.state = rows ? "ok" : "empty";
    fill(
      body,
      rows
        ? el("p", { class: "muted", text: `共 ${rows} 条决定(按时间先后;灰色为已被后续决定取代)` })
        : el("p", { class: "notice", text: "尚无决策记录。" }),
      rows ? ol : null,
      result.body.next_cursor
        ? el("button", {
            type: "button",
            id: "history-more",
            text: "加载更多",
            onclick: () => openHistory(id, result.body.next_cursor),
          })
        : null,
      keyRefused
        ? el("p", { class: "notice error", text: "密钥无效:决策人和备注未显示。" })
        : hidden && rows
          ? el("p", { class: "muted", text: "输入密钥后可查看决策人和备注。" })
          : null,
    );
  }

  function historyRow(id, j) {
    const other = j.target === id ? j.partner_node : j.target_node;
    const otherName = (other && other.name) || (j.target === id ? j.partner : j.target);
    const decision = el("span", {
      class: `badge decision ${j.decision}`,
      text: DECISIONS[j.decision] || j.decision,
    });
    return el(
      "li",
      {
        class: "judgement",
        dataset: { id: j.id, decision: j.decision, supersedes: j.supersedes || "" },
        title: j.id,
      },
      el(
        "div",
        { class: "judgement-head" },
        el("span", { class: "time", text: formatTime(j.decided_at) }),
        decision,
        el("strong", { class: "partner-name", text: otherName }),
        j.target !== id ? el("span", { class: "muted", text: "(为其推荐)" }) : null,
      ),
      j.decided_by ? el("div", { class: "decided-by", text: `决策人:${j.decided_by}` }) : null,
      j.note ? el("div", { class: "judgement-note", text: `备注:${j.note}` }) : null,
      j.link_id ? el("div", { class: "node-id", text: `写入关系 ${j.link_id}` }) : null,
    );
  }

  async function refreshStats() {
    const stats = await api("/v1/stats", null, { fresh: true });
    if (stats.ok) {
      $("store-info").textContent = `共 ${stats.body.nodes.toLocaleString("zh-CN")} 个节点 · ${stats.body.links.toLocaleString("zh-CN")} 条联系`;
    }
  }

  async function showPartner(villageId, partnerId) {
    if (!cy.getElementById(partnerId).length) {
      const result = await api(`/v1/nodes/${encodeURIComponent(partnerId)}`);
      if (!result.ok) {
        status(`无法显示 ${partnerId}:${problemText(result)}`, true);
        return;
      }
      addSubgraph([result.body], [], villageId);
      applyStyles();
      runLayout(false);
      afterChange();
    }
    select(partnerId);
  }

  // ---------------------------------------------------------------- export

  function savePng() {
    if (!cy || cy.nodes().length === 0) {
      status("图中没有节点,无法保存", true);
      return false;
    }
    const blob = cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" });
    const url = URL.createObjectURL(blob);
    const name = state.centre ? nodeName(state.centre).replace(/[\\/:*?"<>|“”]/g, "") : "图谱";
    const link = el("a", { href: url, download: `党建联建图谱-${name}.png` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status("已保存为PNG");
    return true;
  }

  // ---------------------------------------------------------------- set-up

  function buildFilters() {
    const box = $("link-type-filters");
    box.replaceChildren();
    for (const spec of state.linkTypes) {
      const line = el("span", { class: "swatch-line" });
      line.style.background = state.palette.link_colours[spec.type] || "#bfbfbf";
      box.append(
        el(
          "label",
          { title: spec.type },
          el("input", { type: "checkbox", value: spec.type, checked: true, onchange: reload }),
          line,
          spec.label_zh,
        ),
      );
    }
  }

  function buildLegend() {
    const legend = $("legend");
    legend.replaceChildren();
    for (const [label, spec] of Object.entries(state.labels)) {
      const colour = state.palette.label_colours[label];
      if (!colour || spec.sensitive) continue;
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour;
      legend.append(el("li", null, swatch, spec.label_zh));
    }
    const joint = el("span", { class: "swatch square" });
    joint.style.background = state.palette.kind_colours[state.palette.joint_body_kinds[0]] || NEUTRAL;
    legend.append(el("li", null, joint, "联建组织(联合党委、党建联盟等)"));
    const coop = el("span", { class: "swatch" });
    coop.style.background = state.palette.kind_colours["合作社"] || NEUTRAL;
    legend.append(el("li", null, coop, "合作社、强村公司等"));
  }

  async function boot() {
    if (typeof cytoscape !== "function") {
      status("图形库未能加载(/explorer/static/vendor/cytoscape.min.js)", true);
      return;
    }
    initGraph();
    const [schema, config, stats] = await Promise.all([
      api("/v1/schema"),
      api("/explorer/config.json"),
      api("/v1/stats"),
    ]);
    if (!schema.ok || !config.ok) {
      status(`无法加载模式定义:${problemText(schema.ok ? config : schema)}`, true);
      return;
    }
    state.palette = config.body;
    for (const spec of schema.body.node_labels) {
      const attributes = {};
      spec.attributes.forEach((a) => (attributes[a.name] = a));
      state.labels[spec.label] = { label_zh: spec.label_zh, sensitive: spec.sensitive, attributes };
    }
    state.linkTypes = schema.body.link_types.map((t) => ({
      type: t.type,
      label_zh: t.label_zh,
      structural: t.structural,
    }));
    for (const t of schema.body.link_types) {
      const attributes = {};
      t.attributes.forEach((a) => (attributes[a.name] = a));
      state.linkAttrs[t.type] = attributes;
    }
    if (stats.ok) {
      $("store-info").textContent = `共 ${stats.body.nodes.toLocaleString("zh-CN")} 个节点 · ${stats.body.links.toLocaleString("zh-CN")} 条联系`;
    }
    buildFilters();
    buildLegend();

    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      search($("search-input").value);
    });
    document.addEventListener("click", (event) => {
      if (!$("search-form").contains(event.target)) $("search-results").hidden = true;
    });
    document.querySelectorAll(".example").forEach((button) =>
      button.addEventListener("click", () => search(button.dataset.query)),
    );
    $("depth").addEventListener("change", reload);
    $("as-of").addEventListener("change", reload);
    $("colour-by-kind").addEventListener("change", applyStyles);
    $("size-metric").addEventListener("change", async () => {
      await refreshMetrics();
      updateStatus();
      if (state.selected) renderDetail(state.selected);
    });
    $("width-by-strength").addEventListener("change", refreshMetrics);
    $("filters-all").addEventListener("click", () => {
      document.querySelectorAll("#link-type-filters input").forEach((i) => (i.checked = true));
      reload();
    });
    $("filters-none").addEventListener("click", () => {
      document.querySelectorAll("#link-type-filters input").forEach((i) => (i.checked = false));
      reload();
    });
    $("relayout").addEventListener("click", () => {
      runLayout(true);
      cy.fit(undefined, 40);
    });
    $("save-png").addEventListener("click", savePng);
    $("clear").addEventListener("click", () => {
      leaveRegion();
      cy.elements().remove();
      state.centre = null;
      state.loaded = [];
      state.focus = null;
      clearSelection();
      $("recommend-panel").hidden = true;
      $("history-panel").hidden = true;
      $("history-panel").dataset.state = "closed";
      state.historyNode = null;
      history.replaceState(null, "", location.pathname);
      afterChange();
    });
    $("recommend-close").addEventListener("click", () => {
      $("recommend-panel").hidden = true;
      $("recommend-panel").dataset.state = "closed";
      state.recommendTarget = null;
    });
    $("history-close").addEventListener("click", () => {
      $("history-panel").hidden = true;
      $("history-panel").dataset.state = "closed";
      state.historyNode = null;
    });
    $("api-key").value = rememberedKey();
    $("api-key").addEventListener("input", () => rememberKey($("api-key").value));
    $("api-key-clear").addEventListener("click", () => {
      $("api-key").value = "";
      rememberKey("");
      recommendMessage("已清除密钥。", "info");
    });
    $("doc-close").addEventListener("click", () => $("doc-dialog").close());

    updateStatus();
    document.body.dataset.ready = "1";
    $("region-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadRegion($("region-input").value);
    });
    const match = /^#node=(.+)$/.exec(location.hash);
    if (match) await load(decodeURIComponent(match[1]));
    // #nodes=ID1,ID2,…: several nodes together, all selected (links from the dashboard).
    const many = /^#nodes=(.+)$/.exec(location.hash);
    if (many) await loadNodes(many[1].split(",").map((id) => decodeURIComponent(id)));
    // #region=CODE draws a region whole; layout=client, lod=0, webgl=0 and webgl=1 are the
    // benchmark's peers.
    const regionMatch = /^#region=([^&]+)(?:&(.*))?$/.exec(location.hash);
    if (regionMatch) {
      const extra = new URLSearchParams(regionMatch[2] || "");
      $("region-input").value = decodeURIComponent(regionMatch[1]);
      await loadRegion(decodeURIComponent(regionMatch[1]), {
        layout: extra.get("layout") === "client" ? "client" : "server",
        lod: extra.get("lod") !== "0",
        webgl: { 0: "off", 1: "on" }[extra.get("webgl")] || "auto",
        iterations: extra.get("iterations"),
      });
    }
  }

  // ---------------------------------------------------------------- test hook

  window.__explorer = {
    ready: () => document.body.dataset.ready === "1" && state.pending === 0,
    nodeCount: () => (cy ? cy.nodes().length : 0),
    edgeCount: () => (cy ? cy.edges().length : 0),
    nodeIds: () => (cy ? cy.nodes().map((n) => n.id()) : []),
    edgeIds: () => (cy ? cy.edges().map((e) => e.id()) : []),
    centre: () => state.centre,
    /** The nodes #nodes= drew together (all selected), or null. */
    focus: () => (state.focus ? [...state.focus] : null),
    /** Ids of the selected nodes (one after a click; all of them after #nodes=). */
    selectedIds: () => (cy ? cy.nodes(":selected").map((n) => n.id()) : []),
    region: () => (state.region ? { ...state.region } : null),
    loadRegion,
    levelOfDetail,
    /** Model positions of some nodes (where the layout put them, not where they are drawn). */
    positions: (ids) =>
      Object.fromEntries(
        ids
          .map((id) => cy.getElementById(id))
          .filter((n) => n.length)
          .map((n) => [n.id(), { x: n.position("x"), y: n.position("y") }]),
      ),
    zoomTo: (level) => {
      cy.zoom({ level, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
      return cy.zoom();
    },
    selected: () => state.selected,
    search,
    load,
    expand,
    select,
    selectLink,
    openRecommendations,
    openHistory,
    savePng,
    /** Where a node is drawn, relative to the graph container (for real mouse clicks). */
    renderedPosition: (id) => {
      const node = cy.getElementById(id);
      if (!node.length) return null;
      const p = node.renderedPosition();
      return { x: p.x, y: p.y };
    },
    nodeStyle: (id) => {
      const node = cy.getElementById(id);
      return node.length ? { color: node.data("color"), size: node.data("size") } : null;
    },
  };

  boot();
})();

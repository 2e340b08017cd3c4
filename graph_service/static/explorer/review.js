/* 党建联建知识图谱 · 审核队列 (the /review page).
 *
 * Plain modern JavaScript, no build step, nothing from another host: the API under /v1 only.
 * Data is written into the page as text nodes and textContent, never parsed as markup. The
 * API key is shared with the explorer through this tab's sessionStorage only (never a URL).
 * Test hook: window.__review (end of file); document.body.dataset.busy counts requests in
 * flight, dataset.ready is "1" once set up.
 */
"use strict";

(function () {
  const TYPES = {
    duplicate: "疑似重复",
    import_row: "导入行",
    entity: "抽取实体",
    link: "抽取关系",
  };
  const STATUSES = { open: "待审", accepted: "已接受", rejected: "已拒绝", unsure: "不确定" };
  const ORIGINS = { dedup: "查重扫描", import: "表格导入", extraction: "文章抽取" };
  const DECISIONS = { positive: "接受", negative: "拒绝", unsure: "不确定" };
  /** Column names of an import row's values. */
  const VALUE_NAMES = {
    name: "名称",
    town: "乡镇",
    village: "村",
    partner: "结对单位",
    partner_kind: "单位类型",
    partner_label: "单位类别",
    link_type: "联建类型",
    valid_from: "开始日期",
    valid_to: "结束日期",
    contact_person: "联系人",
    contact_phone: "联系电话",
    region_code: "区划代码",
    kind: "类别",
    label: "类型",
    credit_code: "统一社会信用代码",
    note: "备注",
  };
  const ENDS = { name: "名称", partner: "结对单位" };
  const PAGE = 50;

  const state = {
    labels: {}, // label → 中文名
    linkTypes: {}, // type → 中文名
    items: [], // the queue as listed
    cursor: null,
    selected: null, // id of the item selected in the list
    current: null, // the item shown (maybe not in the list: a link's end)
    pending: 0,
    deciding: false,
    statuses: ["open", "unsure"],
  };

  // ---------------------------------------------------------------- helpers

  const { $, el, fill, apiKey, rememberKey, rememberedKey, request } = window.graphServiceDom;

  function busy(delta) {
    state.pending += delta;
    document.body.dataset.busy = String(state.pending);
  }

  /** A request to this service; the key (unless options.anonymous) goes as X-API-Key. */
  function api(path, params, options) {
    const opts = options || {};
    const key = opts.anonymous ? "" : apiKey();
    return request(path, params, { ...opts, key, noStore: true, busy });
  }

  /** A problem+json answer as a sentence: HTTP status, detail, the field it names. */
  function problemText(result) {
    const body = result.body || {};
    const detail = body.detail || body.title || "请求失败";
    const where = body.field ? `(字段 ${body.field})` : "";
    return `HTTP ${result.status}:${detail}${where}`;
  }

  /** The status region (aria-live): kind is info, ok or error. */
  function say(text, kind) {
    const box = $("status");
    box.textContent = text;
    box.dataset.kind = kind || "info";
  }

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
    return state.labels[label] || label || "";
  }

  function typeZh(type) {
    return state.linkTypes[type] || type || "";
  }

  function score(value) {
    const n = Number(value);
    return Number.isFinite(n) ? n.toFixed(2) : "";
  }

  /** A link to the explorer, which opens a node given as #node=<id>. */
  function explorerLink(id, text) {
    if (!id) return null;
    return el("a", {
      class: "explorer-link",
      href: `/explorer#node=${encodeURIComponent(id)}`,
      text: text || "在图谱中查看",
      "aria-label": `在图谱中查看 ${id}`,
    });
  }

  function nodeId(id) {
    return el("span", { class: "node-id", text: id });
  }

  function badge(text, kind) {
    return el("span", { class: `badge ${kind || ""}`.trim(), text });
  }

  /** A table of [name, value] rows (values are text or nodes). */
  function table(rows, caption) {
    const body = rows
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([name, value]) => el("tr", null, el("th", { scope: "row", text: name }), el("td", null, value)));
    return el("table", { class: "attrs" }, caption ? el("caption", { text: caption }) : null, el("tbody", null, body));
  }

  /** ``text`` with ``ranges`` ([start, end) offsets into it) wrapped in <mark>. */
  function marked(text, ranges) {
    const sorted = ranges
      .filter(([s, e]) => Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e <= text.length && s < e)
      .sort((x, y) => x[0] - y[0]);
    const parts = [];
    let at = 0;
    for (const [start, end, kind] of sorted) {
      if (start < at) continue; // overlapping: the first wins
      if (start > at) parts.push(document.createTextNode(text.slice(at, start)));
      parts.push(el("mark", { class: kind || "mention", text: text.slice(start, end) }));
      at = end;
    }
    if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
    return el("blockquote", { class: "sentence" }, parts);
  }

  function explanation(list) {
    const lines = (list || []).filter(Boolean);
    if (!lines.length) return el("span", { class: "muted", text: "无说明" });
    return el("ul", { class: "explanation" }, lines.map((line) => el("li", { text: line })));
  }

  function features(values) {
    const entries = Object.entries(values || {});
    if (!entries.length) return null;
    return el(
      "details",
      { class: "features" },
      el("summary", { text: "匹配特征" }),
      table(entries.map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)])),
    );
  }

  // ---------------------------------------------------------------- the queue

  function itemTitle(item) {
    const s = item.subject || {};
    switch (item.type) {
      case "duplicate":
        return `${(s.a || {}).name || "?"} ↔ ${(s.b || {}).name || "?"}`;
      case "import_row":
        return `第 ${s.row ?? "?"} 行:${s.name || ""}`;
      case "entity":
        return (s.proposal || {}).name || item.id;
      case "link": {
        const p = s.proposal || {};
        return `${p.source_name || "?"} → ${p.target_name || "?"}(${typeZh(p.type)})`;
      }
      default:
        return item.id;
    }
  }

  function filters() {
    const statuses = Array.from(document.querySelectorAll('#filters input[name="status"]:checked')).map(
      (i) => i.value,
    );
    return {
      status: statuses,
      item_type: $("filter-type").value,
      origin: $("filter-origin").value,
      region: $("filter-region").value.trim(),
    };
  }

  async function loadQueue(more) {
    if (!apiKey()) {
      state.items = [];
      state.cursor = null;
      renderQueue();
      showItem(null);
      say("请输入 API 密钥以读取审核队列。", "error");
      return false;
    }
    const region = $("filter-region");
    if (!region.checkValidity()) {
      say("区划代码应为 2 至 12 位数字。", "error");
      region.focus();
      return false;
    }
    const wanted = filters();
    const params = { ...wanted, limit: PAGE, cursor: more ? state.cursor : null };
    say("正在读取审核队列…", "info");
    const result = await api("/v1/review", params);
    if (!result.ok) {
      if (!more) {
        state.items = [];
        state.cursor = null;
        renderQueue();
        showItem(null);
      }
      say(`无法读取审核队列(${problemText(result)})`, "error");
      return false;
    }
    state.statuses = wanted.status.length ? wanted.status : ["open", "unsure"];
    const items = result.body.items || [];
    state.items = more ? state.items.concat(items) : items;
    state.cursor = result.body.next_cursor || null;
    renderQueue();
    if (!more) {
      const keep = state.items.find((i) => i.id === state.selected);
      if (keep) select(keep.id, false);
      else if (state.items.length) select(state.items[0].id, false);
      else showItem(null);
    }
    say(
      state.items.length
        ? `共 ${state.items.length} 条${state.cursor ? "(还有更多)" : ""}。用 j / k 切换条目。`
        : "队列中没有符合条件的条目。",
      "info",
    );
    return true;
  }

  function renderQueue() {
    const list = $("queue-list");
    fill(
      list,
      state.items.map((item) => {
        const current = item.id === state.selected;
        const button = el(
          "button",
          {
            type: "button",
            class: "queue-item",
            dataset: { id: item.id, type: item.type || "", status: item.status },
            "aria-current": current ? "true" : null,
            tabindex: current || (!state.selected && item === state.items[0]) ? "0" : "-1",
            onclick: () => select(item.id, true),
          },
          el("span", { class: "queue-title", text: itemTitle(item) }),
          el(
            "span",
            { class: "queue-meta" },
            badge(TYPES[item.type] || item.type, `type-${item.type}`),
            badge(STATUSES[item.status] || item.status, `status-${item.status}`),
            item.region_code ? el("span", { class: "muted", text: item.region_code }) : null,
          ),
        );
        return el("li", { class: current ? "selected" : null, dataset: { id: item.id } }, button);
      }),
    );
    $("queue-count").textContent = state.items.length ? `(${state.items.length})` : "";
    $("queue-more").hidden = !state.cursor;
  }

  function select(id, focus) {
    const item = state.items.find((i) => i.id === id);
    if (!item) return false;
    state.selected = id;
    document.querySelectorAll("#queue-list button.queue-item").forEach((button) => {
      const on = button.dataset.id === id;
      if (on) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
      button.tabIndex = on ? 0 : -1;
      button.parentElement.classList.toggle("selected", on);
      if (on && focus) {
        button.focus();
        button.scrollIntoView({ block: "nearest" });
      }
    });
    showItem(item);
    return true;
  }

  /** j / k: the next or previous item of the list, selected and focused. */
  function move(delta) {
    if (!state.items.length) {
      say("队列为空。", "info");
      return;
    }
    const at = state.items.findIndex((i) => i.id === state.selected);
    let next = at < 0 ? 0 : at + delta;
    next = Math.max(0, Math.min(state.items.length - 1, next));
    select(state.items[next].id, true);
  }

  // ---------------------------------------------------------------- one item

  function showItem(item) {
    state.current = item;
    $("empty").hidden = Boolean(item);
    $("item").hidden = !item;
    if (!item) return;
    $("item").dataset.id = item.id;
    $("item").dataset.type = item.type || "";
    $("item").dataset.status = item.status;
    $("item-title").textContent = itemTitle(item);
    const origin = item.origin || {};
    const from = [ORIGINS[origin.source] || origin.source || "", origin.file, origin.sheet, origin.title]
      .filter(Boolean)
      .join(" · ");
    fill(
      $("item-meta"),
      badge(TYPES[item.type] || item.type, `type-${item.type}`),
      badge(STATUSES[item.status] || item.status, `status-${item.status}`),
      from ? ` 来源:${from}` : "",
      item.region_code ? ` · 区划 ${item.region_code}` : "",
      item.created_by ? ` · 提出人 ${item.created_by}` : "",
      item.created_at ? ` · ${formatTime(item.created_at)}` : "",
      " · ",
      nodeId(item.id),
    );
    fill($("item-extra"));
    const renderers = { duplicate: showDuplicate, import_row: showImportRow, entity: showEntity, link: showLink };
    (renderers[item.type] || showUnknown)(item);
    showDecision(item);
    const decided = item.status === "accepted" || item.status === "rejected";
    for (const id of ["decide-positive", "decide-negative", "decide-unsure"]) {
      $(id).disabled = decided;
    }
    $("decision-note").value = "";
  }

  function headings(left, right) {
    $("evidence-heading").textContent = left;
    $("candidates-heading").textContent = right;
  }

  function showDecision(item) {
    const box = $("decision-info");
    const d = item.decision;
    if (!d) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.hidden = false;
    fill(
      box,
      el("strong", { text: `决定:${DECISIONS[d.decision] || d.decision || ""}` }),
      d.by ? ` · ${d.by}` : "",
      d.at ? ` · ${formatTime(d.at)}` : "",
      d.note ? ` · 备注:${d.note}` : "",
      d.canonical ? [" · 保留 ", nodeId(d.canonical), " ", explorerLink(d.canonical)] : null,
      d.node ? [" · 节点 ", nodeId(d.node), " ", explorerLink(d.node)] : null,
      d.undone ? ` · 合并已撤销(${d.undone})` : "",
    );
  }

  function nodeRows(node) {
    return [
      ["名称", node.name],
      ["编号", node.id ? el("span", null, nodeId(node.id), " ", explorerLink(node.id)) : ""],
      ["类型", labelZh(node.label) || "—"],
      ["类别", node.kind || "—"],
      ["区划代码", node.region_code || "—"],
      ["别名", (node.aliases || []).join("、") || "无"],
    ];
  }

  function showDuplicate(item) {
    const s = item.subject || {};
    const a = s.a || {};
    const b = s.b || {};
    const match = s.match || {};
    headings("节点 A", "节点 B");
    fill($("evidence"), table(nodeRows(a)));
    fill($("candidates"), table(nodeRows(b)));
    const decided = item.status === "accepted" || item.status === "rejected";
    const keep = el(
      "fieldset",
      { class: "canonical", disabled: decided },
      el("legend", { text: "接受时保留哪个节点(另一个并入)" }),
      el("label", null, el("input", { type: "radio", name: "canonical", value: "", checked: true }), " 自动(保留联系较多的)"),
      el("label", null, el("input", { type: "radio", name: "canonical", value: a.id || "" }), ` 保留 A:${a.name || a.id}`),
      el("label", null, el("input", { type: "radio", name: "canonical", value: b.id || "" }), ` 保留 B:${b.name || b.id}`),
    );
    fill(
      $("item-extra"),
      el(
        "section",
        { class: "match", "aria-label": "匹配依据" },
        el("h3", null, "匹配得分 ", el("span", { class: "score", text: score(match.score) })),
        match.matched ? el("p", { class: "muted", text: `匹配名称:${match.matched}` }) : null,
        explanation(match.explanation || (item.evidence || {}).explanation),
        features(match.features || (item.evidence || {}).features),
      ),
      keep,
    );
  }

  /** The candidates table: a radio per candidate (and 新建), score and explanation. */
  function candidateTable(candidates, preferred, allowNew, disabled) {
    const ids = candidates.map((c) => (c.node || {}).id);
    let chosen = preferred && ids.includes(preferred) ? preferred : ids[0] || (allowNew ? "new" : "");
    if (preferred === "new" && allowNew) chosen = "new";
    const rows = candidates.map((c, index) => {
      const node = c.node || {};
      const radioId = `choice-${index}`;
      return el(
        "tr",
        { dataset: { id: node.id || "" } },
        el(
          "td",
          null,
          el("input", {
            type: "radio",
            name: "choice",
            id: radioId,
            value: node.id || "",
            checked: node.id === chosen,
            disabled,
          }),
        ),
        el(
          "td",
          null,
          el("label", { for: radioId, text: node.name || node.id }),
          el("br"),
          nodeId(node.id || ""),
          " ",
          explorerLink(node.id),
        ),
        el("td", { text: [labelZh(node.label), node.kind].filter(Boolean).join(" · ") }),
        el("td", { text: node.region_code || "" }),
        el("td", { class: "score", text: score(c.score) }),
        el("td", null, explanation(c.explanation), features(c.features)),
      );
    });
    if (!candidates.length) {
      rows.push(el("tr", { class: "none-row" }, el("td", { colspan: "6", class: "muted", text: "没有候选节点。" })));
    }
    if (allowNew) {
      rows.push(
        el(
          "tr",
          { class: "new-row", dataset: { id: "new" } },
          el(
            "td",
            null,
            el("input", { type: "radio", name: "choice", id: "choice-new", value: "new", checked: chosen === "new", disabled }),
          ),
          el("td", { colspan: "5" }, el("label", { for: "choice-new", text: "新建(不是以上任何一个)" })),
        ),
      );
    }
    return el(
      "table",
      { class: "candidates" },
      el("caption", { class: "sr-only", text: "候选节点:选择一个后接受" }),
      el(
        "thead",
        null,
        el(
          "tr",
          null,
          ["选择", "名称", "类型", "区划", "得分", "说明"].map((h) => el("th", { scope: "col", text: h })),
        ),
      ),
      el("tbody", null, rows),
    );
  }

  function showImportRow(item) {
    const s = item.subject || {};
    const evidence = item.evidence || {};
    const origin = item.origin || {};
    headings("导入行", "候选");
    const values = Object.entries(s.values || {}).map(([k, v]) => [
      VALUE_NAMES[k] || k,
      v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v),
    ]);
    fill(
      $("evidence"),
      table(
        [
          ["文件", evidence.file || origin.file],
          ["工作表", evidence.sheet || origin.sheet],
          ["行号", String(evidence.row ?? s.row ?? "")],
          ["表格类型", s.table_kind === "links" ? "关系表" : s.table_kind === "nodes" ? "节点表" : s.table_kind],
        ],
        "出处",
      ),
      table(values, "该行的值"),
      el("p", { class: "pending-end" }, `待确认:${ENDS[s.end] || s.end || ""} “${s.name || ""}”`, s.label ? `(${labelZh(s.label)})` : ""),
    );
    const decided = item.status === "accepted" || item.status === "rejected";
    fill($("candidates"), candidateTable(s.candidates || [], null, true, decided));
  }

  /** Offsets of the proposal's mentions inside the evidence sentence. */
  function mentionRanges(proposal, evidence) {
    const sentence = String(evidence.sentence || "");
    const start = Number(evidence.start) || 0;
    const ranges = (proposal.mentions || [])
      .map(([s, e]) => [s - start, e - start, "mention"])
      .filter(([s, e]) => s >= 0 && e <= sentence.length);
    if (!ranges.length && proposal.name) {
      const at = sentence.indexOf(proposal.name);
      if (at >= 0) ranges.push([at, at + proposal.name.length, "mention"]);
    }
    return ranges;
  }

  function showEntity(item) {
    const s = item.subject || {};
    const p = s.proposal || {};
    const evidence = item.evidence || p.evidence || {};
    headings("原文证据", "候选");
    fill(
      $("evidence"),
      marked(String(evidence.sentence || ""), mentionRanges(p, evidence)),
      table([
        ["文章", s.document_id || evidence.document_id],
        ["名称", p.name],
        ["类型", labelZh(p.label)],
        ["类别", p.kind],
        ["区划代码", p.region_code],
        ["置信度", score(p.confidence)],
        ["词典命中", p.node_id ? el("span", null, nodeId(p.node_id), " ", explorerLink(p.node_id)) : "无"],
      ]),
    );
    const decided = item.status === "accepted" || item.status === "rejected";
    fill($("candidates"), candidateTable(s.candidates || [], p.node_id || null, true, decided));
  }

  function showLink(item) {
    const s = item.subject || {};
    const p = s.proposal || {};
    const evidence = item.evidence || p.evidence || {};
    const sentence = String(evidence.sentence || "");
    const ranges = [];
    for (const [name, kind] of [
      [p.source_name, "end"],
      [p.target_name, "end"],
      [p.phrase, "phrase"],
    ]) {
      const at = name ? sentence.indexOf(name) : -1;
      if (at >= 0) ranges.push([at, at + name.length, kind]);
    }
    headings("原文证据", "两端");
    fill(
      $("evidence"),
      marked(sentence, ranges),
      table([
        ["文章", s.document_id || evidence.document_id],
        ["关系", `${typeZh(p.type)}(${p.type || ""})`],
        ["触发词", p.phrase],
        ["开始日期", p.valid_from],
        ["置信度", score(p.confidence)],
        [
          "数字",
          (p.figures || []).map((f) => Object.values(f).join(" ")).join(";"),
        ],
      ]),
    );
    const ends = el("div", { class: "ends" });
    fill($("candidates"), ends);
    const box = (role, name, id) => {
      const card = el(
        "section",
        { class: "end", dataset: { item: id || "" }, "aria-label": `${role}:${name || ""}` },
        el("h4", { text: `${role}:${name || "?"}` }),
        el("p", { class: "end-state muted", text: "正在读取该端的条目…" }),
        id
          ? el("button", { type: "button", class: "open-end", text: `打开${role}条目`, onclick: () => openItem(id) })
          : null,
      );
      ends.append(card);
      return card;
    };
    const cards = [
      [box("起点", p.source_name, s.source_item), s.source_item],
      [box("终点", p.target_name, s.target_item), s.target_item],
    ];
    fill($("item-extra"), el("p", { class: "hint", text: "先接受两端的实体条目,再接受这条关系。" }));
    for (const [card, id] of cards) {
      if (!id) continue;
      api(`/v1/review/${encodeURIComponent(id)}`).then((result) => {
        if (state.current !== item) return;
        const line = card.querySelector(".end-state");
        if (!result.ok) {
          line.textContent = `无法读取(${problemText(result)})`;
          return;
        }
        const end = result.body;
        const node = (end.decision || {}).node;
        fill(
          line,
          `条目状态:${STATUSES[end.status] || end.status}`,
          node ? [" · 节点 ", nodeId(node), " ", explorerLink(node)] : "",
        );
        card.dataset.status = end.status;
      });
    }
  }

  function showUnknown(item) {
    headings("证据", "内容");
    fill($("evidence"), el("pre", { text: JSON.stringify(item.evidence, null, 2) }));
    fill($("candidates"), el("pre", { text: JSON.stringify(item.subject, null, 2) }));
  }

  /** Show an item by id: selected in the list when listed, else fetched and shown alone. */
  async function openItem(id) {
    if (select(id, true)) return;
    const result = await api(`/v1/review/${encodeURIComponent(id)}`);
    if (!result.ok) {
      say(`无法读取条目 ${id}(${problemText(result)})`, "error");
      return;
    }
    state.selected = null;
    renderQueue();
    showItem(result.body);
    say(`已打开条目 ${itemTitle(result.body)}(${STATUSES[result.body.status] || result.body.status})。`, "info");
    $("item-title").focus();
  }

  // ---------------------------------------------------------------- deciding

  function written(item, decision, body) {
    const title = `「${itemTitle(item)}」`;
    if (decision === "negative") {
      return item.type === "duplicate"
        ? `${title}已拒绝:两者不是同一节点,今后查重不再提出这一对。`
        : `${title}已拒绝:未写入任何内容。`;
    }
    if (decision === "unsure") return `${title}已标记为不确定:未写入,条目留在队列中。`;
    if (body.merge) {
      const m = body.merge;
      const s = item.subject || {};
      const name = (id) => ([s.a, s.b].find((n) => n && n.id === id) || {}).name || id;
      return (
        `${title}已接受:已合并 ${name(m.merged)}(${m.merged})→ ${name(m.canonical)}(${m.canonical}),` +
        `迁移 ${m.links_moved} 条关系,合并 ${m.links_combined} 条重复关系。`
      );
    }
    const parts = [`写入 ${body.nodes_written ?? 0} 个节点`, `${body.links_written ?? 0} 条关系`];
    return `${title}已接受:${parts.join("、")}${body.node ? `,对应节点 ${body.node}` : ""}。`;
  }

  async function decide(decision) {
    const item = state.current;
    if (!item) {
      say("请先从队列中选择一个条目。", "error");
      return;
    }
    if (state.deciding) return;
    if (item.status === "accepted" || item.status === "rejected") {
      say(`该条目已${STATUSES[item.status]},不能再次决定。`, "error");
      return;
    }
    if (!apiKey()) {
      say("提交决定需要 API 密钥。", "error");
      $("api-key").focus();
      return;
    }
    const body = { decision };
    const note = $("decision-note").value.trim();
    if (note) body.note = note;
    if (decision === "positive") {
      if (item.type === "duplicate") {
        const keep = document.querySelector('#item-extra input[name="canonical"]:checked');
        if (keep && keep.value) body.canonical = keep.value;
      } else if (item.type === "import_row" || item.type === "entity") {
        const chosen = document.querySelector('#candidates input[name="choice"]:checked');
        if (!chosen) {
          say("请先选择一个候选,或选择“新建”。", "error");
          return;
        }
        body.node = chosen.value;
      }
    }
    state.deciding = true;
    say(`正在提交“${DECISIONS[decision]}”…`, "info");
    const result = await api(`/v1/review/${encodeURIComponent(item.id)}/decision`, null, {
      method: "POST",
      body,
    });
    state.deciding = false;
    if (!result.ok) {
      say(`${DECISIONS[decision]}失败(${problemText(result)})`, "error");
      return;
    }
    const updated = result.body.item || { ...item, status: decision };
    const message = written(item, decision, result.body);
    const at = state.items.findIndex((i) => i.id === item.id);
    if (at >= 0) {
      if (state.statuses.includes(updated.status)) {
        state.items[at] = updated;
        renderQueue();
        select(updated.id, false);
      } else {
        state.items.splice(at, 1);
        renderQueue();
        const next = state.items[Math.min(at, state.items.length - 1)];
        if (next) select(next.id, false);
        else {
          state.selected = null;
          showItem(null);
        }
      }
    } else {
      showItem(updated);
    }
    say(message, "ok");
  }

  // ---------------------------------------------------------------- keyboard

  function typing(target) {
    if (!target || !(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    if (target.tagName !== "INPUT") return false;
    return !["radio", "checkbox", "button", "submit", "reset"].includes(target.type);
  }

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const inList = event.target instanceof Element && event.target.closest("#queue-list");
    const key = event.key;
    if (key === "j" || (inList && key === "ArrowDown")) move(1);
    else if (key === "k" || (inList && key === "ArrowUp")) move(-1);
    else if (key === "a") decide("positive");
    else if (key === "r") decide("negative");
    else if (key === "u") decide("unsure");
    else return;
    event.preventDefault();
  }

  // ---------------------------------------------------------------- set-up

  async function boot() {
    $("api-key").value = rememberedKey();
    $("api-key").addEventListener("input", () => rememberKey($("api-key").value));
    $("api-key").addEventListener("change", () => loadQueue(false));
    $("api-key-clear").addEventListener("click", () => {
      $("api-key").value = "";
      rememberKey("");
      state.items = [];
      state.cursor = null;
      state.selected = null;
      renderQueue();
      showItem(null);
      say("已清除密钥。", "info");
    });
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      loadQueue(false);
    });
    $("queue-more").addEventListener("click", () => loadQueue(true));
    $("decide-positive").addEventListener("click", () => decide("positive"));
    $("decide-negative").addEventListener("click", () => decide("negative"));
    $("decide-unsure").addEventListener("click", () => decide("unsure"));
    $("item-title").tabIndex = -1;
    document.addEventListener("keydown", onKey);

    const schema = await api("/v1/schema", null, { anonymous: true });
    if (schema.ok) {
      for (const spec of schema.body.node_labels || []) state.labels[spec.label] = spec.label_zh;
      for (const spec of schema.body.link_types || []) state.linkTypes[spec.type] = spec.label_zh;
    }
    if (apiKey()) await loadQueue(false);
    else say("请输入 API 密钥以读取审核队列。", "info");
    document.body.dataset.ready = "1";
  }

  // ---------------------------------------------------------------- test hook

  window.__review = {
    ready: () => document.body.dataset.ready === "1" && state.pending === 0 && !state.deciding,
    selected: () => state.selected,
    current: () => (state.current ? state.current.id : null),
    itemIds: () => state.items.map((i) => i.id),
    reload: () => loadQueue(false),
    select: (id) => select(id, true),
    openItem,
    decide,
  };

  boot();
})();

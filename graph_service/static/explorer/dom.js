/* DOM and API-key helpers shared by the explorer (explorer.js) and the review page (review.js).
 * Data only ever reaches the page as text (textContent, text nodes), never as HTML. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  /** An element with attributes (class, text, on<event>, dataset, style, others) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "style") Object.assign(node.style, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Replace the children of ``parent`` (empty entries left out). */
  function fill(parent, ...children) {
    parent.replaceChildren(
      ...children.flat().filter((c) => c !== null && c !== undefined && c !== false),
    );
    return parent;
  }

  // The API key: in the page's field, remembered for this tab only (sessionStorage, shared
  // by the explorer and the review page), never in localStorage or a URL.
  const KEY_STORAGE = "graph_service.explorer.api_key";

  function apiKey() {
    return $("api-key").value.trim();
  }

  function rememberKey(value) {
    const key = String(value || "").trim();
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      // Storage disabled: the key lives in the field only, for this page.
    }
  }

  function rememberedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || "";
    } catch (_) {
      return "";
    }
  }

  /** A JSON request to this service: {ok, status, body}, never a throw (a network error is
   * status 0 with its text as the body's detail). ``params`` become the query (lists
   * repeated, empty values left out); options: method, body (sent as JSON), key (sent as
   * X-API-Key), noStore (bypass the HTTP cache), busy (called with +1 and -1 around it),
   * prefetched (given the URL, a fetch already started for it, or null). */
  async function request(path, params, options) {
    const opts = options || {};
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value === null || value === undefined || value === "") continue;
      if (Array.isArray(value)) value.forEach((v) => query.append(key, v));
      else query.append(key, String(value));
    }
    const url = query.toString() ? `${path}?${query}` : path;
    const taken = opts.prefetched ? opts.prefetched(url) : null;
    const headers = { Accept: "application/json" };
    if (opts.key) headers["X-API-Key"] = opts.key;
    const init = { method: opts.method || "GET", headers };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    if (opts.noStore) init.cache = "no-store";
    const busy = opts.busy || (() => {});
    busy(1);
    try {
      const response = await (taken || fetch(url, init));
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
      // Seconds to wait before asking again (a 503 while the answer is computed, a 429).
      const retryAfter = Number(response.headers.get("Retry-After")) || null;
      return { ok: response.ok, status: response.status, body, retryAfter };
    } catch (error) {
      return { ok: false, status: 0, body: { detail: String(error) } };
    } finally {
      busy(-1);
    }
  }

  window.graphServiceDom = Object.freeze({
    $,
    el,
    fill,
    apiKey,
    rememberKey,
    rememberedKey,
    request,
  });
})();

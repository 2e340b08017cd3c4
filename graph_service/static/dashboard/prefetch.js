/* Starts the page's answer while the chart library (about 1 MB of script) is parsed:
 * dashboard.js takes this request over when it asks the same URL (dom.js `prefetched`),
 * as it builds it: region, as_of, since, measure, empty ones left out. */
(function () {
  "use strict";
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (!hash.get("region") || hash.get("view")) return;
  const query = new URLSearchParams();
  query.set("region", hash.get("region"));
  for (const key of ["as_of", "since"]) {
    if (hash.get(key)) query.set(key, hash.get(key));
  }
  query.set("measure", hash.get("measure") || "pagerank");
  const url = `/v1/dashboard?${query}`;
  window.__dashboardPrefetch = {
    url,
    response: fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" }),
  };
})();

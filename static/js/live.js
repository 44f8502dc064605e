// Live cost rows: after the WebSocket reconnects, re-fetch the live table bodies from this
// page, so rows that changed while the connection was down are not left stale.
(() => {
  const dropped = new WeakSet();

  document.addEventListener("htmx:wsClose", (event) => {
    dropped.add(event.detail.elt);
  });

  document.addEventListener("htmx:wsOpen", (event) => {
    const element = event.detail.elt;
    if (!dropped.has(element)) {
      return;
    }
    dropped.delete(element);
    const selectors = (element.dataset.liveRefresh || "").split(",").map((s) => s.trim());
    for (const selector of selectors.filter(Boolean)) {
      if (document.querySelector(selector)) {
        htmx.ajax("GET", window.location.href, { target: selector, select: selector, swap: "outerHTML" });
      }
    }
  });
})();

/* Keruen: brushing on the trade page's monthly chart. Drag across the months to filter the
   table to that period; a click on one month selects it. Written for Keruen, no library, no
   network. Without JavaScript each month is a link and the period form does the same. */
(function () {
  "use strict";
  if (window.keruenBrush) return;
  window.keruenBrush = true;
  var drag = null;

  function xOf(svg, ev) {
    var box = svg.getBoundingClientRect();
    var width = svg.viewBox.baseVal ? svg.viewBox.baseVal.width : box.width;
    return ((ev.clientX - box.left) * (width || box.width)) / box.width;
  }

  function months(svg, a, b) {
    var lo = Math.min(a, b), hi = Math.max(a, b);
    return Array.prototype.filter.call(svg.querySelectorAll("[data-period]"), function (m) {
      var x = Number(m.getAttribute("data-x")), w = Number(m.getAttribute("data-w"));
      return x + w >= lo && x <= hi;
    });
  }

  document.addEventListener("mousedown", function (ev) {
    var svg = ev.target.closest ? ev.target.closest("svg.series") : null;
    if (!svg || ev.button !== 0) return;
    ev.preventDefault();
    var x = xOf(svg, ev), band = svg.querySelector(".brush");
    drag = { svg: svg, x0: x, band: band };
    band.setAttribute("x", x);
    band.setAttribute("width", 0);
    band.style.display = "";
  });

  document.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var x = xOf(drag.svg, ev);
    drag.band.setAttribute("x", Math.min(x, drag.x0));
    drag.band.setAttribute("width", Math.abs(x - drag.x0));
  });

  document.addEventListener("mouseup", function (ev) {
    if (!drag) return;
    var d = drag, x = xOf(d.svg, ev);
    drag = null;
    if (Math.abs(x - d.x0) < 3) { d.band.style.display = "none"; return; } // a click: the link
    var chosen = months(d.svg, d.x0, x);
    if (!chosen.length) { d.band.style.display = "none"; return; }
    document.addEventListener("click", function (c) { c.preventDefault(); c.stopPropagation(); },
      { capture: true, once: true });
    var url = new URL(d.svg.getAttribute("data-href"), window.location.href);
    url.searchParams.set("from", chosen[0].getAttribute("data-period"));
    url.searchParams.set("to", chosen[chosen.length - 1].getAttribute("data-period"));
    window.location.assign(url.toString());
  });
})();

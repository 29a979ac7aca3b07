/* vowkeep consent banner (CK-1, CK-2, CK-3): plain JavaScript, no dependencies, no build step.
 *
 * Embed it on every page of the site: <script src="https://PRIVACY-HOST/consent.js" defer></script>
 * It shows the declared cookie categories; essential ones are always on. Nothing of a category is set or sent
 * before that category is accepted: the analytics visitor cookie is created only on acceptance, and scripts
 * marked <script type="text/plain" data-vk-category="advertising" src="..."> run only once theirs is accepted.
 * Global Privacy Control (navigator.globalPrivacyControl) refuses advertising whatever is clicked.
 * It works under a strict Content-Security-Policy: no inline code, no inline styles (styles are set through the
 * CSSOM), and it talks to vowkeep with credential-less requests, so no third-party cookie is ever involved.
 */
(function () {
  "use strict";
  var CONFIG = __VOWKEEP_CONFIG__;
  if (window.vowkeep && window.vowkeep.loaded) { return; }

  var script = document.currentScript || document.querySelector("script[src*='consent.js']");
  var base = script && script.src ? script.src.replace(/consent\.js(\?.*)?$/, "") : "/";
  var gpc = navigator.globalPrivacyControl === true;
  var optional = CONFIG.categories.filter(function (c) { return !c.essential; });
  var state = null;  // {cid, version, accepted: [...], declined: [...]}
  var root = null;
  var listeners = [];

  // --- cookies -------------------------------------------------------------------------------
  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return null;
  }
  function writeCookie(spec, value) {
    if (!spec) { return; }  // only declared cookies are ever set
    var text = spec.name + "=" + encodeURIComponent(value) + "; Path=/; SameSite=Lax";
    if (spec.maxAge !== null) { text += "; Max-Age=" + spec.maxAge; }
    if (location.protocol === "https:") { text += "; Secure"; }
    document.cookie = text;
  }
  function dropCookie(name) {
    document.cookie = name + "=; Path=/; Max-Age=0; SameSite=Lax";
  }
  function newId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += ("0" + bytes[i].toString(16)).slice(-2); }
    return out;
  }

  // The essential cookie: "1.<consent id>.<policy version>.<accepted>.<declined>", category keys joined by ":".
  function loadState() {
    var raw = CONFIG.cookies.consent ? readCookie(CONFIG.cookies.consent.name) : null;
    if (!raw) { return null; }
    var parts = raw.split(".");
    if (parts.length !== 5 || parts[0] !== "1" || !/^[A-Za-z0-9_-]{16,64}$/.test(parts[1])) { return null; }
    return {
      cid: parts[1],
      version: parseInt(parts[2], 10) || 0,
      accepted: parts[3] ? parts[3].split(":") : [],
      declined: parts[4] ? parts[4].split(":") : []
    };
  }
  function saveState() {
    writeCookie(CONFIG.cookies.consent, ["1", state.cid, CONFIG.version, state.accepted.join(":"),
      state.declined.join(":")].join("."));
  }
  function needsChoice(current) {
    if (!current) { return optional.length > 0; }
    for (var i = 0; i < optional.length; i++) {
      var key = optional[i].key;
      var decided = current.accepted.indexOf(key) >= 0 || current.declined.indexOf(key) >= 0;
      if (!decided) { return true; }  // a category declared since the visitor chose
      if (current.accepted.indexOf(key) >= 0 && (CONFIG.reconsent[key] || 0) > current.version) { return true; }
    }
    return false;
  }
  function accepted(key) {
    var category = CONFIG.categories.filter(function (c) { return c.key === key; })[0];
    if (!category) { return false; }
    if (category.essential) { return true; }
    if (category.advertising && gpc) { return false; }
    return !!state && state.accepted.indexOf(key) >= 0 && !needsChoice(state);
  }

  // --- talking to vowkeep ---------------------------------------------------------------------
  function post(path, body) {
    var payload = JSON.stringify(body);
    if (window.fetch) {
      return window.fetch(base + path, {
        method: "POST", mode: "no-cors", credentials: "omit", keepalive: true,
        headers: { "Content-Type": "text/plain" }, body: payload
      }).catch(function () { return null; });
    }
    if (navigator.sendBeacon) { navigator.sendBeacon(base + path, payload); }
    return Promise.resolve(null);
  }

  // --- tracking (only for the accepted usage category) ------------------------------------------
  var visitorId = null;
  function tracking() {
    return CONFIG.usage && CONFIG.cookies.visitor && accepted(CONFIG.usage.category);
  }
  function signal(name) { return CONFIG.usage && CONFIG.usage.signals.indexOf(name) >= 0; }
  function newVisit() {
    var now = Date.now(), fresh = true;
    try {
      var last = parseInt(window.sessionStorage.getItem("vk_last") || "0", 10);
      fresh = !last || now - last > 30 * 60 * 1000;
      window.sessionStorage.setItem("vk_last", String(now));
    } catch (e) { /* storage may be disabled: count it as a new visit */ }
    return fresh;
  }
  function track(type, data) {
    if (!tracking()) { return Promise.resolve(false); }
    var need = { view: "pages", click: "links", search: "search_terms", purchase: "purchase_counts" }[type];
    if (!need || !signal(need)) { return Promise.resolve(false); }
    var event = { type: type, page: location.pathname, lang: navigator.language || null };
    if (document.referrer && signal("referrer")) {
      try {
        if (new URL(document.referrer).host !== location.host) { event.ref = document.referrer; }
      } catch (e) { /* not a URL */ }
    }
    for (var key in (data || {})) { if (Object.prototype.hasOwnProperty.call(data, key)) { event[key] = data[key]; } }
    return post("t", { cid: state.cid, vid: visitorId, events: [event] }).then(function () { return true; });
  }
  function startTracking() {
    if (!tracking()) { return Promise.resolve(false); }
    visitorId = readCookie(CONFIG.cookies.visitor.name);
    if (!visitorId || !/^[A-Za-z0-9_-]{16,64}$/.test(visitorId)) { visitorId = newId(); }
    writeCookie(CONFIG.cookies.visitor, visitorId);  // refreshes its lifetime
    return track("view", { visit: newVisit() });
  }
  document.addEventListener("click", function (e) {
    var link = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    // The banner's own "Cookie settings" links and in-page anchors are not link clicks worth counting.
    if (!link || link.hasAttribute("data-vk-open") || (link.getAttribute("href") || "").charAt(0) === "#") { return; }
    if (tracking() && signal("links")) { track("click", { target: link.href }); }
  }, true);

  // --- applying a choice ------------------------------------------------------------------------
  function activateScripts() {
    var pending = document.querySelectorAll("script[type='text/plain'][data-vk-category]");
    for (var i = 0; i < pending.length; i++) {
      var old = pending[i];
      if (!accepted(old.getAttribute("data-vk-category")) || !old.getAttribute("src")) { continue; }
      var run = document.createElement("script");
      run.src = old.getAttribute("src");
      old.parentNode.replaceChild(run, old);
    }
  }
  function dropDeclined() {
    CONFIG.categories.forEach(function (category) {
      if (accepted(category.key)) { return; }
      category.cookies.forEach(function (name) { if (readCookie(name) !== null) { dropCookie(name); } });
    });
  }
  function notify() {
    var detail = { accepted: CONFIG.categories.filter(function (c) { return accepted(c.key); })
      .map(function (c) { return c.key; }), gpc: gpc };
    listeners.forEach(function (fn) { try { fn(detail); } catch (e) { /* a listener's error is its own */ } });
    if (typeof window.CustomEvent === "function") {
      document.dispatchEvent(new CustomEvent("vowkeep:consent", { detail: detail }));
    }
  }
  function choose(keys) {
    var chosen = optional.filter(function (c) {
      return keys.indexOf(c.key) >= 0 && !(gpc && c.advertising);
    }).map(function (c) { return c.key; });
    state = {
      cid: state ? state.cid : newId(),
      version: CONFIG.version,
      accepted: chosen,
      declined: optional.map(function (c) { return c.key; }).filter(function (k) { return chosen.indexOf(k) < 0; })
    };
    saveState();
    dropDeclined();
    hide();
    var recorded = post("t/consent", { cid: state.cid, accepted: chosen, gpc: gpc, page: location.pathname });
    window.vowkeep.ready = recorded.then(function () {
      activateScripts();
      notify();
      return startTracking();
    });
    return window.vowkeep.ready;
  }

  // --- the banner -------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in (attrs || {})) {
      if (Object.prototype.hasOwnProperty.call(attrs, key)) { node.setAttribute(key, attrs[key]); }
    }
    if (text) { node.textContent = text; }
    return node;
  }
  function styled(node, styles) {
    for (var key in styles) { if (Object.prototype.hasOwnProperty.call(styles, key)) { node.style[key] = styles[key]; } }
    return node;
  }
  function button(id, label, primary) {
    return styled(el("button", { type: "button", id: id }, label), {
      font: "inherit", padding: "0.5rem 1rem", borderRadius: "4px", cursor: "pointer", margin: "0.25rem 0.5rem 0 0",
      border: "1px solid #0b5cad", background: primary ? "#0b5cad" : "#ffffff", color: primary ? "#ffffff" : "#0b5cad"
    });
  }
  function shown(node, visible) {
    // Both the attribute and the style: a site's stylesheet may give buttons a display that beats [hidden].
    node.hidden = !visible;
    node.style.display = visible ? "" : "none";
    return node;
  }
  function hide() {
    if (root && root.parentNode) { root.parentNode.removeChild(root); }
    root = null;
  }
  function show() {
    hide();
    root = styled(el("div", { id: "vk-banner", role: "region", "aria-label": "Cookie choices" }), {
      position: "fixed", left: "0", right: "0", bottom: "0", zIndex: "2147483647", background: "#ffffff",
      color: "#1b1f24", borderTop: "2px solid #0b5cad", boxShadow: "0 -2px 12px rgba(0,0,0,0.15)",
      font: "15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", padding: "1rem",
      maxHeight: "80vh", overflowY: "auto"
    });
    var inner = styled(el("div"), { maxWidth: "60rem", margin: "0 auto" });
    root.appendChild(inner);
    if (CONFIG.policyChange && (!state || state.version < CONFIG.policyChange.version)) {
      var change = el("p", { id: "vk-policy-change" }, CONFIG.policyChange.message + " ");
      change.appendChild(el("a", { href: CONFIG.policyChange.url }, "Read what changed"));
      inner.appendChild(styled(change, { background: "#fff4e0", padding: "0.5rem", margin: "0 0 0.5rem 0" }));
    }
    inner.appendChild(styled(el("h2", {}, "Cookies on " + CONFIG.organization), { fontSize: "1.1rem", margin: "0" }));
    var intro = el("p", {}, "We use essential cookies to make this site work. With your permission we also use the "
      + "cookies below; nothing of a category is set or recorded until you accept it. ");
    intro.appendChild(el("a", { href: CONFIG.cookiesUrl }, "Our cookie policy"));
    inner.appendChild(styled(intro, { margin: "0.5rem 0" }));
    if (gpc && optional.some(function (c) { return c.advertising; })) {
      inner.appendChild(el("p", { id: "vk-gpc" },
        "Your browser sends Global Privacy Control: advertising cookies stay off and your data is not sold or shared."));
    }
    var list = styled(el("fieldset", { id: "vk-categories" }), { border: "0", padding: "0", margin: "0.5rem 0" });
    shown(list, false);
    list.appendChild(styled(el("legend", {}, "Choose the cookies you accept"), { fontWeight: "600" }));
    CONFIG.categories.forEach(function (category) {
      var row = styled(el("div"), { margin: "0.35rem 0" });
      var box = el("input", { type: "checkbox", id: "vk-cat-" + category.key, value: category.key });
      box.checked = category.essential || (!!state && state.accepted.indexOf(category.key) >= 0 && !(gpc && category.advertising));
      box.disabled = category.essential || (gpc && category.advertising);
      var label = el("label", { "for": "vk-cat-" + category.key },
        " " + category.label + (category.essential ? " (always on)" : "")
        + (gpc && category.advertising ? " (off: Global Privacy Control)" : ""));
      styled(label, { fontWeight: "600" });
      row.appendChild(box);
      row.appendChild(label);
      if (category.description) {
        row.appendChild(styled(el("div", {}, category.description), { marginLeft: "1.6rem", color: "#555e68" }));
      }
      list.appendChild(row);
    });
    inner.appendChild(list);
    var actions = el("div");
    var acceptAll = button("vk-accept-all", "Accept all", true);
    var declineAll = button("vk-decline-all", "Decline all", true);
    var customise = button("vk-choose", "Choose", false);
    var save = button("vk-save", "Save my choices", true);
    shown(save, false);
    acceptAll.addEventListener("click", function () { choose(optional.map(function (c) { return c.key; })); });
    declineAll.addEventListener("click", function () { choose([]); });
    customise.addEventListener("click", function () {
      shown(list, true); shown(save, true); shown(customise, false);
      var first = list.querySelector("input:not([disabled])");
      if (first) { first.focus(); }
    });
    save.addEventListener("click", function () {
      var keys = [];
      optional.forEach(function (c) {
        var box = document.getElementById("vk-cat-" + c.key);
        if (box && box.checked) { keys.push(c.key); }
      });
      choose(keys);
    });
    [acceptAll, declineAll, customise, save].forEach(function (b) { actions.appendChild(b); });
    inner.appendChild(actions);
    document.body.appendChild(root);
  }

  // --- public API and start -----------------------------------------------------------------------
  window.vowkeep = {
    loaded: true,
    config: CONFIG,
    ready: Promise.resolve(false),
    accepted: accepted,
    open: show,
    track: function (type, data) { return track(type, data); },
    onChange: function (fn) { listeners.push(fn); }
  };
  function start() {
    state = loadState();
    document.addEventListener("click", function (e) {
      var opener = e.target && e.target.closest ? e.target.closest("[data-vk-open]") : null;
      if (opener) { e.preventDefault(); show(); }
    });
    if (needsChoice(state)) {
      dropDeclined();
      show();
      return;
    }
    if (state && gpc && state.accepted.some(function (k) {
      return optional.some(function (c) { return c.key === k && c.advertising; });
    })) {
      // GPC was switched on since the choice: record the opt-out of advertising at once.
      choose(state.accepted);
      return;
    }
    dropDeclined();
    activateScripts();
    notify();
    window.vowkeep.ready = startTracking();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

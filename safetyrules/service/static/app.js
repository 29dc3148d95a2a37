/* The checklist page: built from the service's form description (GET v1/forms/PACK), judged by the
   service (POST v1/judge) as the form is filled. No framework, no build step, nothing fetched from
   anywhere but the service (or, in a static copy, data.js beside this file).

   A fact read by several items, a fact that decides a scope or an item's applicability, and every list
   of things on site are asked once, in the module's "common facts"; the rest at the one item that
   reads it. Items the judgement finds not applicable are hidden; a module out of scope hides its items. */
(function () {
  "use strict";

  var STATIC = window.SAFETYRULES_DATA || null;
  var params = new URLSearchParams(window.location.search);
  var API = params.get("api") || (STATIC ? STATIC.api : "") || (STATIC ? null : "");
  if (API && API.charAt(API.length - 1) !== "/") API += "/";

  var STATUS = {
    major_hazard_found: "发现重大事故隐患 Major hazard found",
    no_hazard_found: "未发现重大事故隐患 No major hazard found",
    undetermined: "尚不能判定 Undetermined: facts still to record",
    no_criteria_in_force: "该日期无有效判定标准 No criteria in force on this date"
  };
  var VERDICT = {
    matched: "重大事故隐患 major hazard",
    undetermined: "待记录 to record",
    not_matched: "未发现 not found"
  };

  var state = {
    packs: [],            // [{name, industries:[...]}]
    choice: null,         // {pack, industry}
    form: null,           // the form description of the pack (all dates)
    industry: null,       // its industry entry (facts)
    facts: {},            // name -> fact description
    values: {},           // scalar facts and site attributes: name -> value
    lists: {},            // list facts: name -> [item objects]
    extra: {},            // facts of a loaded record that this form does not show (kept as they are)
    extraAttributes: {},
    recordExtra: {},      // other keys of a loaded record (inspector, notes, findings...)
    selected: null,       // module ids chosen (null: all in force)
    report: null,
    seq: 0,
    timer: null
  };
  var el = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------------------------------ helpers
  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "class") node.className = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) child.forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
      else node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function label(text) {
    if (!text) return [""];
    if (typeof text === "string") return [text];
    if (!text.en || text.en === text.zh) return [text.zh];
    return [text.zh + " ", h("span", { class: "en", text: text.en })];
  }
  function plain(text) {
    if (!text) return "";
    if (typeof text === "string") return text;
    return text.en && text.en !== text.zh ? text.zh + " " + text.en : text.zh;
  }
  function slug(text) { return String(text).replace(/[^A-Za-z0-9_-]/g, function (c) { return "_" + c.charCodeAt(0).toString(16); }); }
  function say(text) { el("message").textContent = text || ""; }
  function today() { return new Date().toISOString().slice(0, 10); }
  function api(path) { return API === null ? null : API + path; }

  function getJSON(path) {
    if (STATIC) return Promise.resolve(null);
    return fetch(api(path), { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || ("HTTP " + r.status));
        return body;
      });
    });
  }

  // ------------------------------------------------------------------------------------------ set-up
  function start() {
    el("inspection_date").value = today();
    el("record_id").value = "REC-" + today().replace(/-/g, "") + "-001";
    var packs = STATIC ? Promise.resolve(STATIC.packs) : getJSON("v1/packs");
    packs.then(function (body) {
      state.packs = body.packs;
      var select = el("industry");
      body.packs.forEach(function (p) {
        var group = h("optgroup", { label: plain(p.title) + " (" + p.name + ")" });
        p.industries.forEach(function (ind) {
          group.appendChild(h("option", { value: p.name + ":" + ind.id, text: plain(ind.name) + " · " + ind.id }));
        });
        if (group.children.length) select.appendChild(group);
      });
      select.addEventListener("change", function () { chooseIndustry(select.value).then(changed); });
      el("inspection_date").addEventListener("change", function () { state.selected = null; build(); changed(); });
      el("region").addEventListener("change", function () { state.selected = null; build(); changed(); });
      ["record_id", "site_name"].forEach(function (id) { el(id).addEventListener("input", changed); });
      el("judge").addEventListener("click", judge);
      el("download").addEventListener("click", download);
      el("load").addEventListener("change", load);
      el("live").addEventListener("change", function () { if (el("live").checked) judge(); });
      if (API === null) say("此静态页面未连接判定服务：可填写并下载记录，再用 safetyrules check 判定。 This static page has no service to judge on: fill in and download the record, then run safetyrules check.");
      return chooseIndustry(select.value);
    }).catch(function (err) { say("无法载入 Cannot load: " + err.message); });
  }

  function chooseIndustry(value) {
    var parts = value.split(":");
    var pack = parts[0], industry = parts[1];
    var same = state.choice && state.choice.pack === pack;
    var previous = state.choice ? state.choice.industry : null;
    state.choice = { pack: pack, industry: industry };
    var got = same ? Promise.resolve(state.form)
      : STATIC ? Promise.resolve(STATIC.forms[pack]) : getJSON("v1/forms/" + encodeURIComponent(pack));
    return got.then(function (form) {
      state.form = form;
      state.industry = form.industries.filter(function (i) { return i.id === industry; })[0];
      state.facts = {};
      state.industry.facts.forEach(function (f) { state.facts[f.name] = f; });
      // what was recorded for another industry does not belong to this one's record
      if (previous !== industry) { state.extra = {}; state.extraAttributes = {}; }
      Object.keys(state.values).forEach(function (k) { if (!state.facts[k]) delete state.values[k]; });
      Object.keys(state.lists).forEach(function (k) { if (!state.facts[k]) delete state.lists[k]; });
      state.selected = null;
      state.report = null;
      build();
    }).catch(function (err) { say("无法载入检查表 Cannot load the form: " + err.message); });
  }

  function inForce(m, day, region) {
    if (m.industries.indexOf(state.choice.industry) < 0) return false;
    if (day && (m.effective_from > day || (m.effective_until && m.effective_until < day))) return false;
    if (m.jurisdiction !== "national" && (!region || m.jurisdiction.code !== region)) return false;
    return true;
  }

  function modulesInForce() {
    var day = el("inspection_date").value, region = el("region").value.trim();
    return state.form.modules.filter(function (m) { return inForce(m, day, region); });
  }

  function chosenModules() {
    return modulesInForce().filter(function (m) { return !state.selected || state.selected.indexOf(m.id) >= 0; });
  }

  // ------------------------------------------------------------------------------------------ the form
  var refs = {};   // fact name -> [span showing its value where another item reads it]

  function build() {
    var list = el("module-list");
    list.textContent = "";
    var available = modulesInForce();
    if (!available.length) say("该日期该行业无有效模块 No module of this industry is in force on this date.");
    else if (API !== null) say("");
    available.forEach(function (m) {
      var box = h("input", { type: "checkbox", id: "use-" + slug(m.id), value: m.id,
        checked: !state.selected || state.selected.indexOf(m.id) >= 0 });
      box.addEventListener("change", function () {
        state.selected = Array.prototype.filter.call(list.querySelectorAll("input:checked"), function () { return true; })
          .map(function (b) { return b.value; });
        renderForm();
        showReport();
      });
      list.appendChild(h("label", { for: box.id }, box, label(m.title), h("span", { class: "en", text: " " + m.document.number })));
    });
    renderForm();
  }

  function renderForm() {
    var main = el("form");
    main.textContent = "";
    refs = {};
    var modules = chosenModules();
    // how many chosen items read each fact: shared facts are asked once, in the module's common facts
    var readers = {};
    modules.forEach(function (m) { m.categories.forEach(function (c) { c.items.forEach(function (it) {
      it.facts.forEach(function (f) { readers[f] = (readers[f] || 0) + 1; });
    }); }); });
    var asked = {};
    var site = h("section", { class: "block site", "aria-labelledby": "site-h" },
      h("h2", { id: "site-h" }, "场所属性 ", h("span", { class: "en", text: "Site" })));
    var siteFacts = h("div", { class: "facts" });
    state.industry.facts.forEach(function (f) {
      if (f.site) { siteFacts.appendChild(factInput(f)); asked[f.name] = true; }
    });
    site.appendChild(siteFacts);
    main.appendChild(site);
    modules.forEach(function (m) { main.appendChild(renderModule(m, readers, asked)); });
    showReport();
  }

  function renderModule(m, readers, asked) {
    var common = [];
    m.asks.concat(m.lists).forEach(function (name) { if (!asked[name] && state.facts[name]) { common.push(name); asked[name] = true; } });
    m.categories.forEach(function (c) { c.items.forEach(function (it) { it.facts.forEach(function (name) {
      if (!asked[name] && readers[name] > 1 && state.facts[name]) { common.push(name); asked[name] = true; }
    }); }); });
    var section = h("section", { class: "module", id: "mod-" + slug(m.id), "data-module": m.id, "aria-labelledby": "mh-" + slug(m.id) });
    section.appendChild(h("header", null,
      h("h2", { id: "mh-" + slug(m.id) }, label(m.title)),
      h("p", { class: "cite", text: "《" + m.document.title + "》" + m.document.number + " · " + m.effective_from + " – " + (m.effective_until || "…") }),
      m.notices.map(function (n) { return h("p", { class: "notice", text: [n.lead, n.text, n.en].filter(Boolean).join(" ") }); }),
      m.scope ? h("p", { class: "cite" }, "适用范围 Scope: ", h("code", { text: m.scope.condition })) : null,
      h("p", { class: "scope-note", text: "本模块不适用于此场所（适用范围不成立）。 Out of this module's scope: its items do not apply." })));
    if (common.length) {
      var box = h("div", { class: "facts" });
      common.forEach(function (name) { box.appendChild(factInput(state.facts[name])); });
      section.appendChild(h("div", { class: "common" }, h("h3", null, "本模块共用事实 ", h("span", { class: "en", text: "Facts several items read" })), box));
    }
    var cats = h("div", { class: "categories" });
    m.categories.forEach(function (c) {
      var cat = h("section", { class: "category", "aria-label": plain(c.title) }, h("h3", null, label(c.title)));
      c.items.forEach(function (it) { cat.appendChild(renderItem(it, asked)); });
      cats.appendChild(cat);
    });
    section.appendChild(cats);
    return section;
  }

  function renderItem(it, asked) {
    var facts = h("div", { class: "facts" });
    var seen = [];
    it.facts.forEach(function (name) {
      var f = state.facts[name];
      if (!f) return;
      if (!asked[name]) { facts.appendChild(factInput(f)); asked[name] = true; return; }
      seen.push(name);
    });
    var refLine = null;
    if (seen.length) {
      refLine = h("p", { class: "ref" }, "另见 Also reads: ");
      seen.forEach(function (name, i) {
        var f = state.facts[name];
        var value = h("span", { class: "ref-value" });
        (refs[name] = refs[name] || []).push(value);
        refLine.appendChild(h("a", { href: "#" + (f.type === "list" ? "list-" : "f-") + slug(name), text: plain(f.label) }));
        refLine.appendChild(value);
        if (i < seen.length - 1) refLine.appendChild(document.createTextNode("；"));
      });
      seen.forEach(updateRef);
    }
    return h("article", { class: "item", id: "item-" + slug(it.rule_id), "data-rule": it.rule_id },
      h("h4", null, label(it.title)),
      h("p", { class: "cite" }, it.citation.rendered + " ", h("code", { text: it.rule_id })),
      it.description ? h("p", { text: it.description }) : null,
      it.for_each ? h("p", { class: "cite", text: "逐项判定 For each: " + it.for_each.label }) : null,
      (it.exceptions || []).map(function (x) {
        var presumed = Object.keys(x.presumed || {});
        return h("p", { class: "cite exception" }, "除外 Except where: " + plain(x.label) + "（" + x.citation + "）",
          presumed.length ? "；未记录时推定 not recorded, presumed: " + presumed.map(function (n) {
            return n + " = " + (x.presumed[n].value ? "是 yes" : "否 no");
          }).join("，") : "");
      }),
      facts.children.length ? facts : null,
      refLine,
      h("span", { class: "verdict", role: "status" }));
  }

  function updateRef(name) {
    var f = state.facts[name];
    var text;
    if (f.type === "list") text = "（" + (state.lists[name] || []).length + " 项 items）";
    else text = name in state.values ? " = " + display(f, state.values[name]) : "（未记录 not recorded）";
    (refs[name] || []).forEach(function (span) { span.textContent = text; });
  }

  function display(f, value) {
    if (f.type === "boolean") return value ? "是 yes" : "否 no";
    if (f.type === "enum") {
      var v = f.values.filter(function (x) { return x.value === value; })[0];
      return v ? plain(v.label) : String(value);
    }
    return String(value) + (f.unit ? " " + f.unit : "");
  }

  // ------------------------------------------------------------------------------------------ inputs
  function factInput(f) {
    if (f.type === "list") return listEditor(f);
    var id = "f-" + slug(f.name);
    var input = widget(f, id, f.name in state.values ? state.values[f.name] : undefined, function (value) {
      if (value === undefined) delete state.values[f.name]; else state.values[f.name] = value;
      updateRef(f.name);
      changed();
    });
    return h("div", { class: "fact" },
      h("label", { for: id }, label(f.label)),
      h("div", { class: "input" }, input, f.unit ? h("span", { class: "unit", text: f.unit }) : null),
      f.description ? h("small", { class: "help", text: f.description }) : null);
  }

  function widget(f, id, value, set) {
    var input;
    if (f.type === "boolean" || f.type === "enum") {
      input = h("select", { id: id, "data-fact": f.name });
      input.appendChild(h("option", { value: "", text: "— 未记录 not recorded" }));
      var choices = f.type === "boolean" ? [{ value: "true", label: "是 yes" }, { value: "false", label: "否 no" }]
        : f.values.map(function (v) { return { value: v.value, label: plain(v.label) + " (" + v.value + ")" }; });
      choices.forEach(function (c) { input.appendChild(h("option", { value: c.value, text: c.label })); });
      if (value !== undefined) input.value = f.type === "boolean" ? String(value) : value;
      input.addEventListener("change", function () {
        var v = input.value;
        set(v === "" ? undefined : f.type === "boolean" ? v === "true" : v);
      });
      return input;
    }
    var type = f.type === "number" || f.type === "integer" ? "number" : f.type === "date" ? "date" : "text";
    input = h("input", { id: id, type: type, "data-fact": f.name,
      step: f.type === "integer" ? "1" : type === "number" ? "any" : null,
      inputmode: f.type === "integer" ? "numeric" : type === "number" ? "decimal" : null,
      min: f.minimum !== null && f.minimum !== undefined ? String(f.minimum) : null,
      max: f.maximum !== null && f.maximum !== undefined ? String(f.maximum) : null });
    if (value !== undefined) input.value = String(value);
    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (text === "") return set(undefined);
      if (type === "number") {
        var n = Number(text);
        if (!isFinite(n)) return;
        return set(n);
      }
      set(input.value);
    });
    return input;
  }

  function listEditor(f) {
    var items = state.lists[f.name] = state.lists[f.name] || [];
    var box = h("fieldset", { class: "list", id: "list-" + slug(f.name), "data-list": f.name });
    box.appendChild(h("legend", null, label(f.label)));
    var body = h("div", { class: "list-items" });
    box.appendChild(body);
    function draw() {
      body.textContent = "";
      items.forEach(function (item, i) { body.appendChild(listItem(f, items, i, draw)); });
      if (!items.length) body.appendChild(h("p", { class: "help", text: "尚无 None recorded yet." }));
      updateRef(f.name);
    }
    draw();
    box.appendChild(h("button", { type: "button", class: "add", "data-add": f.name, onclick: function () {
      var item = {};
      items.push(item);
      draw();
      var first = body.querySelector(".list-item:last-child input, .list-item:last-child select");
      if (first) first.focus();
      changed();
    } }, "添加 Add: " + plain(f.label)));
    return box;
  }

  function listItem(f, items, i, draw) {
    var item = items[i];
    var key = item[f.key];
    var fs = h("fieldset", { class: "list-item", "data-index": String(i) },
      h("legend", { text: "第 " + (i + 1) + " 项 item " + (i + 1) + (key ? " · " + key : "") }));
    var grid = h("div", { class: "facts" });
    f.fields.forEach(function (field) {
      var id = "l-" + slug(f.name) + "-" + i + "-" + slug(field.name);
      var input = widget(field, id, item[field.name], function (value) {
        if (value === undefined) delete item[field.name]; else item[field.name] = value;
        changed();
      });
      input.setAttribute("data-field", field.name);
      grid.appendChild(h("div", { class: "fact" },
        h("label", { for: id }, label(field.label), field.name === f.key ? " *" : ""),
        h("div", { class: "input" }, input, field.unit ? h("span", { class: "unit", text: field.unit }) : null)));
    });
    fs.appendChild(grid);
    fs.appendChild(h("button", { type: "button", class: "remove", onclick: function () {
      items.splice(i, 1);
      draw();
      changed();
    } }, "删除此项 Remove item " + (i + 1)));
    return fs;
  }

  // ------------------------------------------------------------------------------------------ the record
  function record() {
    var attributes = {}, facts = {};
    Object.keys(state.extraAttributes).forEach(function (k) { attributes[k] = state.extraAttributes[k]; });
    Object.keys(state.extra).forEach(function (k) { facts[k] = state.extra[k]; });
    Object.keys(state.values).forEach(function (name) {
      var f = state.facts[name];
      if (f && f.site) attributes[name] = state.values[name]; else facts[name] = state.values[name];
    });
    Object.keys(state.lists).forEach(function (name) {
      if (state.lists[name].length && state.facts[name]) facts[name] = state.lists[name].map(function (it) { return Object.assign({}, it); });
    });
    var site = { industry: state.choice.industry };
    if (el("site_name").value.trim()) site.name = el("site_name").value.trim();
    if (el("region").value.trim()) site.region = el("region").value.trim();
    if (Object.keys(attributes).length) site.attributes = attributes;
    var out = { record_id: el("record_id").value.trim(), inspection_date: el("inspection_date").value, site: site, facts: facts };
    Object.keys(state.recordExtra).forEach(function (k) { out[k] = state.recordExtra[k]; });
    return out;
  }

  function download() {
    var rec = record();
    var blob = new Blob([JSON.stringify(rec, null, 2) + "\n"], { type: "application/json" });
    var a = h("a", { href: URL.createObjectURL(blob), download: (rec.record_id || "record").replace(/[^\w.-]+/g, "_") + ".json" });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function load(event) {
    var file = event.target.files[0];
    if (!file) return;
    file.text().then(function (text) {
      var rec = JSON.parse(text);
      if (!rec || typeof rec !== "object" || Array.isArray(rec) || !rec.site) throw new Error("not an inspection record");
      var option = Array.prototype.filter.call(el("industry").options, function (o) { return o.value.split(":")[1] === rec.site.industry; })[0];
      if (!option) throw new Error("industry " + rec.site.industry + " is not served here");
      el("industry").value = option.value;
      el("inspection_date").value = rec.inspection_date || today();
      el("record_id").value = rec.record_id || "";
      el("site_name").value = rec.site.name || "";
      el("region").value = rec.site.region || "";
      return chooseIndustry(option.value).then(function () {
        state.values = {}; state.lists = {}; state.extra = {}; state.extraAttributes = {}; state.recordExtra = {};
        Object.keys(rec).forEach(function (k) {
          if (["record_id", "inspection_date", "site", "facts"].indexOf(k) < 0) state.recordExtra[k] = rec[k];
        });
        var attributes = rec.site.attributes || {};
        Object.keys(attributes).forEach(function (k) {
          if (state.facts[k]) state.values[k] = attributes[k]; else state.extraAttributes[k] = attributes[k];
        });
        var facts = rec.facts || {};
        Object.keys(facts).forEach(function (k) {
          var f = state.facts[k];
          if (f && f.type === "list" && Array.isArray(facts[k])) state.lists[k] = facts[k].map(function (it) { return Object.assign({}, it); });
          else if (f && f.type !== "list") state.values[k] = facts[k];
          else state.extra[k] = facts[k];
        });
        build();
        var kept = Object.keys(state.extra).length + Object.keys(state.extraAttributes).length;
        say("已载入 Loaded " + file.name + (kept ? "；" + kept + " 项事实不在此表中，原样保留 facts not in this form are kept as they are" : ""));
        judge();
      });
    }).catch(function (err) { say("无法载入记录 Cannot load the record: " + err.message); })
      .then(function () { event.target.value = ""; });
  }

  // ------------------------------------------------------------------------------------------ judging
  function changed() {
    if (!el("live").checked || API === null) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(judge, 350);
  }

  // What the service would refuse only because the inspector has not typed it yet (the record id, the
  // key of a list item just added): said here, without a request that is bound to fail.
  function unfinished(rec) {
    var gaps = [];
    if (!rec.record_id) gaps.push({ path: "$.record_id", message: "记录编号必填 a record id is required" });
    Object.keys(rec.facts).forEach(function (name) {
      var f = state.facts[name];
      if (!f || !f.key || !Array.isArray(rec.facts[name])) return;
      rec.facts[name].forEach(function (item, i) {
        if (item[f.key] === undefined || item[f.key] === null || item[f.key] === "")
          gaps.push({ path: "$.facts." + name + "[" + i + "]." + f.key, message: "编号必填 each item needs its " + f.key });
      });
    });
    return gaps;
  }

  function judge() {
    if (API === null || !state.choice) return;
    var seq = ++state.seq;
    var rec = record(), gaps = unfinished(rec);
    if (gaps.length) {
      state.report = null;
      showProblem({ title: "尚未填完 Not filled in yet", errors: gaps });
      return;
    }
    fetch(api("v1/judge"), { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(rec) })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (res) {
        if (seq !== state.seq) return;  // a later judgement is under way
        markInvalid([]);
        if (res.status === 200) { state.report = res.body; showReport(); return; }
        state.report = null;
        showProblem(res.body);
      })
      .catch(function (err) { if (seq === state.seq) say("判定失败 Judging failed: " + err.message); });
  }

  function inputFor(path) {
    // $.facts.x / $.site.attributes.x / $.facts.list[2].field -> the input of that value
    if (path === "$.record_id" || path === "$.inspection_date") return el(path.slice(2));
    var m = /^\$\.(?:facts|site\.attributes)\.([^.[\]]+)(?:\[(\d+)\](?:\.([^.[\]]+))?)?/.exec(path);
    if (!m) return null;
    if (m[2] !== undefined && m[3]) return el("l-" + slug(m[1]) + "-" + m[2] + "-" + slug(m[3]));
    return el("f-" + slug(m[1])) || el("list-" + slug(m[1]));
  }

  function markInvalid(errors) {
    Array.prototype.forEach.call(document.querySelectorAll("[aria-invalid]"), function (n) { n.removeAttribute("aria-invalid"); });
    errors.forEach(function (e) { var input = inputFor(e.path); if (input) input.setAttribute("aria-invalid", "true"); });
  }

  function showProblem(problem) {
    el("summary").className = "summary undetermined";
    el("summary").textContent = "记录有误 The record has problems: " + (problem.title || "");
    var list = h("ul", { class: "problems" });
    (problem.errors || [{ path: "", message: problem.detail }]).forEach(function (e) {
      var input = inputFor(e.path);
      list.appendChild(h("li", null, input ? h("a", { href: "#" + input.id, text: e.path }) : h("code", { text: e.path }), " " + e.message));
    });
    markInvalid(problem.errors || []);
    el("found").textContent = "";
    el("found").appendChild(list);
    el("pending").textContent = "";
    setVerdicts(null);
  }

  function needLabel(need) {
    var m = /^([^[.]+)(?:\[(.*)\])?(?:\.(.+))?$/.exec(need);
    var f = m && state.facts[m[1]];
    if (!f) return need;
    if (m[3] && f.fields) {
      var field = f.fields.filter(function (x) { return x.name === m[3]; })[0];
      return plain(f.label) + (m[2] ? " [" + m[2] + "]" : "") + " · " + (field ? plain(field.label) : m[3]);
    }
    return plain(f.label);
  }

  function showReport() {
    var rep = state.report;
    if (!rep || !state.form) { setVerdicts(null); return; }
    var chosen = {};
    chosenModules().forEach(function (m) { chosen[m.id] = true; });
    var summary = el("summary");
    summary.className = "summary " + rep.status;
    summary.textContent = (STATUS[rep.status] || rep.status) + " · " + rep.counts.determinations + " 项隐患 hazards, " +
      rep.counts.undetermined + " 项待记录 undetermined";
    var found = el("found");
    found.textContent = "";
    var dets = rep.determinations.filter(function (d) { return chosen[d.module.id]; });
    if (dets.length) found.appendChild(h("h3", null, "重大事故隐患 ", h("span", { class: "en", text: "Major hazards found" })));
    dets.forEach(function (d) {
      found.appendChild(h("article", { class: "determination", "data-rule": d.rule_id },
        h("h3", null, h("a", { href: "#item-" + slug(d.rule_id) }, label(d.title))),
        h("p", { class: "cite citation", text: d.citation.rendered + (d.item ? " · " + d.item.key : "") }),
        d.decided_by === "inspector_finding" ? h("p", { class: "finding", text: "依检查人员认定 By inspector's finding" + (d.finding.note ? "：" + d.finding.note : "") }) : null,
        h("ul", { class: "evidence" }, d.evidence.map(function (e) {
          return h("li", null, h("code", { text: e.expr }), " → " + (e.result === true ? "成立 true" : e.result === false ? "不成立 false" : "未知 unknown"),
            e.values ? " (" + Object.keys(e.values).map(function (k) { return k + " = " + JSON.stringify(e.values[k]); }).join(", ") + ")" : "");
        })),
        (d.presumptions || []).length ? h("ul", { class: "presumptions" }, d.presumptions.map(function (p) {
          return h("li", null, "推定 Presumed: " + p.fact + " = " + (p.value ? "是 yes" : "否 no") + "（未记录 not recorded）, " +
            "排除除外情形 ruling out " + plain(p.exception.label) + " — " + plain(p.reason));
        })) : null));
    });
    var pending = el("pending");
    pending.textContent = "";
    var und = rep.undetermined.filter(function (u) { return chosen[u.module_id]; });
    if (und.length) pending.appendChild(h("h3", null, "待记录 ", h("span", { class: "en", text: "Facts still to record" })));
    und.forEach(function (u) {
      pending.appendChild(h("article", { class: "undetermined", "data-rule": u.rule_id },
        h("h3", null, h("a", { href: "#item-" + slug(u.rule_id) }, label(u.title))),
        h("p", { class: "cite", text: u.citation.rendered }),
        h("p", null, "需记录 Record: ", u.needs.map(function (n, i) {
          var input = inputFor("$.facts." + n.replace(/\[([^\]]*)\]/, function (all, key) { return "[" + listIndex(n, key) + "]"; }));
          var text = needLabel(n) + (i < u.needs.length - 1 ? "；" : "");
          return input ? h("a", { href: "#" + input.id, text: text }) : h("span", { text: text });
        }))));
    });
    setVerdicts(rep);
  }

  function listIndex(need, key) {
    var name = need.split("[")[0];
    var items = state.lists[name] || [];
    var f = state.facts[name];
    for (var i = 0; i < items.length; i++) if (f && String(items[i][f.key]) === key) return i;
    return key;
  }

  function setVerdicts(rep) {
    var outcome = {};
    var notApplicable = {};
    if (rep) {
      rep.determinations.forEach(function (d) { outcome[d.rule_id] = "matched"; });
      rep.undetermined.forEach(function (u) { if (!outcome[u.rule_id]) outcome[u.rule_id] = "undetermined"; });
      rep.not_matched.forEach(function (id) { if (!outcome[id]) outcome[id] = "not_matched"; });
      rep.not_applicable.forEach(function (id) { notApplicable[id] = true; });
    }
    var outOfScope = {};
    if (rep) rep.modules_not_applicable.forEach(function (m) { outOfScope[m.id || m] = true; });
    Array.prototype.forEach.call(document.querySelectorAll(".module"), function (section) {
      var items = section.querySelectorAll(".item");
      var hidden = 0;
      Array.prototype.forEach.call(items, function (item) {
        var id = item.getAttribute("data-rule");
        var na = !!notApplicable[id] && !outcome[id];
        item.classList.toggle("not-applicable", na);
        if (na) hidden++;
        var v = item.querySelector(".verdict");
        v.className = "verdict " + (outcome[id] || "");
        v.textContent = outcome[id] ? VERDICT[outcome[id]] : "";
      });
      var id = section.getAttribute("data-module");
      section.classList.toggle("not-applicable", !!outOfScope[id] || (items.length > 0 && hidden === items.length));
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();

/*
 * Embeddable booking widget (plain ES2017, no dependencies).
 *
 *   <div id="booking-widget"></div>
 *   <script src="https://OUR-HOST/static/widget/booking.js" data-partner="slug" defer></script>
 *
 * Optional: data-target="element-id" (default "booking-widget"), data-service="service-slug",
 * data-lang="de" (en, de, fr or it; default: the browser's language, else English).
 *
 * Languages: the widget's texts come from the server's catalogue (GET .../messages, the
 * "djangojs" translations), its API requests carry the language as Accept-Language (messages
 * from the API, and the language the booking's emails are written in), and dates and times are
 * formatted with Intl in that language.
 *
 * Security rules (C05, C06): the partner's page may run a strict CSP of its own, so the widget
 * builds its DOM with createElement/textContent only, styles through class names and the
 * stylesheet next to this file (added as a <link>), and never evaluates strings. Every value
 * that comes from the API is inserted as text. Requests carry no cookies (credentials: "omit").
 * A partner page with a CSP must allow OUR-HOST in script-src, style-src and connect-src.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var partner = (script.getAttribute("data-partner") || "").trim();
  var targetId = script.getAttribute("data-target") || "booking-widget";
  var preselected = script.getAttribute("data-service") || "";
  var origin = new URL(script.src).origin;
  var api = origin + "/api/v1/partners/" + encodeURIComponent(partner) + "/";
  var zone = visitorZone();
  var LANGUAGES = ["en", "de", "fr", "it"];
  var lang = pickLanguage();
  var catalog = {};

  function pickLanguage() {
    var wanted = [script.getAttribute("data-lang") || ""].concat(navigator.languages || [navigator.language || ""]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split("-")[0];
      if (LANGUAGES.indexOf(code) !== -1) {
        return code;
      }
    }
    return "en";
  }

  // gettext as Django's JavaScript catalogue has it: the text in the chosen language, else the
  // English original. interpolate() fills %(name)s from an object, as text only.
  function gettext(text) {
    var found = catalog[text];
    return typeof found === "string" && found ? found : text;
  }

  // Marks a text for the catalogue where it is defined; translated where it is shown.
  function gettext_noop(text) {
    return text;
  }

  function interpolate(text, values) {
    return text.replace(/%\(([a-z_]+)\)s/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  // staff: null for "anyone", else {id, name} of the person chosen; people: whom the service offers.
  var state = { services: [], service: null, staff: null, people: [], weekStart: startOfToday(), slot: null, busy: false, notice: "", partnerName: "" };
  var root;

  function visitorZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch (e) {
      return "UTC";
    }
  }

  function startOfToday() {
    var now = new Date();
    return new Date(now.getFullYear(), now.getMonth(), now.getDate());
  }

  // --- DOM helpers: text only -------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function button(label, className, onClick) {
    var node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function message(kind, text) {
    var node = el("p", "bw-message bw-message-" + kind, text);
    node.setAttribute("role", kind === "error" ? "alert" : "status");
    return node;
  }

  function show(children) {
    clear(root);
    var title = el("div", "bw-header");
    title.appendChild(el("span", "bw-title", state.partnerName ? interpolate(gettext("Book with %(partner)s"), { partner: state.partnerName }) : gettext("Book an appointment")));
    root.appendChild(title);
    children.forEach(function (child) {
      if (child) {
        root.appendChild(child);
      }
    });
  }

  function addStylesheet() {
    var href = new URL("booking.css", script.src).href;
    var links = document.querySelectorAll("link[rel=stylesheet]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) {
        return;
      }
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  // --- formatting ---------------------------------------------------------------------------

  var dayLabelFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, weekday: "short", day: "numeric", month: "short" });
  var timeFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  var longFormat = new Intl.DateTimeFormat(lang, {
    timeZone: zone, weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit",
  });

  function isoDate(date) {
    // The local calendar date of a Date built from local midnight.
    var m = String(date.getMonth() + 1);
    var d = String(date.getDate());
    return date.getFullYear() + "-" + (m.length < 2 ? "0" + m : m) + "-" + (d.length < 2 ? "0" + d : d);
  }

  function addDays(date, days) {
    return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
  }

  function describeService(service) {
    var parts = [];
    if (service.duration_minutes) {
      parts.push(interpolate(gettext("%(minutes)s min"), { minutes: service.duration_minutes }));
    }
    if (isPaid(service)) {
      parts.push(interpolate(gettext("%(price)s, paid by card when booking"), { price: priceOf(service) }));
    }
    return parts.join(" · ");
  }

  function isPaid(service) {
    return service.price !== undefined && service.price !== null && service.price !== "";
  }

  function priceOf(service) {
    return (service.currency ? service.currency + " " : "") + service.price;
  }

  // A time as the visitor reads it, the zone named (the times are in the visitor's zone, which
  // need not be the business's).
  function withZone(text) {
    return text + " (" + zone + ")";
  }

  // --- the API --------------------------------------------------------------------------------

  function ApiError(kind, status, body) {
    this.kind = kind;
    this.status = status;
    this.body = body || {};
  }

  function request(path, options) {
    var init = { method: "GET", credentials: "omit", mode: "cors", cache: "no-store", headers: { Accept: "application/json", "Accept-Language": lang } };
    if (options && options.json !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(api + path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var body = {};
          try {
            body = text ? JSON.parse(text) : {};
          } catch (e) {
            body = {};
          }
          if (response.ok) {
            return body;
          }
          throw new ApiError("http", response.status, body);
        });
      },
      function () {
        // fetch rejects with a TypeError when the browser refuses the response (CORS: this
        // page's origin is not registered by the partner) or the network is down.
        throw new ApiError("blocked", 0, null);
      }
    );
  }

  function listOf(body, key) {
    if (Array.isArray(body)) {
      return body;
    }
    if (body && Array.isArray(body[key])) {
      return body[key];
    }
    if (body && Array.isArray(body.results)) {
      return body.results;
    }
    return [];
  }

  function failure(error, retry) {
    if (error instanceof ApiError && error.kind === "blocked") {
      return message("error", interpolate(gettext("This website is not allowed to show bookings for %(partner)s."), { partner: partner }));
    }
    if (error instanceof ApiError && error.status === 429) {
      var wait = Number(error.body.retry_after) || 0;
      return message(
        "error",
        wait
          ? interpolate(gettext("Too many requests right now (rate limited). Please wait %(seconds)s seconds and try again."), { seconds: wait })
          : gettext("Too many requests right now (rate limited). Please wait a moment and try again.")
      );
    }
    if (error instanceof ApiError && error.status === 404) {
      return message("error", gettext("These bookings could not be found."));
    }
    if (error instanceof ApiError && error.status === 503 && error.body && error.body.error === "payments_not_configured") {
      return message("error", gettext("Payments are not configured, so this paid service cannot be booked online. Please contact the business directly."));
    }
    var box = el("div", "bw-failure");
    box.appendChild(message("error", gettext("Something went wrong. Please try again.")));
    if (retry) {
      box.appendChild(button(gettext("Try again"), "bw-button", retry));
    }
    return box;
  }

  // --- step 1: services -----------------------------------------------------------------------

  function loadServices() {
    show([message("info", gettext("Loading…"))]);
    request("services/").then(
      function (body) {
        state.services = listOf(body, "services");
        state.partnerName = body && body.partner && typeof body.partner.name === "string" ? body.partner.name : "";
        var chosen = state.services.filter(function (s) {
          return s.slug === preselected;
        })[0];
        if (chosen) {
          chooseService(chosen);
        } else {
          showServices();
        }
      },
      function (error) {
        show([failure(error, loadServices)]);
      }
    );
  }

  function showServices() {
    if (!state.services.length) {
      show([message("info", gettext("No services can be booked online at the moment."))]);
      return;
    }
    var list = el("ul", "bw-services");
    state.services.forEach(function (service) {
      var item = el("li", "bw-service");
      var pick = button("", "bw-service-button", function () {
        chooseService(service);
      });
      pick.appendChild(el("span", "bw-service-name", service.name));
      pick.appendChild(el("span", "bw-service-meta", describeService(service)));
      pick.setAttribute("data-service", String(service.slug));
      item.appendChild(pick);
      list.appendChild(item);
    });
    show([el("h3", "bw-step", gettext("Choose a service")), list]);
  }

  // --- step 2: anyone or a person -----------------------------------------------------------

  function chooseService(service) {
    state.service = service;
    state.staff = null;
    state.people = [];
    state.weekStart = startOfToday();
    show([heading(service), message("info", gettext("Loading…"))]);
    request("services/" + encodeURIComponent(service.slug) + "/staff").then(
      function (body) {
        state.people = listOf(body, "staff").filter(function (member) {
          return member && typeof member.id === "number" && typeof member.name === "string";
        });
        var mustChoose = body && body.staff_choice === "choose";
        state.mustChoose = mustChoose;
        if (state.people.length > 1 || mustChoose) {
          showPeople(service);
        } else {
          loadWeek();
        }
      },
      function (error) {
        show([heading(service), failure(error, function () { chooseService(service); }), backToServices()]);
      }
    );
  }

  function showPeople(service) {
    var list = el("ul", "bw-people");
    function add(label, member) {
      var item = el("li", "bw-person");
      var pick = button(label, "bw-person-button", function () {
        state.staff = member;
        state.weekStart = startOfToday();
        loadWeek();
      });
      pick.setAttribute("data-staff", member ? String(member.id) : "any");
      item.appendChild(pick);
      list.appendChild(item);
    }
    if (!state.mustChoose) {
      add(gettext("Anyone"), null);
    }
    state.people.forEach(function (member) {
      add(member.name, member);
    });
    show([heading(service), el("h3", "bw-step", gettext("With whom?")), list, backToServices()]);
  }

  function otherPeople() {
    if (state.people.length < 2 && !state.mustChoose) {
      return null;
    }
    return button(gettext("Someone else"), "bw-link", function () {
      showPeople(state.service);
    });
  }

  // --- step 3: a week of slots ------------------------------------------------------------------

  function loadWeek() {
    var service = state.service;
    // Local dates in the visitor's zone, both inclusive: one week.
    var query =
      "?start=" + encodeURIComponent(isoDate(state.weekStart)) +
      "&end=" + encodeURIComponent(isoDate(addDays(state.weekStart, 6))) +
      "&tz=" + encodeURIComponent(zone) +
      (state.staff ? "&staff=" + encodeURIComponent(String(state.staff.id)) : "");
    show([heading(service), message("info", gettext("Loading free times…"))]);
    request("services/" + encodeURIComponent(service.slug) + "/slots" + query).then(
      function (body) {
        showWeek(service, slotsByDay(body));
      },
      function (error) {
        show([heading(service), failure(error, loadWeek), backToServices()]);
      }
    );
  }

  function slotsByDay(body) {
    // {"days": [{"date": "YYYY-MM-DD", "slots": ["2025-03-31T09:00:00-04:00", ...]}, ...]}
    var byDay = {};
    listOf(body, "days").forEach(function (day) {
      if (!day || typeof day.date !== "string" || !Array.isArray(day.slots)) {
        return;
      }
      byDay[day.date] = day.slots
        .filter(function (text) {
          return typeof text === "string";
        })
        .map(function (text) {
          return { text: text, when: new Date(text) };
        })
        .filter(function (slot) {
          return !isNaN(slot.when.getTime());
        })
        .sort(function (a, b) {
          return a.when - b.when;
        });
    });
    return byDay;
  }

  function heading(service) {
    var box = el("div", "bw-chosen");
    box.appendChild(el("h3", "bw-step", service.name));
    box.appendChild(el("p", "bw-service-meta", describeService(service)));
    if (state.staff) {
      box.appendChild(el("p", "bw-staff", interpolate(gettext("With %(name)s"), { name: state.staff.name })));
    }
    return box;
  }

  function backToServices() {
    if (state.services.length < 2) {
      return null;
    }
    return button(gettext("Other services"), "bw-link", showServices);
  }

  function showWeek(service, byDay) {
    var week = el("div", "bw-week");
    var total = 0;
    for (var i = 0; i < 7; i++) {
      var day = addDays(state.weekStart, i);
      var key = isoDate(day);
      var column = el("div", "bw-day");
      column.appendChild(el("div", "bw-day-label", dayLabelFormat.format(day)));
      var slots = byDay[key] || [];
      if (!slots.length) {
        column.appendChild(el("div", "bw-day-empty", "—"));
      }
      slots.forEach(function (slot) {
        total += 1;
        var pick = button(timeFormat.format(slot.when), "bw-slot", function () {
          chooseSlot(slot);
        });
        pick.setAttribute("data-start", slot.text);
        column.appendChild(pick);
      });
      week.appendChild(column);
    }
    var nav = el("div", "bw-nav");
    var earlier = button("‹ " + gettext("Earlier"), "bw-link", function () {
      state.weekStart = addDays(state.weekStart, -7);
      loadWeek();
    });
    earlier.disabled = state.weekStart <= startOfToday();
    nav.appendChild(earlier);
    nav.appendChild(el("span", "bw-zone", interpolate(gettext("Times in %(zone)s"), { zone: zone })));
    nav.appendChild(
      button(gettext("Later") + " ›", "bw-link", function () {
        state.weekStart = addDays(state.weekStart, 7);
        loadWeek();
      })
    );
    var notice = state.notice ? message("error", state.notice) : null;
    if (notice) {
      notice.className += " bw-taken";
      state.notice = "";
    }
    show([
      heading(service),
      notice,
      nav,
      total ? null : message("info", gettext("No free times this week. Try a later week.")),
      week,
      otherPeople(),
      backToServices(),
    ]);
  }

  // --- step 4: the form -------------------------------------------------------------------------

  var FIELDS = [
    { name: "customer_name", label: gettext_noop("Name"), type: "text", required: true, autocomplete: "name", max: 120 },
    { name: "customer_email", label: gettext_noop("Email"), type: "email", required: true, autocomplete: "email", max: 254 },
    { name: "customer_phone", label: gettext_noop("Phone"), type: "tel", required: false, autocomplete: "tel", max: 40 },
    { name: "notes", label: gettext_noop("Notes"), type: "textarea", required: false, max: 2000 },
  ];

  function chooseSlot(slot, notice) {
    state.slot = slot;
    var form = el("form", "bw-form");
    form.noValidate = false;
    var inputs = {};
    FIELDS.forEach(function (field) {
      var row = el("div", "bw-field");
      var id = "bw-" + targetId + "-" + field.name;
      var label = el("label", "bw-label", field.required ? gettext(field.label) : interpolate(gettext("%(field)s (optional)"), { field: gettext(field.label) }));
      label.htmlFor = id;
      var input = field.type === "textarea" ? el("textarea", "bw-input") : el("input", "bw-input");
      if (field.type !== "textarea") {
        input.type = field.type;
      }
      input.id = id;
      input.name = field.name;
      input.required = field.required;
      input.maxLength = field.max;
      if (field.autocomplete) {
        input.autocomplete = field.autocomplete;
      }
      var error = el("div", "bw-field-error");
      error.id = id + "-error";
      error.hidden = true;
      row.appendChild(label);
      row.appendChild(input);
      row.appendChild(error);
      form.appendChild(row);
      inputs[field.name] = { input: input, error: error };
    });
    var formError = el("div", "bw-form-error");
    formError.setAttribute("role", "alert");
    var paid = isPaid(state.service);
    var submit = el("button", "bw-button bw-submit", paid ? gettext("Continue to payment") : gettext("Book"));
    submit.type = "submit";
    form.appendChild(formError);
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!state.busy) {
        book(inputs, formError, submit);
      }
    });
    show([
      heading(state.service),
      el("p", "bw-when", withZone(longFormat.format(slot.when))),
      notice || null,
      paid
        ? message("info", interpolate(gettext("This service is paid when booking: %(price)s by card. The time is held for you while you pay."), { price: priceOf(state.service) }))
        : null,
      form,
      button(gettext("Choose another time"), "bw-link", loadWeek),
    ]);
    inputs.customer_name.input.focus();
  }

  function showFieldErrors(inputs, formError, body) {
    var errors = (body && (body.errors || body.fields || body.field_errors)) || {};
    var shown = false;
    Object.keys(inputs).forEach(function (name) {
      var slot = inputs[name];
      var messages = errors[name] || errors[name.replace("customer_", "")];
      if (messages) {
        slot.error.textContent = [].concat(messages).map(textOf).join(" ");
        slot.error.hidden = false;
        slot.input.setAttribute("aria-invalid", "true");
        slot.input.setAttribute("aria-describedby", slot.error.id);
        shown = true;
      } else {
        slot.error.textContent = "";
        slot.error.hidden = true;
        slot.input.removeAttribute("aria-invalid");
      }
    });
    var general = [].concat(errors.__all__ || errors.non_field_errors || errors.start || []).map(textOf).join(" ");
    formError.textContent = general || (shown ? gettext("Please correct the marked fields.") : textOf(body && body.message) || gettext("Please check your details."));
  }

  function textOf(value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (typeof value === "object") {
      return String(value.message || value.msg || "");
    }
    return String(value);
  }

  function book(inputs, formError, submit) {
    var payload = { service: state.service.slug, start: state.slot.text, tz: zone };
    if (state.staff) {
      payload.staff = String(state.staff.id);
    }
    Object.keys(inputs).forEach(function (name) {
      payload[name] = inputs[name].input.value.trim();
    });
    state.busy = true;
    submit.disabled = true;
    formError.textContent = "";
    request("bookings", { json: payload }).then(
      function (body) {
        state.busy = false;
        confirmed(body);
      },
      function (error) {
        state.busy = false;
        submit.disabled = false;
        if (error instanceof ApiError && error.status === 409) {
          loadWeekWithNotice(gettext("Sorry, this time was just taken. Please choose another one."));
        } else if (error instanceof ApiError && error.status === 400) {
          showFieldErrors(inputs, formError, error.body);
        } else {
          clear(formError);
          formError.appendChild(failure(error, null));
        }
      }
    );
  }

  function loadWeekWithNotice(text) {
    state.notice = text;
    loadWeek();
  }

  // --- step 5: confirmation ---------------------------------------------------------------------

  function safeLink(href) {
    // Only a link back to our own host: never javascript: or another site.
    try {
      var url = new URL(String(href), origin);
      if (url.origin === origin && (url.protocol === "https:" || url.protocol === "http:")) {
        return url.href;
      }
    } catch (e) {
      return null;
    }
    return null;
  }

  function done(title, booking, start, note, linkText, linkHref) {
    // The last step: what was booked, a note, and a link to our own host opening in a new tab.
    var parts = [el("h3", "bw-step bw-done", title)];
    parts.push(el("p", "bw-when", (booking.service_name || state.service.name) + ", " + withZone(longFormat.format(start))));
    var who = booking.staff && typeof booking.staff.name === "string" ? booking.staff.name : "";
    var room = booking.resource && typeof booking.resource.name === "string" ? booking.resource.name : "";
    if (who) {
      parts.push(el("p", "bw-staff", interpolate(gettext("With %(name)s"), { name: who }) + (room ? " · " + room : "")));
    }
    parts.push(note);
    var href = safeLink(linkHref);
    if (href) {
      var link = el("a", "bw-manage", linkText);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parts.push(link);
    }
    show(parts);
  }

  function confirmed(body) {
    body = body || {};
    var booking = body.booking || {};
    var start = new Date(booking.start || state.slot.text);
    if (booking.status === "pending_payment") {
      // A paid service: the time is held until it is paid on our payment page (Stripe's card
      // fields); only the payment confirms the booking.
      var until = booking.hold_expires_at ? new Date(booking.hold_expires_at) : null;
      var note = message(
        "info",
        until
          ? interpolate(gettext("This time is held for you until %(time)s. It becomes your booking once it is paid."), { time: withZone(timeFormat.format(until)) })
          : gettext("This time is held for you. It becomes your booking once it is paid.")
      );
      done(gettext("Almost done: pay to confirm"), booking, start, note, gettext("Pay now"), body.payment_url);
      return;
    }
    done(
      gettext("Booked!"), booking, start, message("success", gettext("A confirmation is on its way to your email.")),
      gettext("Manage or cancel your booking"), body.manage_url
    );
  }

  // --- start ----------------------------------------------------------------------------------

  function start() {
    root = document.getElementById(targetId);
    if (!root) {
      return;
    }
    root.classList.add("bw-widget");
    if (!partner || !/^[-a-zA-Z0-9_]{1,60}$/.test(partner)) {
      show([message("error", gettext("The booking widget is missing its data-partner setting."))]);
      return;
    }
    addStylesheet();
    loadCatalog().then(loadServices);
  }

  function loadCatalog() {
    // English needs no catalogue; a catalogue that cannot be loaded leaves the English texts.
    if (lang === "en") {
      return Promise.resolve();
    }
    return request("messages").then(
      function (body) {
        if (body && body.messages && typeof body.messages === "object") {
          catalog = body.messages;
        }
      },
      function () {
        catalog = {};
      }
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

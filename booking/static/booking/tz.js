// The week of free times in the visitor's own time zone: a page opened without ?tz= picks the
// browser's zone in the zone menu and loads the page again with it (replacing this history entry,
// so Back does not land here again). Nothing happens when the browser's zone is already shown or
// is one the server does not offer. Without JavaScript the menu works as before.
(function () {
  "use strict";
  var form = document.querySelector("form.tz-form[data-auto-zone]");
  if (!form || new URLSearchParams(window.location.search).has("tz")) {
    return;
  }
  var select = form.querySelector("select[name=tz]");
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!select || !zone || select.value === zone) {
    return;
  }
  var offered = Array.prototype.some.call(select.options, function (option) {
    return option.value === zone;
  });
  if (!offered) {
    return;
  }
  select.value = zone;
  var query = new URLSearchParams(new FormData(form)).toString();
  window.location.replace(form.getAttribute("action") + "?" + query);
})();

// The payment page: Stripe's Card Element and confirmCardPayment. The card goes from these
// fields to Stripe only; this script never reads it. Messages are set with textContent; their
// text comes translated from the form's data-msg-* attributes (the page's language).
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) {
    return;
  }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  if (typeof window.Stripe !== "function") {
    errors.textContent = form.dataset.msgNotLoaded;
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  // Stripe's own field labels and card errors in the page's language.
  var card = stripe.elements({ locale: document.documentElement.lang || "auto" }).create("card");
  card.mount("#card-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, {
      payment_method: { card: card, billing_details: { name: form.dataset.customerName } }
    }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || form.dataset.msgFailed;
        button.disabled = false;
        return;
      }
      window.location.assign(form.dataset.statusUrl);
    }, function () {
      errors.textContent = form.dataset.msgNotSent;
      button.disabled = false;
    });
  });
})();

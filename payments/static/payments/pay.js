// The payment page: Stripe's Card Element and confirmCardPayment. The card goes from these
// fields to Stripe only; this script never reads it. Messages are set with textContent.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) {
    return;
  }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  if (typeof window.Stripe !== "function") {
    errors.textContent = "The secure card form could not be loaded. Please reload the page.";
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, {
      payment_method: { card: card, billing_details: { name: form.dataset.customerName } }
    }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || "The payment did not go through. Please try again.";
        button.disabled = false;
        return;
      }
      window.location.assign(form.dataset.statusUrl);
    }, function () {
      errors.textContent = "The payment could not be sent. Please check your connection and try again.";
      button.disabled = false;
    });
  });
})();

// Submits the form marked data-autosubmit once the page has loaded (SAML: carry the IdP's response on).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
});

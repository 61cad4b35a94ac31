/* Passkeys (WebAuthn) in the browser: registration, second factor, passwordless and the autofill on the email step.
 * The server makes the options and verifies the responses; this file only carries them to the authenticator.
 * Elements: [data-passkey-register], [data-passkey-challenge], [data-passkey-signin], input[autocomplete~=webauthn].
 */
(function () {
  "use strict";

  function toBytes(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return { type: d.type, id: toBytes(d.id), transports: d.transports }; });
  }

  function creationOptions(o) {
    var opts = Object.assign({}, o);
    opts.challenge = toBytes(o.challenge);
    opts.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    opts.excludeCredentials = descriptors(o.excludeCredentials);
    return opts;
  }

  function requestOptions(o) {
    var opts = Object.assign({}, o);
    delete opts.jetoState;
    opts.challenge = toBytes(o.challenge);
    opts.allowCredentials = descriptors(o.allowCredentials);
    return opts;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: response
    };
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error(data.error || "Something went wrong. Try again.");
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function showError(el, message) {
    var box = document.getElementById(el.getAttribute("data-error-target") || "passkey-error");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  function browserMessage(err) {
    if (err && err.name === "NotAllowedError") { return "The passkey request was cancelled or timed out."; }
    if (err && err.name === "SecurityError") { return "Passkeys can't be used on this address."; }
    if (err && err.name === "InvalidStateError") { return "That passkey is already registered."; }
    return (err && err.message) || "Something went wrong. Try again.";
  }

  function done(data, el) {
    if (data && data.redirect) { window.location.assign(data.redirect); return; }
    if (data && data.reauth) { window.location.assign(data.reauth + "?next=" + encodeURIComponent(location.pathname)); return; }
    if (data && data.restart) { window.location.assign(data.restart); return; }
    showError(el, "Something went wrong. Try again.");
  }

  function failed(el, err) {
    if (err && err.data && (err.data.reauth || err.data.restart)) { done(err.data, el); return; }
    showError(el, browserMessage(err));
    el.disabled = false;
  }

  if (!window.PublicKeyCredential) {
    document.querySelectorAll("[data-passkey-register],[data-passkey-challenge],[data-passkey-signin]").forEach(function (el) {
      el.disabled = true;
      showError(el, "This browser doesn't support passkeys.");
    });
    return;
  }

  // Enter in the name field starts the ceremony instead of posting the form.
  document.querySelectorAll("form.passkey-step").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[data-options-url]");
      if (button && !button.disabled) { button.click(); }
    });
  });

  var conditional = null;  // AbortController of the autofill request, if one is waiting

  function abortConditional() {
    if (conditional) { conditional.abort(); conditional = null; }
  }

  document.querySelectorAll("[data-passkey-register]").forEach(function (el) {
    el.addEventListener("click", function () {
      el.disabled = true;
      var name = document.getElementById("passkey-name");
      post(el.getAttribute("data-options-url")).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (cred) {
        return post(el.getAttribute("data-finish-url"), {
          credential: credentialJSON(cred),
          name: name ? name.value : "",
          next: el.getAttribute("data-next") || ""
        });
      }).then(function (data) { done(data, el); }, function (err) { failed(el, err); });
    });
  });

  document.querySelectorAll("[data-passkey-challenge]").forEach(function (el) {
    el.addEventListener("click", function () {
      el.disabled = true;
      post(el.getAttribute("data-options-url")).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (cred) {
        return post(el.getAttribute("data-finish-url"), { credential: credentialJSON(cred) });
      }).then(function (data) { done(data, el); }, function (err) { failed(el, err); });
    });
  });

  function passwordless(el, mediation) {
    var state = null;
    return post(el.getAttribute("data-options-url")).then(function (options) {
      state = options.jetoState;
      var request = { publicKey: requestOptions(options) };
      if (mediation) {
        conditional = new AbortController();
        request.mediation = mediation;
        request.signal = conditional.signal;
      }
      return navigator.credentials.get(request);
    }).then(function (cred) {
      return post(el.getAttribute("data-finish-url"), {
        credential: credentialJSON(cred),
        state: state,
        next: el.getAttribute("data-next") || ""
      });
    });
  }

  document.querySelectorAll("[data-passkey-signin]").forEach(function (el) {
    el.hidden = false;
    el.addEventListener("click", function () {
      abortConditional();
      el.disabled = true;
      passwordless(el, null).then(function (data) { done(data, el); }, function (err) { failed(el, err); });
    });
    // The browser's passkey autofill on the email field (conditional mediation), where the browser offers it.
    if (PublicKeyCredential.isConditionalMediationAvailable && document.querySelector("input[autocomplete~=webauthn]")) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) { return; }
        passwordless(el, "conditional").then(function (data) { done(data, el); }, function (err) {
          if (err && err.name === "AbortError") { return; }
          failed(el, err);
        });
      });
    }
  });
})();

// Gatehouse WebAuthn: security keys and passkeys. A form with
// data-webauthn="create" or "get" carries the ceremony options (JSON) in
// data-options; its button asks the browser for a credential and posts the
// answer (JSON) in the form's "answer" field. Pages work without this
// script for passwords and authenticator-app codes.
(function () {
  "use strict";
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: b64urlToBuf(c.id) }); });
  }
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    pk.excludeCredentials = ids(pk.excludeCredentials);
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.allowCredentials = ids(pk.allowCredentials);
    return { publicKey: pk };
  }
  function answer(cred) {
    var r = cred.response, resp = { clientDataJSON: bufToB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      resp.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) resp.transports = r.getTransports();
    } else {
      resp.authenticatorData = bufToB64url(r.authenticatorData);
      resp.signature = bufToB64url(r.signature);
      if (r.userHandle) resp.userHandle = bufToB64url(r.userHandle);
    }
    return JSON.stringify({ id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, response: resp,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {} });
  }
  function setup(form) {
    var status = form.querySelector("[data-webauthn-status]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (status) status.textContent = "This browser cannot use security keys or passkeys.";
      return;
    }
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      if (form.elements.answer.value) return; // the answer is in: post it
      ev.preventDefault();
      var opts = JSON.parse(form.getAttribute("data-options"));
      var p = form.getAttribute("data-webauthn") === "create"
        ? navigator.credentials.create(creationOptions(opts))
        : navigator.credentials.get(requestOptions(opts));
      if (status) status.textContent = "Follow your browser's prompt.";
      p.then(function (cred) {
        form.elements.answer.value = answer(cred);
        form.submit();
      }, function (err) {
        if (status) status.textContent = "The security key or passkey was not used (" + err.name + "). Try again.";
      });
    });
  }
  document.querySelectorAll("form[data-webauthn]").forEach(setup);
})();

// Latch's hosted login page: "Sign in with a passkey", the page's only
// script (API.md, "Hosted login page"; RATIONALE.md, "How does the page
// sign in with a passkey, and why is that its only script?"). It shows
// the passkey form, which is hidden without it, and on submit asks the
// page for the options of a sign-in, has the browser sign them with a
// passkey, and posts what it answers in the form's credential field. The
// page finishes the sign-in as it does every other: its answer is a
// redirect or a page, which the browser follows as for any form.
"use strict";
(() => {
  const box = document.getElementById("passkey");
  const form = box && box.querySelector("form");
  if (!form || !window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }
  const errors = document.getElementById("error");
  const button = form.querySelector("button");

  const fromB64url = (s) =>
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const toB64url = (buf) => {
    let s = "";
    for (const b of new Uint8Array(buf)) {
      s += String.fromCharCode(b);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // requestOptions reads the options' JSON form, binary members base64url.
  const requestOptions = (o) => {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    const out = Object.assign({}, o, { challenge: fromB64url(o.challenge) });
    if (o.allowCredentials) {
      out.allowCredentials = o.allowCredentials.map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
    }
    return out;
  };

  // credentialJSON is the assertion as credential.toJSON() renders it.
  const credentialJSON = (c) => {
    if (c.toJSON) {
      return c.toJSON();
    }
    const r = c.response;
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : undefined,
      },
    };
  };

  const fail = () => {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = box.dataset.error;
    errors.replaceChildren(p);
    button.disabled = false;
  };

  const signIn = async () => {
    const body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    body.set("return_to", form.elements.return_to.value);
    const res = await fetch(box.dataset.start, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!res.ok) {
      throw new Error("passkey start: " + res.status);
    }
    const cred = await navigator.credentials.get({ publicKey: requestOptions(await res.json()) });
    if (!cred) {
      throw new Error("no credential");
    }
    form.elements.credential.value = JSON.stringify(credentialJSON(cred));
    form.submit();
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    button.disabled = true;
    errors.replaceChildren();
    signIn().catch(fail);
  });
  // A page restored from the back-forward cache keeps its state: the
  // button disabled on the way out is usable again.
  window.addEventListener("pageshow", () => {
    button.disabled = false;
  });
  box.hidden = false;
})();

// Latch Worker glue: runs the Go engine (latch.wasm, built from edge/) on
// workerd.
//
// One Go instance is started per isolate, on the first request, and kept
// alive: each request is handed to it through binding.handle and answered
// from what it writes. Starting Go costs many milliseconds, far more than a
// request does. If the instance exits or crashes, the next request starts a
// fresh one. See RATIONALE.md, "Why one long-lived Go instance per isolate?".
//
// The private signing keys (secret LATCH_SIGNING_KEYS, a JWK set) are
// imported here as non-extractable WebCrypto keys; Go gets only the public
// members and a sign function. See RATIONALE.md, "Why does the signing key
// stay in WebCrypto?".
//
// The TOTP secrets are sealed under secret LATCH_SECRET_BOX_KEY, imported
// here as a non-extractable AES-GCM key; Go gets only seal and open
// functions. See RATIONALE.md, "Why does the Worker's secret box key stay in
// WebCrypto?".
//
// Mail sent through the send_email binding (LATCH_MAIL=send_email) is
// composed in Go; sendEmail only wraps the raw MIME in an EmailMessage and
// hands it to env.MAIL. See RATIONALE.md, "How does the Worker send mail?".
//
// make build copies this file, Go's wasm_exec.js and the Wasm build into
// edge/build/.
import { EmailMessage } from "cloudflare:email";
import "./wasm_exec.js";
import latchWasm from "./latch.wasm";

// The engine's request body limit (wasm/engine maxBodyBytes). The glue
// enforces it before reading more: a body is never buffered past it. See
// RATIONALE.md, "Why does the glue refuse large bodies itself?".
const maxBodyBytes = 1 << 20;

// syumai's D1 driver reads globalThis.context (captured when Go starts) and
// looks bindings up on context.env. The object stays the same for the life
// of the isolate; env and ctx are refreshed on every request.
const context = { env: undefined, ctx: undefined, binding: undefined };
globalThis.context = context;

let live; // the started instance: { binding, dead, exited }
let starting; // Promise of the instance being started
let signerCache; // { raw, signer } for the last LATCH_SIGNING_KEYS seen
let boxCache; // { raw, box } for the last LATCH_SECRET_BOX_KEY seen

export default {
  async fetch(request, env, ctx) {
    context.env = env;
    context.ctx = ctx;
    const declared = request.headers.get("Content-Length");
    if (declared !== null && !(Number(declared) <= maxBodyBytes)) {
      return tooLarge(env);
    }
    let inst;
    try {
      inst = await liveInstance(env);
    } catch (err) {
      console.error("latch: engine did not start:", err && err.message);
      return internalError(env);
    }
    const body = await readBody(request);
    if (body === undefined) {
      return tooLarge(env);
    }
    let headers = "";
    for (const [name, value] of request.headers) {
      headers += name + "\n" + value + "\n";
    }
    let res;
    try {
      res = await serve(inst, request.method, request.url, headers, body);
    } catch (err) {
      console.error("latch:", err && err.message);
      drop(inst);
      return internalError(env);
    }
    const h = new Headers();
    const parts = res.head.split("\n");
    for (let i = 0; i + 1 < parts.length; i += 2) {
      h.append(parts[i], parts[i + 1]);
    }
    const nullBody = request.method === "HEAD" || res.status === 204 || res.status === 304;
    return new Response(nullBody ? null : res.out, { status: res.status, headers: h });
  },
};

// readBody reads the request body through its stream, up to maxBodyBytes:
// it returns the bytes (null when there is no body), or undefined as soon as
// the body passes the limit, cancelling the rest unread.
async function readBody(request) {
  if (request.body === null) {
    return null;
  }
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) {
    return chunks[0];
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

// liveInstance returns the running Go instance, starting one if there is
// none or the last one exited. Concurrent first requests share one start.
function liveInstance(env) {
  if (live !== undefined && !live.dead) {
    return live;
  }
  if (starting === undefined) {
    starting = startInstance(env).then(
      (inst) => {
        live = inst;
        starting = undefined;
        return inst;
      },
      (err) => {
        starting = undefined;
        throw err;
      },
    );
  }
  return starting;
}

function drop(inst) {
  inst.dead = true;
}

// serve hands one request to Go and resolves with its answer; it rejects if
// the instance exits first.
function serve(inst, method, url, headers, body) {
  return new Promise((resolve, reject) => {
    if (inst.dead) {
      reject(new Error("engine has exited"));
      return;
    }
    inst.pending.add(reject);
    try {
      inst.binding.handle(method, url, headers, body, (status, head, out) => {
        inst.pending.delete(reject);
        resolve({ status, head, out });
      });
    } catch (err) {
      inst.pending.delete(reject);
      reject(err);
    }
  });
}

async function startInstance(env) {
  const signer = await signerFor(env.LATCH_SIGNING_KEYS);
  const secretBox = await secretBoxFor(env.LATCH_SECRET_BOX_KEY);
  const go = new Go();
  let ready;
  const readyP = new Promise((resolve) => (ready = resolve));
  const binding = { signer, secretBox, sendEmail, ready: () => ready() };
  context.binding = binding;
  const instance = new WebAssembly.Instance(latchWasm, go.importObject);
  // pending holds the reject functions of requests Go has not answered,
  // so that they fail at once if Go exits.
  const inst = { binding, dead: false, exited: undefined, pending: new Set() };
  inst.exited = go.run(instance).then(() => {
    inst.dead = true;
    for (const reject of inst.pending) reject(new Error("engine exited while serving a request"));
    inst.pending.clear();
  });
  await Promise.race([
    readyP,
    inst.exited.then(() => {
      throw new Error("engine exited during start");
    }),
  ]);
  return inst;
}

// signerFor imports the first unretired key of the JWK set for signing and
// lists the public members of all of them, with when each retired (a key's
// retired_at, Unix seconds; 0 for a key that signs). A broken set yields {error}, which the
// engine reports as misconfiguration; messages never quote the secret.
async function signerFor(raw) {
  if (signerCache !== undefined && signerCache.raw === raw) {
    return signerCache.signer;
  }
  const signer = await importSigner(raw);
  signerCache = { raw, signer };
  return signer;
}

async function importSigner(raw) {
  if (typeof raw !== "string" || raw === "") {
    return { error: "LATCH_SIGNING_KEYS is not set" };
  }
  let set;
  try {
    set = JSON.parse(raw);
  } catch {
    return { error: "LATCH_SIGNING_KEYS is not valid JSON" };
  }
  if (set === null || typeof set !== "object" || !Array.isArray(set.keys) || set.keys.length === 0) {
    return { error: "LATCH_SIGNING_KEYS holds no key" };
  }
  const keys = [];
  for (const k of set.keys) {
    if (k === null || typeof k !== "object" || k.kty !== "RSA" || typeof k.kid !== "string" ||
        typeof k.n !== "string" || typeof k.e !== "string") {
      return { error: "LATCH_SIGNING_KEYS holds a key that is not an RSA JWK with a kid" };
    }
    if (k.retired_at !== undefined && !(Number.isSafeInteger(k.retired_at) && k.retired_at > 0)) {
      return { error: "LATCH_SIGNING_KEYS holds a key whose retired_at is not a positive integer" };
    }
    keys.push({ kid: k.kid, n: k.n, e: k.e, retired_at: k.retired_at ?? 0 });
  }
  const first = set.keys.find((k) => k.retired_at === undefined);
  if (first === undefined) {
    return { error: "LATCH_SIGNING_KEYS holds no unretired key to sign with" };
  }
  let key;
  try {
    key = await crypto.subtle.importKey(
      "jwk",
      { kty: "RSA", alg: "RS256", n: first.n, e: first.e, d: first.d, p: first.p, q: first.q,
        dp: first.dp, dq: first.dq, qi: first.qi },
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
  } catch {
    return { error: "LATCH_SIGNING_KEYS: the signing key is not a usable RSA private key" };
  }
  const sign = async (input) => {
    try {
      return new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, input));
    } catch {
      throw new Error("WebCrypto could not sign");
    }
  };
  return { keys, kid: first.kid, sign };
}

// The layout of a sealed value, as keys.SecretBox (wasm/keys) writes it:
// version byte, 12-byte nonce, AES-256-GCM ciphertext with its 16-byte tag,
// no additional data.
const sealVersion = 1;
const nonceBytes = 12;
const tagBytes = 16;

// secretBoxFor imports LATCH_SECRET_BOX_KEY (32 bytes, unpadded base64url)
// as a non-extractable AES-GCM key and returns { seal, open }, each taking a
// Uint8Array and resolving with one. No key yields undefined: the engine
// then has no SecretBox and answers its TOTP endpoints with 503. A key that
// is not 32 bytes of unpadded base64url yields {error}, which the engine
// reports as misconfiguration; messages never quote the secret.
async function secretBoxFor(raw) {
  if (boxCache !== undefined && boxCache.raw === raw) {
    return boxCache.box;
  }
  const box = await importSecretBox(raw);
  boxCache = { raw, box };
  return box;
}

async function importSecretBox(raw) {
  if (raw === undefined || raw === "") {
    return undefined;
  }
  const bytes = typeof raw === "string" ? base64urlKey(raw) : undefined;
  if (bytes === undefined) {
    return { error: "LATCH_SECRET_BOX_KEY is not 32 bytes in unpadded base64url" };
  }
  let key;
  try {
    key = await crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  } catch {
    return { error: "LATCH_SECRET_BOX_KEY is not a usable AES-256-GCM key" };
  }
  bytes.fill(0);
  const seal = async (plaintext) => {
    const iv = crypto.getRandomValues(new Uint8Array(nonceBytes));
    let ct;
    try {
      ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plaintext));
    } catch {
      throw new Error("WebCrypto could not seal");
    }
    const out = new Uint8Array(1 + nonceBytes + ct.byteLength);
    out[0] = sealVersion;
    out.set(iv, 1);
    out.set(ct, 1 + nonceBytes);
    return out;
  };
  const open = async (sealed) => {
    if (sealed.byteLength < 1 + nonceBytes + tagBytes || sealed[0] !== sealVersion) {
      throw new Error("sealed value does not open with this key");
    }
    try {
      const iv = sealed.subarray(1, 1 + nonceBytes);
      return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, sealed.subarray(1 + nonceBytes)));
    } catch {
      throw new Error("sealed value does not open with this key");
    }
  };
  return { seal, open };
}

// base64urlKey decodes s, 32 bytes in canonical unpadded base64url (43
// characters), or returns undefined.
function base64urlKey(s) {
  if (!/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(s)) {
    return undefined;
  }
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/") + "=");
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    out[i] = bin.charCodeAt(i);
  }
  return out.length === 32 ? out : undefined;
}

// sendEmail sends the raw RFC 5322 message raw (composed by Go, its From
// header's address being from) to to through the send_email binding MAIL of
// the current request's env. It resolves once the binding accepted the
// message; a rejection (sender or recipient not allowed, message refused)
// is a delivery failure, and its message is the binding's, which names no
// secret.
async function sendEmail(from, to, raw) {
  const mail = context.env && context.env.MAIL;
  if (mail === undefined || typeof mail.send !== "function") {
    throw new Error("send_email binding MAIL is missing");
  }
  try {
    await mail.send(new EmailMessage(from, to, raw));
  } catch (err) {
    throw new Error("send_email: " + ((err && err.message) || "refused"));
  }
}

// internalError is the Worker's generic 500: the cause goes to the log
// (console.error, Go's logger), never to the caller.
function internalError(env) {
  return errorResponse(env, 500, "internal_server_error", "An unexpected error occurred.");
}

// tooLarge is the engine's answer to a body over its limit.
function tooLarge(env) {
  return errorResponse(env, 413, "request_too_large", `Request body exceeds ${maxBodyBytes} bytes.`);
}

// errorResponse is a Stytch-shaped error, like the engine's.
function errorResponse(env, status, type, message) {
  const live = typeof env.LATCH_PROJECT_ID === "string" && env.LATCH_PROJECT_ID.startsWith("project-live-");
  return Response.json(
    {
      status_code: status,
      request_id: `request-id-${live ? "live" : "test"}-${crypto.randomUUID()}`,
      error_type: type,
      error_message: message,
      error_url: `https://stytch.com/docs/api/errors/${status}#${type}`,
    },
    { status, headers: { "Cache-Control": "no-store" } },
  );
}

// Latch Worker glue: runs the Go engine (latch.wasm, built from edge/) on
// workerd.
//
// One Go instance is started per isolate, as the isolate starts (startEarly;
// on the first request if that fails), and kept alive: each request is
// handed to it through binding.handle and answered from what it writes.
// Starting Go costs many milliseconds, far more than a request does. If the
// instance exits or crashes, the next request starts a fresh one. See
// RATIONALE.md, "Why one long-lived Go instance per isolate?" and "Why does
// Go start with the isolate?".
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
// The engine's outbound requests (social login: a provider's discovery
// document, token endpoint, keys and user endpoint) go through
// fetchOutbound, with the runtime's fetch: no redirect followed, a timeout
// and a cap on the answer's size. See RATIONALE.md, "Why is outbound HTTP
// a host capability?".
//
// Feed reads that may wait (GET /v1/sessions/revocations with wait > 0) go,
// once the engine has checked their credentials and parameters, to one
// Durable Object, RevocationFeed, which asks the engine, holds the read
// while there is nothing new and asks again when a revoke's notify
// arrives. See RATIONALE.md, "Why does a Durable Object hold the feed's
// waiting reads?".
//
// make build copies this file, Go's wasm_exec.js and the Wasm build into
// edge/build/.
import { EmailMessage } from "cloudflare:email";
import { DurableObject, env as startupEnv } from "cloudflare:workers";
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

// startEarly starts Go while the isolate starts, not on its first request:
// Cloudflare runs a Worker's top-level code while the visitor's TLS
// handshake is still going on, and starting Go (its runtime, the packages'
// init, the engine) is most of what a fresh isolate's first request cost.
// The bindings are the module's (cloudflare:workers' env). If that start
// fails, the first request starts Go as before. Called at the end of this
// module, once every constant above is set. See RATIONALE.md, "Why does Go
// start with the isolate?".
function startEarly() {
  context.env = startupEnv;
  const failed = (err) => {
    console.warn("latch: engine did not start with the isolate; the first request starts it:", err && err.message);
  };
  try {
    earlyStart = liveInstance(startupEnv);
    earlyStart.catch(failed).finally(() => (earlyStart = undefined));
  } catch (err) {
    failed(err);
  }
}

let earlyStart; // the Promise of startEarly's start, while it runs

// instanceFor is liveInstance for a request: a request that waited on the
// isolate's own start (startEarly) and saw it fail starts Go itself, with
// its own env, rather than failing.
async function instanceFor(env) {
  const p = liveInstance(env);
  if (p !== earlyStart) {
    return p;
  }
  try {
    return await p;
  } catch {
    return liveInstance(env);
  }
}

export default {
  async fetch(request, env, ctx) {
    context.env = env;
    context.ctx = ctx;
    if (waitsForFeed(request, env)) {
      return holdFeedRead(request, env, ctx);
    }
    const res = await handle(request, env, ctx);
    // A revoke's notify outlives the response that answers the revoke.
    if (notifying.size > 0) {
      ctx.waitUntil(Promise.allSettled([...notifying]));
    }
    return res;
  },
};

// handle answers request through the engine; the writes the engine makes
// after its answer (engine.Config.Later) go to ctx.waitUntil.
async function handle(request, env, ctx) {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && !(Number(declared) <= maxBodyBytes)) {
    return tooLarge(env);
  }
  let inst;
  try {
    inst = await instanceFor(env);
  } catch (err) {
    console.error("latch: engine did not start:", err && err.message);
    return internalError(env);
  }
  const body = await readBody(request);
  if (body === undefined) {
    return tooLarge(env);
  }
  let res;
  try {
    res = await serve(inst, request.method, request.url, headerString(request.headers), body);
  } catch (err) {
    console.error("latch:", err && err.message);
    drop(inst);
    return internalError(env);
  }
  if (res.after !== undefined) {
    ctx.waitUntil(res.after);
  }
  return toResponse(request.method, res);
}

// askEngine asks the engine GET url with headers (wire.go's string form)
// and resolves with its answer, or with undefined when the engine failed
// (logged).
function askEngine(env, url, headers) {
  return withEngine(env, (inst) => serve(inst, "GET", url, headers, null));
}

// admitFeedRead asks the engine whether the feed read GET url with headers
// may wait (edge/feed_js.go, engine.ServeFeedWait): it resolves with
// status 0 when it may, with the engine's answer when it may not (no
// credentials, a refused wait or cursor), or with undefined when the engine
// failed (logged).
function admitFeedRead(env, url, headers) {
  return withEngine(env, (inst) => call(inst, "feedWait", url, headers));
}

// withEngine resolves with f(instance), or with undefined when the engine
// does not start or f fails (logged; the instance is dropped).
async function withEngine(env, f) {
  let inst;
  try {
    inst = await instanceFor(env);
  } catch (err) {
    console.error("latch: engine did not start:", err && err.message);
    return undefined;
  }
  try {
    return await f(inst);
  } catch (err) {
    console.error("latch:", err && err.message);
    drop(inst);
    return undefined;
  }
}

// headerString is headers in wire.go's "name\nvalue\n" form.
function headerString(headers) {
  let s = "";
  for (const [name, value] of headers) {
    s += name + "\n" + value + "\n";
  }
  return s;
}

// headersFrom parses wire.go's "name\nvalue\n" form.
function headersFrom(head) {
  const h = new Headers();
  const parts = head.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) {
    h.append(parts[i], parts[i + 1]);
  }
  return h;
}

// postWebhook posts a signed mail webhook body (signed by Go, mail.Sign) to
// url through the Fetch API and resolves to the answer's status; a network
// failure, or no answer within webhookTimeoutMs, rejects. The Go side
// retries (mail.Webhook), as it does after the Go hosts' client timeout;
// the timer is set here because Go's timers may not fire while a request
// waits (edge/fetch_js.go). Posting here rather than with Go's net/http
// keeps Go's HTTP client out of the Worker's Wasm.
async function postWebhook(url, head, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), webhookTimeoutMs);
  try {
    const res = await fetch(url, { method: "POST", headers: headersFrom(head), body, redirect: "manual", signal: controller.signal });
    await res.body?.cancel().catch(() => {});
    return res.status;
  } catch (err) {
    throw controller.signal.aborted ? new Error(`no answer within ${webhookTimeoutMs / 1000}s`) : err;
  } finally {
    clearTimeout(timer);
  }
}

// webhookTimeoutMs bounds one post of a mail webhook, as the Go hosts'
// client does (mail.Webhook).
const webhookTimeoutMs = 10000;

// fetchOutbound is the engine's outbound HTTP (oauth.Fetcher,
// edge/fetch_js.go): it fetches url with method, head (wire.go's string
// form) and body (a Uint8Array or null), follows no redirect (a 3xx is
// answered as it came), reads at most maxBytes of the answer and gives up
// after timeoutMs. It calls done exactly once: done(status, head, body,
// "") with the answer, or done(0, "", null, why) when the fetch failed,
// why naming the cause in the glue's words or the runtime's, never a
// header or a body. It returns abort(), which ends the fetch early (Go's
// context ended); done is still called, with why "cancelled".
function fetchOutbound(method, url, head, body, timeoutMs, maxBytes, done) {
  const controller = new AbortController();
  let why; // set before the fetch is aborted: what ended it
  const stop = (reason) => {
    if (why === undefined) {
      why = reason;
      controller.abort();
    }
  };
  // Go keeps the same deadline, but its timers may not fire while this
  // request waits (edge/fetch_js.go); this one is set by it.
  const timer = setTimeout(() => stop(`no answer within ${timeoutMs / 1000}s`), timeoutMs);
  fetchLimited(method, url, head, body, maxBytes, controller.signal)
    .then(
      (res) => done(res.status, res.head, res.out, ""),
      (err) => done(0, "", null, why ?? ((err && err.message) || "fetch failed")),
    )
    .finally(() => clearTimeout(timer));
  return () => stop("cancelled");
}

// fetchLimited is fetchOutbound's fetch: it resolves with { status, head,
// out } once the whole answer is read, and rejects when the URL is not
// http or https, when the fetch fails or is aborted, or when the answer
// declares or streams more than maxBytes (the rest is left unread).
async function fetchLimited(method, url, head, body, maxBytes, signal) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new Error("the URL is not absolute");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new Error("the scheme is not http or https");
  }
  const res = await fetch(u.href, { method, headers: headersFrom(head), body, redirect: "manual", signal });
  const tooLarge = `answer larger than ${maxBytes} bytes`;
  const declared = res.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new Error(tooLarge);
  }
  const out = await readStream(res.body, maxBytes);
  if (out === undefined) {
    throw new Error(tooLarge);
  }
  return { status: res.status, head: headerString(res.headers), out: out ?? new Uint8Array(0) };
}

// toResponse builds the Response of an engine answer.
function toResponse(method, res) {
  const h = headersFrom(res.head);
  const nullBody = method === "HEAD" || res.status === 204 || res.status === 304;
  return new Response(nullBody ? null : res.out, { status: res.status, headers: h });
}

// readBody reads the request body through its stream, up to maxBodyBytes:
// it returns the bytes (null when there is no body), or undefined as soon as
// the body passes the limit, cancelling the rest unread.
function readBody(request) {
  return readStream(request.body, maxBodyBytes);
}

// readStream reads stream (a body, or null) whole, up to limit bytes: it
// returns the bytes (null when there is no body), or undefined as soon as
// the body passes the limit, cancelling the rest unread.
async function readStream(stream, limit) {
  if (stream === null) {
    return null;
  }
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
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
  return call(inst, "handle", method, url, headers, body);
}

// call calls Go's binding[fn](...args, done) and resolves with what done
// is given, { status, head, out, after }; it rejects if the instance exits
// first. after, when defined, settles once the work the engine left for
// after the answer is done (edge/bridge_js.go).
function call(inst, fn, ...args) {
  return new Promise((resolve, reject) => {
    if (inst.dead) {
      reject(new Error("engine has exited"));
      return;
    }
    inst.pending.add(reject);
    try {
      inst.binding[fn](...args, (status, head, out, after) => {
        inst.pending.delete(reject);
        resolve({ status, head, out, after });
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
  seedOutsideRequests(go);
  let ready;
  const readyP = new Promise((resolve) => (ready = resolve));
  const binding = { signer, secretBox, sendEmail, postWebhook, fetchOutbound, notifyRevoked, ready: () => ready() };
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

// seedOutsideRequests lets Go's runtime seed itself when Go starts outside
// a request (startEarly), where Workers refuse crypto.getRandomValues. The
// runtime asks for randomness exactly once, for the seed of its internal
// generator (map hashing, math/rand; never a token or a key): that first
// call, if crypto.getRandomValues throws, is filled from Math.random, which
// Workers allow there, a V8 generator seeded by the isolate and never seen
// outside it. Every later call (crypto/rand: tokens, keys, nonces) goes to
// crypto.getRandomValues and fails if it fails. See RATIONALE.md, "Why
// does Go start with the isolate?".
function seedOutsideRequests(go) {
  const imports = go.importObject.gojs;
  const getRandomData = imports["runtime.getRandomData"];
  let first = true;
  imports["runtime.getRandomData"] = (sp) => {
    if (!first) {
      return getRandomData(sp);
    }
    first = false;
    try {
      return getRandomData(sp);
    } catch {
      sp >>>= 0;
      const mem = new DataView(go._inst.exports.mem.buffer);
      const int64 = (addr) => mem.getUint32(addr, true) + mem.getInt32(addr + 4, true) * 4294967296;
      const seed = new Uint8Array(go._inst.exports.mem.buffer, int64(sp + 8), int64(sp + 16));
      for (let i = 0; i < seed.length; i++) {
        seed[i] = Math.floor(Math.random() * 256);
      }
    }
  };
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

// The revocation feed's waiting reads. See RATIONALE.md, "Why does a
// Durable Object hold the feed's waiting reads?".

const feedPath = "/v1/sessions/revocations";
// The one object of the project: every waiting read and every notify meet
// there.
const feedObjectName = "revocations";
const notifyPath = "/notify";
// A waiting read may join what the object already knows for its cursor and
// credentials, without a D1 read, when that knowledge comes from a read
// begun less than freshMs ago with no notify since: the verifiers that
// re-poll together after a wake-up share one read. It also bounds how long
// a lost notify can keep an event from a fresh read.
const freshMs = 1000;

// The notifies sent and not yet settled, kept alive past the response of
// the revoke that sent them.
const notifying = new Set();

// waitsForFeed reports whether request is a feed read that may wait, for a
// Worker that has the feed's object.
function waitsForFeed(request, env) {
  if (request.method !== "GET" || env.REVOCATIONS === undefined) {
    return false;
  }
  const url = new URL(request.url);
  if (url.pathname !== feedPath) {
    return false;
  }
  const wait = url.searchParams.get("wait");
  return wait !== null && wait !== "" && wait !== "0";
}

function feedObject(env) {
  return env.REVOCATIONS.get(env.REVOCATIONS.idFromName(feedObjectName));
}

// holdFeedRead passes a waiting feed read to the object once the engine
// has said it may wait: the project's credentials and a wait and cursor it
// takes. Any other read the engine answers here, at once, so that nothing
// without the credentials reaches the object, or waits at all. See
// RATIONALE.md, "Why does the Worker's engine see a waiting read before
// the feed's object?". If the object fails (it restarted, say, dropping
// what it held), the engine answers at once: an answer without events is
// always true, and the reader polls again with its cursor.
async function holdFeedRead(request, env, ctx) {
  const admitted = await admitFeedRead(env, request.url, headerString(request.headers));
  if (admitted === undefined) {
    return internalError(env);
  }
  if (admitted.status !== 0) {
    return toResponse("GET", admitted);
  }
  try {
    return await feedObject(env).fetch(request);
  } catch (err) {
    console.error("latch: revocation feed object failed, answering without waiting:", err && err.message);
    return handle(request, env, ctx);
  }
}

// notifyRevoked is engine.Config.Revoked on the Worker (edge/feed_js.go):
// it tells the object that sessions ended early and returns at once; a
// failed notify is logged, and the reads it would have woken answer at
// their deadline. It never throws.
function notifyRevoked() {
  let sent;
  try {
    sent = feedObject(context.env)
      .fetch("https://feed" + notifyPath, { method: "POST" })
      .then((res) => {
        if (res.status !== 204) {
          throw new Error(`status ${res.status}`);
        }
      });
  } catch (err) {
    sent = Promise.reject(err);
  }
  const settled = sent
    .catch((err) => {
      console.error("latch: revocation feed notify failed (waiting reads answer at their deadline):", err && err.message);
    })
    .finally(() => notifying.delete(settled));
  notifying.add(settled);
}

// RevocationFeed holds the feed's waiting reads. It keeps only memory:
// waiting reads grouped by the cursor they read after and their
// credentials, each group with the last answer the engine gave it. A read
// asks the engine once; with nothing new it waits until a notify, when the
// object asks the engine once per group (not per read), or until its wait
// passes, when it gets the last answer (no events, the same cursor).
export class RevocationFeed extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.gen = 0; // notifies received
    this.groups = new Map(); // groupKey(cursor, authorization) -> group
  }

  async fetch(request) {
    context.env = this.env;
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === notifyPath) {
      this.notified();
      return new Response(null, { status: 204 });
    }
    return this.poll(request, url);
  }

  async poll(request, url) {
    const cursor = url.searchParams.get("cursor") ?? "";
    const wait = waitSeconds(url.searchParams.get("wait"));
    const auth = request.headers.get("Authorization") ?? "";
    const known = this.groups.get(groupKey(cursor, auth));
    if (wait > 0 && known !== undefined &&
        (known.reading || (known.gen === this.gen && Date.now() - known.at < freshMs))) {
      return this.hold(known, wait);
    }
    const gen = this.gen;
    const at = Date.now();
    const res = await askEngine(this.env, request.url, headerString(request.headers));
    if (res === undefined) {
      return internalError(this.env);
    }
    const empty = emptyAnswer(res);
    if (empty === undefined || wait <= 0) {
      return toResponse("GET", res); // an error or news: answered at once
    }
    const key = groupKey(empty.cursor, auth);
    let g = this.groups.get(key);
    if (g === undefined) {
      const read = new URL(url);
      read.searchParams.delete("wait");
      read.searchParams.set("cursor", empty.cursor);
      g = { key, url: read.href, headers: auth === "" ? "" : `authorization\n${auth}\n`,
            waiters: new Set(), reading: false, again: false, gen, at, last: res };
      this.groups.set(key, g);
    }
    const held = this.hold(g, wait);
    if (gen !== this.gen) {
      this.read(g); // a notify came while the engine answered
    }
    return held;
  }

  // hold waits in g until a read of g has news or wait seconds pass.
  hold(g, wait) {
    return new Promise((resolve) => {
      const w = { resolve, timer: undefined };
      w.timer = setTimeout(() => {
        g.waiters.delete(w);
        this.forget(g);
        resolve(toResponse("GET", renamed(g.last)));
      }, wait * 1000);
      g.waiters.add(w);
    });
  }

  notified() {
    this.gen++;
    for (const g of this.groups.values()) {
      if (g.waiters.size > 0) {
        this.read(g);
      }
    }
  }

  // read asks the engine for g's cursor, again while notifies arrived
  // during the last read, and answers g's reads once there is news.
  async read(g) {
    if (g.reading) {
      g.again = true;
      return;
    }
    g.reading = true;
    try {
      for (;;) {
        g.again = false;
        const gen = this.gen;
        const at = Date.now();
        const res = await askEngine(this.env, g.url, g.headers);
        if (res === undefined || emptyAnswer(res) === undefined) {
          this.answer(g, res);
          return;
        }
        Object.assign(g, { last: res, gen, at });
        if (!g.again && gen === this.gen) {
          return;
        }
      }
    } finally {
      g.reading = false;
      this.forget(g);
    }
  }

  // answer answers every read held in g with res (undefined: the engine
  // failed) and drops g.
  answer(g, res) {
    if (this.groups.get(g.key) === g) {
      this.groups.delete(g.key);
    }
    for (const w of g.waiters) {
      clearTimeout(w.timer);
      w.resolve(res === undefined ? internalError(this.env) : toResponse("GET", renamed(res)));
    }
    g.waiters.clear();
  }

  // forget drops g once nothing waits in it or reads for it.
  forget(g) {
    if (g.waiters.size === 0 && !g.reading && this.groups.get(g.key) === g) {
      this.groups.delete(g.key);
    }
  }
}

function groupKey(cursor, auth) {
  return cursor + "\n" + auth;
}

// waitSeconds is the wait parameter as the engine reads it (strconv.Atoi,
// 0…30), or -1 when the engine refuses it.
function waitSeconds(w) {
  if (w === null || w === "") {
    return 0;
  }
  if (!/^[+-]?[0-9]{1,3}$/.test(w)) {
    return -1;
  }
  const n = Number(w);
  return n >= 0 && n <= 30 ? n : -1;
}

// emptyAnswer returns {cursor} when res is a feed answer with nothing new
// (status 200, no event, no reset), else undefined.
function emptyAnswer(res) {
  if (res.status !== 200) {
    return undefined;
  }
  let a;
  try {
    a = JSON.parse(new TextDecoder().decode(res.out));
  } catch {
    return undefined;
  }
  if (!Array.isArray(a.events) || a.events.length > 0 || a.reset !== false || typeof a.cursor !== "string") {
    return undefined;
  }
  return { cursor: a.cursor };
}

// renamed is res with a request_id of its own: one engine answer may go to
// many reads.
function renamed(res) {
  const text = new TextDecoder().decode(res.out).replace(
    /"request_id":"(request-id-(?:test|live)-)[0-9a-f-]{36}"/,
    (_, prefix) => `"request_id":"${prefix}${crypto.randomUUID()}"`,
  );
  return { status: res.status, head: res.head, out: new TextEncoder().encode(text) };
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

startEarly();

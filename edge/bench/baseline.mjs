// Baseline for `make bench`: a plain JavaScript Worker that answers
// POST /v1/sessions/authenticate {session_token} the way the Latch engine
// does, issuing the same D1 statements (one SELECT joining session, user and
// password, the row built as one JSON object by SQLite, as in
// wasm/engine/store.go; the throttled last_accessed_at UPDATE) and signing
// the session JWT with WebCrypto, as the Latch Worker does. The benchmark
// compares the Go Worker against this floor. Not part of Latch; see
// edge/bench/main.go.
//
// It takes {session_jwt} in place of {session_token} as the engine does
// (wasm/engine/jwt.go readJWT): the header must be the one the engine
// writes, the RS256 signature is checked with WebCrypto against the
// signing key's public half, the issuer and audience must be the
// project's, and the session is then read by its id (the JWT's expiry is
// not checked: the session's row decides) and must be the JWT's subject's.
//
// It answers POST /v1/otps/authenticate {method_id, code,
// session_duration_minutes} too, for a returning user (active, email
// verified) with no session to step up, with the engine's statements in
// the engine's order (wasm/engine/otps.go authenticateOTP): the attempt
// counted, the code used if its HMAC matches and the code's user read as
// one JSON object, in one statement (useOTP, the HMAC with WebCrypto under
// the engine's key), and the session inserted while the user's credentials
// version holds (store.go insertSession); for such a user proveEmail and
// activate issue nothing. See edge/bench/otps.go.
//
// POST /bench/authenticate-cells answers the same call selecting the
// columns as 22 plain cells, the way a JavaScript Worker would naturally
// write it (bench only). POST /bench/setup inserts a user and a session,
// POST /bench/setup-otps users and a code for each (bench only).

const touchInterval = 60;
// The engine's bounds (wasm/engine/sessions.go, otps.go).
const minSessionMinutes = 5;
const maxSessionMinutes = 527040;
const otpAttempts = 5;
const sessionTokenBytes = 33;

const sessionColumns = `s.session_id, s.user_id, s.token_hash, s.started_at, s.last_accessed_at,
	s.expires_at, s.revoked_at IS NOT NULL, s.attributes, s.factors, s.custom_claims, s.version`;
const userColumns = `u.user_id, u.email, u.email_id, u.email_verified, u.first_name, u.middle_name,
	u.last_name, u.trusted_metadata, u.untrusted_metadata, u.created_at, COALESCE(p.password_id, '')`;
// The engine's statement (wasm/engine/store.go, userObject and sessionObject).
const userObject = `json_object('user_id', u.user_id, 'email', u.email, 'email_id', u.email_id,
	'email_verified', json(iif(u.email_verified, 'true', 'false')), 'first_name', u.first_name,
	'middle_name', u.middle_name, 'last_name', u.last_name, 'trusted_metadata', u.trusted_metadata,
	'untrusted_metadata', u.untrusted_metadata, 'created_at', u.created_at,
	'password_id', COALESCE(p.password_id, ''), 'status', u.status, 'credentials_version', u.credentials_version,
	'totps', json((SELECT json_group_array(json_object('totp_id', t.totp_id, 'verified', json('true')))
		FROM totps t WHERE t.user_id = u.user_id AND t.verified = 1)),
	'providers', json((SELECT json_group_array(json_object('oauth_user_registration_id', r.registration_id,
		'profile_picture_url', r.profile_picture_url, 'locale', r.locale, 'provider_subject', r.subject,
		'provider_type', r.provider)) FROM oauth_registrations r WHERE r.user_id = u.user_id)),
	'webauthn_registrations', json((SELECT json_group_array(json_object('webauthn_registration_id', w.registration_id,
		'domain', w.domain, 'user_agent', w.user_agent, 'verified', json('true'), 'authenticator_type', w.authenticator_type,
		'name', w.name)) FROM (SELECT * FROM webauthn_registrations WHERE user_id = u.user_id ORDER BY created_at, registration_id) w)))`;
const sessionObject = `json_object('session_id', s.session_id, 'user_id', s.user_id,
	'started_at', s.started_at, 'last_accessed_at', s.last_accessed_at, 'expires_at', s.expires_at,
	'revoked', json(iif(s.revoked_at IS NULL, 'false', 'true')), 'attributes', json(s.attributes),
	'factors', json(s.factors), 'custom_claims', json(s.custom_claims), 'version', s.version,
	'credentials_version', s.credentials_version)`;

let signer; // { kid, key } imported once per isolate
let otpKey; // the HMAC key of one-time codes, derived once per isolate
const enc = new TextEncoder();
const dec = new TextDecoder();

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (!authorized(request, env)) {
      return fail(401, "unauthorized_credentials", "Unauthorized credentials.");
    }
    if (request.method === "POST" && url.pathname === "/v1/sessions/authenticate") {
      return authenticate(request, env, loadAsObject);
    }
    if (request.method === "POST" && url.pathname === "/bench/authenticate-cells") {
      return authenticate(request, env, loadAsCells);
    }
    if (request.method === "POST" && url.pathname === "/v1/otps/authenticate") {
      return authenticateOTP(request, env);
    }
    if (request.method === "POST" && url.pathname === "/bench/setup") {
      return setup(request, env);
    }
    if (request.method === "POST" && url.pathname === "/bench/setup-otps") {
      return setupOTPs(request, env);
    }
    return fail(404, "not_found", "No such endpoint.");
  },
};

function authorized(request, env) {
  const h = request.headers.get("Authorization") || "";
  if (!h.startsWith("Basic ")) return false;
  let pair;
  try {
    pair = atob(h.slice(6));
  } catch {
    return false;
  }
  const want = `${env.LATCH_PROJECT_ID}:${env.LATCH_PROJECT_SECRET}`;
  if (pair.length !== want.length) return false;
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff |= pair.charCodeAt(i) ^ want.charCodeAt(i);
  return diff === 0;
}

// loadAsObject reads the session and its user with the engine's statement,
// by column: "token_hash" or "session_id".
async function loadAsObject(env, column, value) {
  const rows = await env.DB.prepare(
    `SELECT json_object('s', ${sessionObject}, 'u', ${userObject})
		FROM sessions s JOIN users u ON u.user_id = s.user_id
		LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE s.${column} = ?`,
  )
    .bind(value)
    .raw();
  if (rows.length === 0) return null;
  const { s, u } = JSON.parse(rows[0][0]);
  return {
    sid: s.session_id, uid: s.user_id, started: s.started_at, lastAccessed: s.last_accessed_at,
    expires: s.expires_at, revoked: s.revoked, attrs: s.attributes, factors: s.factors, claims: s.custom_claims,
    u: [u.user_id, u.email, u.email_id, u.email_verified, u.first_name, u.middle_name, u.last_name,
      JSON.parse(u.trusted_metadata), JSON.parse(u.untrusted_metadata), u.created_at, u.password_id],
  };
}

// loadAsCells reads the same columns as 22 plain cells.
async function loadAsCells(env, column, value) {
  const rows = await env.DB.prepare(
    `SELECT ${sessionColumns}, ${userColumns}
		FROM sessions s JOIN users u ON u.user_id = s.user_id
		LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE s.${column} = ?`,
  )
    .bind(value)
    .raw();
  if (rows.length === 0) return null;
  const [sid, uid, , started, lastAccessed, expires, revoked, attrs, factors, claims, , ...u] = rows[0];
  u[3] = u[3] === 1;
  u[7] = JSON.parse(u[7]);
  u[8] = JSON.parse(u[8]);
  return {
    sid, uid, started, lastAccessed, expires, revoked: revoked === 1,
    attrs: JSON.parse(attrs), factors: JSON.parse(factors), claims: JSON.parse(claims), u,
  };
}

async function authenticate(request, env, load) {
  let body;
  try {
    body = await request.json();
  } catch {
    return fail(400, "bad_request", "The request body is not valid JSON.");
  }
  let token = body.session_token;
  let row;
  if (token === undefined && typeof body.session_jwt === "string") {
    const ref = await readJWT(env, body.session_jwt);
    if (ref === null) return fail(404, "session_not_found", "Session could not be found.");
    row = await load(env, "session_id", ref.sid);
    if (row !== null && row.uid !== ref.sub) row = null;
    token = "";
  } else {
    if (typeof token !== "string" || token.length !== 44) {
      return fail(400, "invalid_session_token", "session_token is malformed.");
    }
    row = await load(env, "token_hash", hex(await crypto.subtle.digest("SHA-256", enc.encode(token))));
  }
  const now = Math.floor(Date.now() / 1000);
  if (row === null) return fail(404, "session_not_found", "Session could not be found.");
  const { sid, uid, started, lastAccessed, expires, revoked, attrs, factors, claims, u } = row;
  if (revoked || expires <= now) return fail(404, "session_not_found", "Session could not be found.");
  let last = lastAccessed;
  if (now - lastAccessed >= touchInterval) {
    await env.DB.prepare(`UPDATE sessions SET last_accessed_at = ?
		WHERE session_id = ? AND last_accessed_at < ?`)
      .bind(now, sid, now)
      .run();
    last = now;
  }
  const session = {
    session_id: sid,
    user_id: uid,
    started_at: stamp(started),
    last_accessed_at: stamp(last),
    expires_at: stamp(expires),
    attributes: attrs,
    authentication_factors: factors,
    custom_claims: claims,
    roles: ["stytch_user"],
  };
  const jwt = await mintJWT(env, session, now);
  const user = {
    user_id: u[0],
    emails: [{ email_id: u[2], email: u[1], verified: u[3] }],
    status: "active",
    name: { first_name: u[4], middle_name: u[5], last_name: u[6] },
    created_at: stamp(u[9]),
    password: u[10] ? { password_id: u[10], requires_reset: false } : null,
    trusted_metadata: u[7],
    untrusted_metadata: u[8],
    phone_numbers: [], providers: [], totps: [], webauthn_registrations: [],
    crypto_wallets: [], biometric_registrations: [], roles: [], is_locked: false,
  };
  return reply({ session, session_token: token, session_jwt: jwt, user });
}

// mintJWT signs the session JWT. factors are its authentication factors,
// the session's by default (the engine leaves out created_at and
// updated_at; the code login passes them so).
async function mintJWT(env, session, now, factors = session.authentication_factors) {
  const s = await signerFor(env);
  const exp = Math.min(now + 300, Date.parse(session.expires_at) / 1000);
  const header = { alg: "RS256", typ: "JWT", kid: s.kid };
  const claims = {
    ...session.custom_claims,
    iss: `stytch.com/${env.LATCH_PROJECT_ID}`,
    aud: [env.LATCH_PROJECT_ID],
    sub: session.user_id,
    iat: now,
    nbf: now,
    exp,
    "https://stytch.com/session": {
      id: session.session_id,
      started_at: session.started_at,
      last_accessed_at: session.last_accessed_at,
      expires_at: session.expires_at,
      attributes: session.attributes,
      authentication_factors: factors,
      roles: session.roles,
    },
  };
  const input = b64url(enc.encode(JSON.stringify(header))) + "." + b64url(enc.encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", s.key, enc.encode(input));
  return input + "." + b64url(new Uint8Array(sig));
}

async function signerFor(env) {
  if (signer === undefined) {
    const k = JSON.parse(env.LATCH_SIGNING_KEYS).keys[0];
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: "RSA", alg: "RS256", n: k.n, e: k.e, d: k.d, p: k.p, q: k.q, dp: k.dp, dq: k.dq, qi: k.qi },
      alg,
      false,
      ["sign"],
    );
    const pub = await crypto.subtle.importKey("jwk", { kty: "RSA", alg: "RS256", n: k.n, e: k.e }, alg, false, ["verify"]);
    signer = { kid: k.kid, key, pub };
  }
  return signer;
}

// readJWT checks a session JWT as the engine's readJWT does and returns
// its session id and subject, or null.
async function readJWT(env, jwt) {
  const parts = jwt.split(".");
  if (parts.length !== 3) return null;
  const s = await signerFor(env);
  let header, claims;
  try {
    header = JSON.parse(dec.decode(b64urlBytes(parts[0])));
  } catch {
    return null;
  }
  if (header === null || header.alg !== "RS256" || header.typ !== "JWT" || header.kid !== s.kid) return null;
  const input = enc.encode(parts[0] + "." + parts[1]);
  if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", s.pub, b64urlBytes(parts[2]), input))) return null;
  try {
    claims = JSON.parse(dec.decode(b64urlBytes(parts[1])));
  } catch {
    return null;
  }
  const info = claims && claims["https://stytch.com/session"];
  if (claims === null || claims.iss !== `stytch.com/${env.LATCH_PROJECT_ID}` || !Array.isArray(claims.aud) ||
      claims.aud.length !== 1 || claims.aud[0] !== env.LATCH_PROJECT_ID || typeof claims.sub !== "string" ||
      claims.sub === "" || info === null || typeof info !== "object" || typeof info.id !== "string" || info.id === "") {
    return null;
  }
  return { sid: info.id, sub: claims.sub };
}

function b64urlBytes(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// authenticateOTP is POST /v1/otps/authenticate for a returning user; see
// the top of the file.
async function authenticateOTP(request, env) {
  let body;
  try {
    body = await request.json();
  } catch {
    return fail(400, "bad_request", "The request body is not valid JSON.");
  }
  const { method_id: emailID, code, session_duration_minutes: minutes } = body;
  const prefix = `email-${envOf(env)}-`;
  if (typeof emailID !== "string" || !emailID.startsWith(prefix) || emailID.length !== prefix.length + 36) {
    return fail(400, "invalid_method_id", "method_id is malformed.");
  }
  if (typeof code !== "string" || !/^[0-9]{6}$/.test(code)) {
    return fail(400, "invalid_code", "code must be 6 digits.");
  }
  if (!Number.isInteger(minutes) || minutes < minSessionMinutes || minutes > maxSessionMinutes) {
    return fail(400, "invalid_session_duration_minutes",
      `session_duration_minutes must be between ${minSessionMinutes} and ${maxSessionMinutes}.`);
  }
  const now = Math.floor(Date.now() / 1000);
  const used = await env.DB.prepare(`UPDATE email_otps SET attempts = attempts + 1,
		used_at = CASE WHEN code_hash = ? THEN ? END
		WHERE email_id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ? AND (? = '' OR user_id = ?)
		RETURNING used_at IS NOT NULL, CASE WHEN used_at IS NOT NULL THEN (SELECT ${userObject}
			FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE u.user_id = email_otps.user_id) END`)
    .bind(await otpHash(env, emailID, code), now, emailID, now, otpAttempts, "", "")
    .raw();
  if (used.length === 0 || (used[0][0] === 1 && used[0][1] === null)) {
    // The engine asks why (whyNoOTP); the bench never gets here.
    return fail(404, "otp_code_not_found", "The code could not be found: it was never sent, was used or has expired.");
  }
  if (used[0][0] !== 1) return otpWrong();
  const u = JSON.parse(used[0][1]);
  if (!u.email_verified || u.status !== "active") {
    // The engine would verify the email or activate the user here, with
    // statements of its own.
    return fail(500, "internal_server_error", "The baseline logs in active users with a verified email only.");
  }
  const token = b64url(crypto.getRandomValues(new Uint8Array(sessionTokenBytes)));
  const at = stamp(now);
  const email_factor = { email_id: u.email_id, email_address: u.email };
  const factor = {
    type: "otp", delivery_method: "email", created_at: at, updated_at: at, last_authenticated_at: at, email_factor,
  };
  const session = {
    attributes: { ip_address: "", user_agent: "" },
    authentication_factors: [factor],
    custom_claims: {},
    expires_at: stamp(now + minutes * 60),
    last_accessed_at: at,
    roles: ["stytch_user"],
    session_id: `session-${envOf(env)}-${crypto.randomUUID()}`,
    started_at: at,
    user_id: u.user_id,
  };
  const inserted = await env.DB.prepare(`INSERT INTO sessions (session_id, user_id, token_hash,
		started_at, last_accessed_at, expires_at, attributes, factors, custom_claims, version, credentials_version)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?
		WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ? AND credentials_version = ?)`)
    .bind(
      session.session_id, u.user_id, hex(await crypto.subtle.digest("SHA-256", enc.encode(token))),
      now, now, now + minutes * 60, JSON.stringify(session.attributes), JSON.stringify(session.authentication_factors),
      JSON.stringify(session.custom_claims), u.credentials_version, u.user_id, u.credentials_version,
    )
    .run();
  if (inserted.meta.changes !== 1) {
    return fail(409, "credentials_changed", "The user's credentials changed while this request ran; it started no session. Try again.");
  }
  const jwt = await mintJWT(env, session, now, [
    { type: "otp", delivery_method: "email", last_authenticated_at: at, email_factor },
  ]);
  return reply({
    method_id: emailID, reset_sessions: false, session, session_jwt: jwt, session_token: token,
    user: userView(u), user_id: u.user_id,
  });
}

function otpWrong() {
  return fail(401, "unable_to_auth_otp_code", "The code is incorrect, or too many wrong codes were tried.");
}

// otpHash is the engine's: HMAC-SHA256 of the email id, a zero byte and
// the code, keyed with SHA-256 of a fixed label and the project secret.
async function otpHash(env, emailID, code) {
  if (otpKey === undefined) {
    const raw = await crypto.subtle.digest("SHA-256", enc.encode("latch one-time code key\0" + env.LATCH_PROJECT_SECRET));
    otpKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }
  return hex(await crypto.subtle.sign("HMAC", otpKey, enc.encode(emailID + "\0" + code)));
}

// userView is the user object of API.md from the store's user object
// (userObject), as the engine renders it.
function userView(u) {
  return {
    biometric_registrations: [],
    created_at: stamp(u.created_at),
    crypto_wallets: [],
    emails: u.email ? [{ email: u.email, email_id: u.email_id, verified: u.email_verified }] : [],
    is_locked: false,
    name: { first_name: u.first_name, last_name: u.last_name, middle_name: u.middle_name },
    password: u.password_id ? { password_id: u.password_id, requires_reset: false } : null,
    phone_numbers: [],
    providers: u.providers,
    roles: ["stytch_user"],
    status: u.status,
    totps: u.totps,
    trusted_metadata: JSON.parse(u.trusted_metadata),
    untrusted_metadata: JSON.parse(u.untrusted_metadata),
    user_id: u.user_id,
    webauthn_registrations: u.webauthn_registrations,
  };
}

// envOf is the env of the project's ids, as the engine's EnvOf has it.
function envOf(env) {
  return env.LATCH_PROJECT_ID.startsWith("project-live-") ? "live" : "test";
}

async function setup(request, env) {
  const b = await request.json();
  const now = Math.floor(Date.now() / 1000);
  await env.DB.batch([
    env.DB.prepare(`INSERT INTO users (user_id, email, email_id, email_verified,
		first_name, middle_name, last_name, trusted_metadata, untrusted_metadata, created_at)
		VALUES (?, ?, ?, 1, '', '', '', '{}', '{}', ?)`).bind(b.user_id, b.email, b.email_id, now),
    env.DB.prepare(`INSERT INTO sessions (session_id, user_id, token_hash,
		started_at, last_accessed_at, expires_at, attributes, factors, custom_claims, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', 1)`).bind(
      b.session_id, b.user_id, hex(await crypto.subtle.digest("SHA-256", enc.encode(b.session_token))),
      now, now, now + 3600, JSON.stringify({ ip_address: "", user_agent: "" }), JSON.stringify(b.factors),
    ),
  ]);
  return reply({});
}

// setupOTPs inserts, for each of codes, an active user with a verified
// email and a live code for that email, hashed by the bench as the engine
// hashes a code (code_hash), valid until expires_at.
async function setupOTPs(request, env) {
  const { codes, expires_at } = await request.json();
  const now = Math.floor(Date.now() / 1000);
  const statements = [];
  for (const c of codes) {
    statements.push(
      env.DB.prepare(`INSERT INTO users (user_id, email, email_id, email_verified,
		first_name, middle_name, last_name, trusted_metadata, untrusted_metadata, created_at, status)
		VALUES (?, ?, ?, 1, '', '', '', '{}', '{}', ?, 'active')`).bind(c.user_id, c.email, c.email_id, now),
      env.DB.prepare(`INSERT INTO email_otps (email_id, user_id, code_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`).bind(c.email_id, c.user_id, c.code_hash, now, expires_at),
    );
  }
  await env.DB.batch(statements);
  return reply({});
}

function stamp(sec) {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function reply(fields) {
  return Response.json(
    { ...fields, status_code: 200, request_id: `request-id-test-${crypto.randomUUID()}` },
    { headers: { "Cache-Control": "no-store" } },
  );
}

function fail(status, type, message) {
  return Response.json(
    {
      status_code: status,
      request_id: `request-id-test-${crypto.randomUUID()}`,
      error_type: type,
      error_message: message,
      error_url: `https://stytch.com/docs/api/errors/${status}#${type}`,
    },
    { status, headers: { "Cache-Control": "no-store" } },
  );
}

// Package wire is the framing between the wazero host (testharness) and the
// wasip1 build of the engine (wasm/guest). Both sides encode and decode with
// this one package, so the format is written down once.
//
// Wire is Latch's implementation, not API: it may change in any release,
// and a guest and a host speak it only when built from the same sources.
// It is not under internal/ because its two users, wasm/guest and
// testharness, share no directory below the module root.
//
// # Frames
//
// A frame is one kind byte followed by fields. Integers are little-endian.
// A byte string is a u32 length followed by that many bytes. Every length is
// checked against the bytes that remain and against a per-field limit before
// anything is allocated, so a malformed or hostile frame yields an error
// wrapping ErrFrame, never a panic or an outsized allocation. Trailing bytes
// after the last field are an error. No frame may exceed MaxFrame.
//
//	'C' Config    project_id, secret, key_id, u32 n, n × (kid, n, e,    host → guest
//	              i64 retired_at), u8 mail (0 | 1), mail_from,
//	              project_name, u32 n, n × redirect_url,
//	              u32 n, n × (kind, subject, text, html),
//	              u8 secret_box (0 | 1), u8 fetch (0 | 1),
//	              oauth_providers (≤ 64 KiB), public_token, base_url
//	'Q' Request   method, target, remote_addr, u32 n, n × (name, value), body
//	'R' Response  u32 status, u32 n, n × (name, value), body              guest → host
//	'S' Stmt      u8 op ('q' query | 'x' exec), sql, u32 n, n × value   guest → host
//	'T' Result    u32 ncol, ncol × name, u32 nrow, nrow × ncol × value,
//	              i64 rows_affected, i64 last_insert_id                 host → guest
//	'G' Sign      key_id, input                                         guest → host
//	'g' Signature signature                                             host → guest
//	'M' Mail      from, to, subject, text, html, kind                   guest → host
//	'B' Seal      plaintext (≤ MaxPlaintext)                            guest → host
//	'b' Sealed    sealed (≤ MaxSealed)                                  host → guest
//	'O' Open      sealed (≤ MaxSealed)                                  guest → host
//	'o' Opened    plaintext (≤ MaxPlaintext)                            host → guest
//	'V' Revoked   (no fields)                                           guest → host
//	'F' Fetch     method, url, u32 n, n × (name, value), body           guest → host
//	'f' Fetched   u32 status, u32 n, n × (name, value), body            host → guest
//	'K' OK        (no fields)                                           either way
//	'E' Error     message                                               either way
//
// A value is a tag byte and its payload: 0 NULL, 1 int64 (8 bytes),
// 2 float64 (IEEE 754 bits, 8 bytes), 3 text (byte string), 4 blob (byte
// string). These are the SQLite storage classes.
//
// The host answers a Mail frame with 'K' once its transport has delivered
// the message, or with 'E' and the reason; the guest never learns which
// transport carried it, nor any of its credentials.
//
// The host answers a Seal frame with the value sealed under its secret box
// key, and an Open frame with the plaintext, or with 'E' when the value
// does not open with that key (tampered, truncated, or sealed under
// another). The key itself never crosses: the Config frame says only
// whether the host has one.
//
// The guest sends a Revoked frame after sessions have ended early (its
// engine's Config.Revoked), once the end is stored. The host answers 'K'
// at once, before any work of its own, and wakes the revocation feed
// reads it holds (testharness/internal/feedwait); the frame names no
// session, as the woken reads find the events in the store.
//
// The guest sends a Fetch frame for each outbound request of its engine
// (oauth.Fetcher: a provider's discovery document, token endpoint, keys,
// user endpoint), and only when the Config frame's fetch flag says the
// host makes them. The host makes the request as its own oauth.Fetcher
// does — no redirect followed, a time limit, refused schemes other than
// http and https — and answers with a Fetched frame, or with 'E' and the
// reason it got no answer. Either frame carries at most MaxHeaders
// header lines, 64 KiB of header names and values, and a body of at
// most oauth.MaxResponseBody; a larger answer is an 'E'. The Config
// frame carries the providers document whole, client secrets included:
// the engine in the guest talks to the providers itself, through the
// host.
//
// An 'E' frame may stand in for any answer. Parsers of an answer kind
// return it as a *RemoteError, whose message is the peer's text verbatim
// (SQLite's "UNIQUE constraint failed: …" reaches the engine unchanged).
//
// # Memory hand-over
//
// The guest exports three functions:
//
//	buffer(size u32) -> ptr u32     grow the guest's input buffer to size
//	                                bytes (0 if size > MaxFrame) and return it
//	configure(n u32) -> packed u64  read a Config frame from the first n
//	                                bytes of the input buffer; answer 'K' or 'E'
//	handle(n u32) -> packed u64     read a Request frame likewise; answer
//	                                'R' or 'E'
//
// The host writes a frame into the buffer and passes only its length; the
// guest never dereferences a pointer chosen by the host. An answer is packed
// as ptr<<32 | len and stays valid until the next call into the guest.
//
// The guest imports two functions from module "latch":
//
//	call(in ptr, in len, out ptr, out cap u32) -> n u32
//	result(out ptr, out cap u32) -> n u32
//
// call hands the host a Stmt, Sign, Mail, Seal, Open, Revoked or Fetch frame and returns
// the length n of the answer. When n <= cap the answer is already in out; otherwise the host
// keeps it and the guest, after growing a buffer to n bytes, fetches it with
// result. The host keeps at most one pending answer per guest instance and
// drops it at the next call.
package wire

// The Stytch Node backend SDK (npm package "stytch", pinned in
// package.json) pointed at Latch, for the scripts beside this file, which
// edge/internal/e2e runs with runStytchNode (stytchnode.go).
//
// Environment:
//   STYTCH_BASE_URL    where Latch answers, e.g. http://127.0.0.1:8787
//   STYTCH_PROJECT_ID  the project id
//   STYTCH_SECRET      the project secret
//
// A script prints one JSON object on stdout and exits 0 when the call
// succeeded; when the SDK throws a StytchError (Latch answered a
// Stytch-shaped error, which the SDK parsed) it prints
// {"stytch_error": {status_code, request_id, error_type, error_message,
// error_url}} and exits 3; any other failure (the SDK could not reach or
// read Latch, an expectation not met) prints {"failure": "why"} and exits
// 1; a usage error exits 2.
import stytch from "stytch";

export const exitStytchError = 3;

// env returns the environment variable name, or exits 2 when it is unset
// and required.
export function env(name, required = true) {
  const v = process.env[name];
  if ((v === undefined || v === "") && required) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v ?? "";
}

// clientFromEnv returns a stytch.Client for the project at
// STYTCH_BASE_URL. The SDK takes another base URL as custom_base_url,
// which it accepts only over https; a Latch on http (wrangler dev,
// latch-local, on loopback) is given as env instead, which the SDK uses as
// its base URL too, after a warning on stderr.
export function clientFromEnv() {
  const base = env("STYTCH_BASE_URL").replace(/\/*$/, "/");
  const config = { project_id: env("STYTCH_PROJECT_ID"), secret: env("STYTCH_SECRET") };
  if (base.startsWith("https://")) {
    config.custom_base_url = base;
  } else {
    config.env = base;
  }
  return new stytch.Client(config);
}

// report runs call, prints what it resolves with through summarize as
// JSON, and exits as the header of this file says.
export async function report(call, summarize = (r) => r) {
  let res;
  try {
    res = await call();
  } catch (err) {
    if (err instanceof stytch.StytchError) {
      const { status_code, request_id, error_type, error_message, error_url } = err;
      print({ stytch_error: { status_code, request_id, error_type, error_message, error_url } });
      process.exit(exitStytchError);
    }
    fail(`${err?.constructor?.name ?? "Error"}: ${err?.message ?? err}`);
  }
  print(summarize(res));
}

// fail prints why the script failed and exits 1.
export function fail(why) {
  print({ failure: why });
  process.exit(1);
}

function print(v) {
  process.stdout.write(JSON.stringify(v) + "\n");
}

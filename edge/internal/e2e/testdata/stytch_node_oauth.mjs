// Redeems an OAuth token with the Stytch Node SDK's oauth.authenticate,
// as an app's login backend does after the browser came back from the
// provider, and prints what the SDK gave back (see stytch_node_client.mjs
// for the environment it needs beside these, and how it answers):
//
//   STYTCH_OAUTH_TOKEN        the token of the redirect (required)
//   STYTCH_CODE_VERIFIER      the PKCE code_verifier, when the start had a
//                             code_challenge
//   STYTCH_SESSION_MINUTES    session_duration_minutes (30 when unset)
//   EXPECT_USER_ID, EXPECT_PROVIDER_TYPE, EXPECT_PROVIDER_SUBJECT
//                             when set, the answer must have these
//
// It prints {status_code, request_id, user_id, provider_type,
// provider_subject, oauth_user_registration_id, reset_sessions,
// session_token_present, session_jwt_present, user_session_id,
// session_present, user_id_of_user, user_providers, provider_values_keys}.
import { clientFromEnv, env, fail, report } from "./stytch_node_client.mjs";

const client = clientFromEnv();
const request = {
  token: env("STYTCH_OAUTH_TOKEN"),
  session_duration_minutes: Number(env("STYTCH_SESSION_MINUTES", false) || "30"),
};
const verifier = env("STYTCH_CODE_VERIFIER", false);
if (verifier !== "") {
  request.code_verifier = verifier;
}

await report(
  () => client.oauth.authenticate(request),
  (r) => {
    const got = {
      status_code: r.status_code,
      request_id: r.request_id,
      user_id: r.user_id,
      provider_type: r.provider_type,
      provider_subject: r.provider_subject,
      oauth_user_registration_id: r.oauth_user_registration_id,
      reset_sessions: r.reset_sessions,
      session_token_present: typeof r.session_token === "string" && r.session_token !== "",
      session_jwt_present: typeof r.session_jwt === "string" && r.session_jwt !== "",
      user_session_id: r.user_session?.session_id ?? null,
      session_present: r.session !== undefined,
      user_id_of_user: r.user?.user_id ?? null,
      user_providers: Array.isArray(r.user?.providers) ? r.user.providers.length : null,
      provider_values_keys: Object.keys(r.provider_values ?? {}).sort(),
    };
    for (const [name, field] of [
      ["EXPECT_USER_ID", "user_id"],
      ["EXPECT_PROVIDER_TYPE", "provider_type"],
      ["EXPECT_PROVIDER_SUBJECT", "provider_subject"],
    ]) {
      const want = env(name, false);
      if (want !== "" && got[field] !== want) {
        fail(`${field} is ${JSON.stringify(got[field])}, want ${JSON.stringify(want)} (answer: ${JSON.stringify(got)})`);
      }
    }
    return got;
  },
);

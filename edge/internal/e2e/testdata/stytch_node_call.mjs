// Calls one method of the Stytch Node SDK's client and prints the whole
// answer as the SDK returned it (see stytch_node_client.mjs for the
// environment it needs beside these, and how it answers):
//
//   STYTCH_METHOD  the method, e.g. users.get or sessions.authenticate
//   STYTCH_ARGS    its argument, a JSON object ({} when unset)
import { clientFromEnv, env, fail, report } from "./stytch_node_client.mjs";

const client = clientFromEnv();
const path = env("STYTCH_METHOD").split(".");
let target = client;
for (const name of path.slice(0, -1)) {
  target = target?.[name];
}
const method = target?.[path[path.length - 1]];
if (typeof method !== "function") {
  fail(`the Stytch client has no method ${path.join(".")}`);
}
let args;
try {
  args = JSON.parse(env("STYTCH_ARGS", false) || "{}");
} catch (err) {
  fail(`STYTCH_ARGS is not JSON: ${err.message}`);
}

await report(() => method.call(target, args));

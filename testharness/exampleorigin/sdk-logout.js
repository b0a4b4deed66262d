// The example origin's sign-out for a session of Stytch's frontend SDK
// (served as /sdk-logout.js): the SDK revokes the session with Latch and
// removes its cookies, then the visitor is back at /sdk-login. The page's
// #sdk element carries the settings (see sdk.go).
'use strict';

(() => {
  const settings = document.getElementById('sdk').dataset;
  // The SDK writes its session cookie from JavaScript; the hosted login
  // page's is HttpOnly, out of the SDK's reach. Without one a script can
  // read, the session is the login page's, and its own sign-out ends it.
  const sdkCookie = () => document.cookie.split('; ').some((c) => c.startsWith('stytch_session='));
  if (!sdkCookie()) {
    location.replace(settings.logoutUrl);
    return;
  }
  const client = new stytch.StytchUIClient(settings.publicToken, {
    endpoints: {
      testAPIURL: settings.latchUrl,
      liveAPIURL: settings.latchUrl,
      clientsideServicesIframeURL: settings.frameUrl,
    },
  });
  const button = document.getElementById('logout-submit');
  const status = document.getElementById('status');
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = 'Signing out…';
    try {
      await client.session.revoke();
    } catch (e) {
      // When Latch no longer knows the session the SDK removes its
      // cookies and the visitor is signed out; another failure (Latch
      // unreachable) leaves them, to try again.
      if (sdkCookie()) {
        status.textContent = 'Signing out failed, try again: ' + (e.error_message || e.message);
        button.disabled = false;
        return;
      }
    }
    location.replace('/sdk-login');
  });
  button.disabled = false;
})();

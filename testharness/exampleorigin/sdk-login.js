// The example origin's sign-in with Stytch's frontend SDK (served as
// /sdk-login.js): the SDK's prebuilt login UI, by emailed code, the SDK
// pointed at Latch. The page's #sdk element carries the settings (see
// sdk.go).
'use strict';

(() => {
  const settings = document.getElementById('sdk').dataset;
  const client = new stytch.StytchUIClient(settings.publicToken, {
    endpoints: {
      testAPIURL: settings.latchUrl,
      liveAPIURL: settings.latchUrl,
      clientsideServicesIframeURL: settings.frameUrl,
    },
  });
  // Once the SDK holds a session, just signed in or still signed in from
  // before (on load the SDK checks its cookie with Latch), its cookies are
  // written: the app's page shows who is signed in.
  client.session.onChange((session) => {
    if (session) location.replace('/');
  });
  const args = {
    client,
    elementId: '#login',
    config: {
      products: [stytch.Products.otp],
      otpOptions: {methods: ['email'], expirationMinutes: 5},
      sessionOptions: {sessionDurationMinutes: 60},
    },
  };
  // The SDK's first mountLogin (6.3.0) appends the UI without its
  // settings and so shows nothing; render gives them.
  stytch.mountLogin(args).render(args);
})();

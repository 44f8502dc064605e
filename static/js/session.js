// The page follows its server-side session: when the live socket reports that the session
// ended (close code 1008, reason = why), or when the idle limit passes with no request from
// this page, it wipes the patient data it shows and goes to the sign-in page saying why.
(() => {
  const meta = document.querySelector('meta[name="session-idle-seconds"]');
  if (!meta) {
    return;
  }
  const SESSION_ENDED = 1008;
  const idleMs = Number(meta.content) * 1000;
  let left = false;

  const clearPatientData = () => {
    document.querySelectorAll("[ws-connect]").forEach((el) => el.removeAttribute("ws-connect"));
    const main = document.getElementById("main");
    if (main) {
      main.replaceChildren();
    }
  };

  const leave = (reason) => {
    if (left) {
      return;
    }
    left = true;
    clearPatientData();
    window.location.replace("/login?ended=" + encodeURIComponent(reason));
  };

  const signOutIdle = () => {
    const form = document.querySelector('form[action$="/logout"]');
    if (!form) {
      leave("idle");
      return;
    }
    const body = new FormData(form);
    clearPatientData();
    fetch(form.action, { method: "POST", body, credentials: "same-origin", redirect: "manual" })
      .catch(() => undefined)
      .finally(() => leave("idle"));
  };

  let timer = window.setTimeout(signOutIdle, idleMs);
  // Only requests are activity (the server counts them too); socket pushes are not.
  document.addEventListener("htmx:afterRequest", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(signOutIdle, idleMs);
  });

  document.addEventListener("htmx:wsClose", (event) => {
    const close = event.detail.event;
    if (close && close.code === SESSION_ENDED) {
      leave(close.reason || "signed_out");
    }
  });
})();

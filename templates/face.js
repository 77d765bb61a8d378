// eidp face step: the browser half. Shows the camera (getUserMedia), takes one frame when
// asked, and sends it as a JPEG with the page's CSRF token. Nothing is kept in the page: the
// canvas is cleared once the frame is encoded, and the camera is stopped when the step is done.
// No framework, no inline code (the pages' CSP allows only files from this origin).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);

  document.addEventListener("DOMContentLoaded", () => {
    const box = $("face-step");
    if (!box) return;
    let words = {};
    try { words = JSON.parse(box.dataset.messages || "{}"); } catch (_) { /* defaults below */ }
    const video = $("face-video"), canvas = $("face-canvas");
    const start = $("face-start"), capture = $("face-capture");
    const error = $("face-error"), status = $("face-status");
    let stream = null;

    const fail = (text) => { error.hidden = false; error.textContent = text || words.failed || "Error"; };
    const stop = () => { if (stream) stream.getTracks().forEach((t) => t.stop()); stream = null; };

    // The browser's reasons, in the page's words.
    const cameraError = (e) => ({
      NotAllowedError: words.denied, SecurityError: words.denied, PermissionDeniedError: words.denied,
      NotFoundError: words.missing, OverconstrainedError: words.missing, DevicesNotFoundError: words.missing,
      NotReadableError: words.busy, TrackStartError: words.busy,
    }[e && e.name] || words.missing);

    start.addEventListener("click", async () => {
      error.hidden = true;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return fail(words.unsupported);
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
        });
      } catch (e) {
        return fail(cameraError(e));
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play().catch(() => {});
      start.hidden = true;
      capture.hidden = false;
      capture.focus();
    });

    const frame = () => new Promise((resolve) => {
      const w = video.videoWidth || 320, h = video.videoHeight || 240;
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(video, 0, 0, w, h);
      canvas.toBlob((blob) => { ctx.clearRect(0, 0, w, h); resolve(blob); }, "image/jpeg", 0.9);
    });

    capture.addEventListener("click", async () => {
      error.hidden = true;
      const blob = await frame();
      if (!blob) return fail(words.failed);
      capture.disabled = true;
      status.hidden = false;
      status.textContent = words.sending || "…";
      try {
        const r = await fetch("/login/step-up/face?ar=" + encodeURIComponent(box.dataset.ar), {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "image/jpeg", "x-csrf-token": box.dataset.csrf },
          body: blob,
        });
        const j = await r.json().catch(() => ({}));
        if (j.redirect) {
          stop();
          window.location.assign(j.redirect);
          return;
        }
        fail(j.message);
      } catch (_) {
        fail(words.failed);
      } finally {
        capture.disabled = false;
        status.hidden = true;
      }
    });
  });
})();

// Upload forms (form[data-upload], views::components::upload_form): the file goes by
// XMLHttpRequest so that its progress fills the <progress>; the button is disabled and a second
// submit refused until the answer is in; the answer (the desk's page with its result or its
// refusal) then replaces this page. A file over the limit is refused before it is sent. The
// messages come from the form's data-* attributes, in the page's language. Without this
// script the form is a plain form post.
(function () {
  "use strict";
  function setup(form) {
    const button = form.querySelector("button[type=submit]");
    const input = form.querySelector("input[type=file]");
    const box = form.querySelector(".upload-state");
    const bar = box.querySelector("progress");
    const out = box.querySelector("output");
    let busy = false;
    const show = (state, text) => {
      form.dataset.state = state;
      box.hidden = false;
      out.textContent = text;
    };
    const idle = () => {
      busy = false;
      button.disabled = false;
      form.removeAttribute("aria-busy");
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (busy) return; // a second click (or Enter) while the first upload is under way
      const file = input.files && input.files[0];
      if (!file) return;
      const limit = Number(form.dataset.limit || 0);
      if (limit && file.size > limit) {
        bar.hidden = true;
        show("refused", form.dataset.tooLarge);
        return;
      }
      busy = true;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      bar.hidden = false;
      bar.value = 0;
      show("sending", form.dataset.sending);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (p) => {
        if (p.lengthComputable) bar.value = Math.round((p.loaded * 100) / p.total);
      });
      xhr.upload.addEventListener("load", () => {
        bar.removeAttribute("value"); // sent: processing takes as long as it takes
        show("processing", form.dataset.processing);
      });
      xhr.addEventListener("load", () => {
        bar.value = 100;
        show("done", form.dataset.done);
        // A redirect (an import job's page, or the desk page with its message): open it.
        if (xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
          return;
        }
        // The desk's page with the result, or the refusal naming what went wrong: only our own
        // HTML page is shown; anything else (a proxy's error, plain text) reads as a failure.
        const type = xhr.getResponseHeader("Content-Type") || "";
        const ours = !xhr.responseURL || new URL(xhr.responseURL).origin === window.location.origin;
        if (!type.startsWith("text/html") || !ours) {
          failed();
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      function failed() {
        bar.hidden = true;
        show("failed", form.dataset.failed);
        idle();
      }
      xhr.addEventListener("error", failed);
      xhr.addEventListener("abort", failed);
      xhr.send(new FormData(form));
    });
  }
  document.querySelectorAll("form[data-upload]").forEach(setup);
})();

// An import job's page (views::imports): reloaded every few seconds while the job is queued or
// running, so its progress bar moves and its result appears; the clerk may also leave and come
// back from the desk's latest imports.
(function () {
  "use strict";
  const job = document.querySelector("[data-import-job][data-refresh]");
  if (job) setTimeout(() => window.location.reload(), Number(job.dataset.refresh) * 1000);
})();

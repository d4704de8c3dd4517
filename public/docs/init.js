// Starts the API reference on /docs (src/routes/docs.ts): Swagger UI, served by this Worker from
// public/docs/vendor/ (scripts/docs-viewer.js copies it from the pinned npm package), reading the
// document named by the page. No call leaves the Worker: the online validator is off, and the
// document's URL comes from the page, never from the address bar.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.url,
  domNode: root,
  deepLinking: true,
  validatorUrl: null,
  queryConfigEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
});

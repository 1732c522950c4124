// Loads the full module of the PWA (trunk builds it as `latchkey-app`, a
// wasm-bindgen "no-modules" script that defines the global `wasm_bindgen`)
// and starts it once `handOver` has taken the first-load module's app off
// the page. The wasm is compiled before the hand-over, so the page is never
// blank while it downloads.
let loading = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}

export function start_full_app(handOver) {
  if (!loading) {
    loading = loadScript("/latchkey-app.js")
      .then(() => fetch("/latchkey-app_bg.wasm"))
      .then((response) => {
        if (!response.ok) throw new Error("could not load the app (" + response.status + ")");
        return WebAssembly.compileStreaming(response);
      })
      .then((module) => {
        handOver();
        // eslint-disable-next-line no-undef
        return wasm_bindgen({ module_or_path: module });
      })
      .catch((e) => {
        loading = null;
        throw e;
      });
  }
  return loading;
}

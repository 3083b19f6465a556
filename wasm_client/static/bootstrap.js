// CoffeeShop.Wasm bootstrap: load the vendored Pyodide, unpack the app, run it.
// Served from the versioned app folder; every path comes from data-* attributes
// the server-rendered shell put on <main id="app"> (read from dist/manifest.json).
// No inline script, no eval of our own: the page runs under a strict CSP.

const root = document.getElementById("app");

function showFailure(message) {
  document.documentElement.classList.remove("is-booting");
  // The loading line may be gone already if Python had started rendering.
  let status = document.getElementById("boot-status");
  if (!status) {
    status = document.createElement("p");
    status.id = "boot-status";
    root.prepend(status);
  }
  status.classList.remove("loading");
  status.classList.add("banner", "banner-bad");
  status.setAttribute("role", "alert");
  status.textContent = message;
  const reload = document.createElement("button");
  reload.type = "button";
  reload.className = "btn";
  reload.textContent = "Reload";
  reload.addEventListener("click", () => window.location.reload());
  status.append(" ", reload);
}

async function boot() {
  const cfg = root.dataset;
  if (typeof WebAssembly !== "object") {
    showFailure("This browser can't run the CoffeeShop app (no WebAssembly support).");
    return;
  }
  const { loadPyodide } = await import(cfg.pyodideModule);
  const [pyodide, archive] = await Promise.all([
    loadPyodide({ indexURL: cfg.pyodideDir, fullStdLib: false }),
    fetch(cfg.appArchive, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`app archive: HTTP ${response.status}`);
      return response.arrayBuffer();
    }),
  ]);
  performance.mark("coffeeshop:pyodide-ready");
  pyodide.unpackArchive(archive, "zip", { extractDir: "/home/pyodide/coffeeshop" });
  await pyodide.runPythonAsync(
    "import sys\n" +
      "sys.path.insert(0, '/home/pyodide/coffeeshop')\n" +
      "from coffeeshop_client import main\n" +
      "await main.start()\n",
  );
  performance.mark("coffeeshop:app-started");
  document.documentElement.classList.remove("is-booting");
}

boot().catch((error) => {
  console.error("CoffeeShop failed to start", error);
  showFailure("Sorry, the app could not start. Check your connection and reload the page.");
});

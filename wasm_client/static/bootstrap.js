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

// Where Python finds the app: the archive is unpacked here (again after a snapshot
// restore, since the file system is not part of the snapshot).
const APP_DIR = "/home/pyodide/coffeeshop";
// The boot snapshot (snapshot-worker.js): one per Pyodide and app version.
const SNAPSHOT_CACHE = "coffeeshop-boot-snapshot";

function snapshotKey(cfg) {
  const pyodideVersion = cfg.pyodideDir.split("/").filter(Boolean).pop();
  return `/boot-snapshot/${pyodideVersion}/${cfg.version}`;
}

function snapshotsPossible(cfg) {
  return Boolean(
    cfg.snapshotWorker &&
      self.caches &&
      typeof CompressionStream === "function" &&
      typeof DecompressionStream === "function" &&
      typeof Worker === "function",
  );
}

async function readSnapshot(key) {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    const hit = await cache.match(key);
    if (!hit) return null;
    const raw = hit.body.pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(raw).arrayBuffer());
  } catch (error) {
    console.warn("CoffeeShop: boot snapshot unreadable, starting Python from scratch", error);
    return null;
  }
}

async function forgetSnapshots() {
  try {
    await caches.delete(SNAPSHOT_CACHE);
  } catch (error) {
    console.warn("CoffeeShop: could not delete the boot snapshot", error);
  }
}

// After a start from scratch, let a worker make the snapshot once the page is idle.
function makeSnapshotLater(cfg, key) {
  const start = () => {
    const worker = new Worker(cfg.snapshotWorker, { type: "module" });
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.ok) performance.mark("coffeeshop:snapshot-stored");
      else console.warn("CoffeeShop: no boot snapshot made:", event.data.error);
    };
    worker.onerror = (event) => {
      worker.terminate();
      console.warn("CoffeeShop: the boot snapshot worker failed:", event.message);
    };
    worker.postMessage({
      pyodideModule: new URL(cfg.pyodideModule, location.href).href,
      pyodideDir: new URL(cfg.pyodideDir, location.href).href,
      appArchive: new URL(cfg.appArchive, location.href).href,
      appDir: APP_DIR,
      cacheName: SNAPSHOT_CACHE,
      key,
    });
  };
  if (typeof requestIdleCallback === "function") requestIdleCallback(start, { timeout: 3000 });
  else setTimeout(start, 1000);
}

async function startPyodide(loadPyodide, cfg, snapshot) {
  const options = { indexURL: cfg.pyodideDir, fullStdLib: false };
  if (snapshot) {
    try {
      const pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot });
      performance.mark("coffeeshop:snapshot-restored");
      return [pyodide, true];
    } catch (error) {
      // Another build of Pyodide, a damaged entry: drop it, boot as usual.
      console.warn("CoffeeShop: boot snapshot refused, starting Python from scratch", error);
      await forgetSnapshots();
    }
  }
  return [await loadPyodide(options), false];
}

async function boot() {
  const cfg = root.dataset;
  if (typeof WebAssembly !== "object") {
    showFailure("This browser can't run the CoffeeShop app (no WebAssembly support).");
    return;
  }
  const snapshots = snapshotsPossible(cfg);
  const key = snapshotKey(cfg);
  const [{ loadPyodide }, snapshot] = await Promise.all([
    import(cfg.pyodideModule),
    snapshots ? readSnapshot(key) : Promise.resolve(null),
  ]);
  const [[pyodide, restored], archive] = await Promise.all([
    startPyodide(loadPyodide, cfg, snapshot),
    fetch(cfg.appArchive, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`app archive: HTTP ${response.status}`);
      return response.arrayBuffer();
    }),
  ]);
  performance.mark("coffeeshop:pyodide-ready");
  pyodide.unpackArchive(archive, "zip", { extractDir: APP_DIR });
  await pyodide.runPythonAsync(
    "import sys\n" +
      `if ${JSON.stringify(APP_DIR)} not in sys.path: sys.path.insert(0, ${JSON.stringify(APP_DIR)})\n` +
      "from coffeeshop_client import main\n" +
      "await main.start()\n",
  );
  performance.mark("coffeeshop:app-started");
  document.documentElement.classList.remove("is-booting");
  if (snapshots && !restored) makeSnapshotLater(cfg, key);
}

boot().catch((error) => {
  console.error("CoffeeShop failed to start", error);
  showFailure("Sorry, the app could not start. Check your connection and reload the page.");
});

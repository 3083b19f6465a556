// CoffeeShop.Wasm boot snapshot, made off the page's thread (issue 16).
//
// A warm reload used to start Python from nothing: about two seconds of interpreter
// start-up and imports before the page could be taken over. After the first start,
// the bootstrap asks this worker to load Pyodide once more (from the HTTP cache),
// import the app's modules *before any of its code runs* (so no person's data, no
// session, no cart is in it), and take a memory snapshot of that interpreter
// (`makeMemorySnapshot`, Pyodide's `_makeSnapshot`/`_loadSnapshot`). The snapshot is
// kept gzipped in the Cache API under a key naming the Pyodide and app versions, and
// every older one is deleted. The next start restores it instead of booting.
// Everything here is best effort: a failure is reported and the page never waits on it.

self.onmessage = async (event) => {
  const { pyodideModule, pyodideDir, appArchive, appDir, cacheName, key } = event.data;
  try {
    const { loadPyodide } = await import(pyodideModule);
    const [pyodide, archive] = await Promise.all([
      loadPyodide({ indexURL: pyodideDir, fullStdLib: false, _makeSnapshot: true }),
      fetch(appArchive, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) throw new Error(`app archive: HTTP ${response.status}`);
        return response.arrayBuffer();
      }),
    ]);
    pyodide.unpackArchive(archive, "zip", { extractDir: appDir });
    pyodide.runPython(
      "import sys\n" +
        `sys.path.insert(0, ${JSON.stringify(appDir)})\n` +
        "from coffeeshop_client import main\n" +
        "main.preload()\n",
    );
    const snapshot = pyodide.makeMemorySnapshot();
    const packed = new Blob([snapshot]).stream().pipeThrough(new CompressionStream("gzip"));
    const cache = await caches.open(cacheName);
    const url = new URL(key, self.location.origin).href;
    await cache.put(
      url,
      new Response(packed, { headers: { "Content-Type": "application/octet-stream" } }),
    );
    for (const request of await cache.keys()) {
      if (request.url !== url) await cache.delete(request);
    }
    self.postMessage({ ok: true, bytes: snapshot.length });
  } catch (error) {
    self.postMessage({ ok: false, error: String(error) });
  }
};

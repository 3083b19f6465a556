"""CoffeeShop.Wasm: the browser app, Python on Pyodide.

Everything here except `browser.py` and `main.py` is plain Python that runs (and is
tested) on CPython 3.11 as well as on Pyodide: state, cart, prices, API calls
given a fetch function, and views rendered to HTML strings. `browser.py` is the
thin DOM layer that plugs those into `js` (fetch, EventSource, the document).
"""

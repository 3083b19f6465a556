"""The app shell of CoffeeShop.Wasm: `GET /` and nothing else."""

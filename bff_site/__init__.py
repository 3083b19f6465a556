"""CoffeeShop.BFF: the only public entry, browser sessions and the API for the web client."""

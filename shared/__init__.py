"""Plain Python shared by every CoffeeShop site: no models, imports no site."""
